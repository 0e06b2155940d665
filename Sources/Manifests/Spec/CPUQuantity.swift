/// CPU in millicores, written the Kubernetes way: `250m`, `0.5`, `2`.
public struct CPUQuantity: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var millicores: Int

    public init(millicores: Int) {
        self.millicores = millicores
    }

    public static func < (lhs: CPUQuantity, rhs: CPUQuantity) -> Bool { lhs.millicores < rhs.millicores }

    /// 1024 cores: more than any node offers.
    static let maximumMillicores = 1_024_000

    private static func tooMany(_ text: String) -> UnitError {
        UnitError("`\(text)` is more CPU than any machine has (the limit is 1024 cores)", fix: "write the real amount, such as 2 or 500m")
    }

    public static func parse(_ text: String) -> Result<CPUQuantity, UnitError> {
        let (number, suffix) = UnitText.split(text)
        switch suffix {
        case "m":
            guard let value = Int(number), value > 0 else { break }
            guard value <= maximumMillicores else { return .failure(tooMany(text)) }
            return .success(CPUQuantity(millicores: value))
        case "":
            guard let cores = Double(number), cores > 0 else { break }
            guard cores * 1000 <= Double(maximumMillicores) else { return .failure(tooMany(text)) }
            let millicores = (cores * 1000).rounded()
            guard abs(millicores - cores * 1000) < 1e-6 else {
                return .failure(UnitError("`\(text)` is finer than one millicore", fix: "round it to millicores, e.g. \(Int(millicores))m"))
            }
            return .success(CPUQuantity(millicores: Int(millicores)))
        default:
            return .failure(
                UnitError(
                    "`\(text)` is not a CPU amount (unit `\(suffix)`)", fix: "write millicores such as 250m, or cores such as 0.5 or 2"))
        }
        return .failure(
            UnitError("`\(text)` is not a positive CPU amount", fix: "write millicores such as 250m, or cores such as 0.5 or 2"))
    }

    public var description: String {
        millicores % 1000 == 0 ? String(millicores / 1000) : "\(millicores)m"
    }
}
