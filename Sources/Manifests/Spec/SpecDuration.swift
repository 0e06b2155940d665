/// A length of time with an explicit unit: `200ms`, `30s`, `5m`, `1h`, `7d`.
public struct SpecDuration: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    public static func seconds(_ value: Int64) -> SpecDuration { SpecDuration(milliseconds: value * 1000) }

    public static func < (lhs: SpecDuration, rhs: SpecDuration) -> Bool { lhs.milliseconds < rhs.milliseconds }

    /// About ten years: longer than any timeout or retention, and safe to add and multiply.
    static let maximumMilliseconds: Int64 = 3660 * 86_400_000

    static let units: [(suffix: String, factor: Int64)] = [
        ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
    ]

    public static func parse(_ text: String) -> Result<SpecDuration, UnitError> {
        let (number, suffix) = UnitText.split(text)
        guard let value = Int64(number), value >= 0 else {
            return .failure(UnitError("`\(text)` is not a duration", fix: "write a whole number with a unit: ms, s, m, h or d (e.g. 30s)"))
        }
        if suffix.isEmpty {
            return .failure(UnitError("`\(text)` has no unit", fix: "add one: \(value)s, \(value)m or \(value)ms"))
        }
        guard let unit = units.first(where: { $0.suffix == suffix }) else {
            let hint = Suggestion.closest(to: suffix, in: units.map(\.suffix)).map { " (did you mean \(value)\($0)?)" } ?? ""
            return .failure(UnitError("`\(text)` has an unknown unit `\(suffix)`\(hint)", fix: "use ms, s, m, h or d"))
        }
        guard let milliseconds = UnitText.scale(value, by: unit.factor, atMost: maximumMilliseconds) else {
            return .failure(
                UnitError(
                    "`\(text)` is longer than any setting here can use (the limit is 3660d)",
                    fix: "write a realistic length, such as 30s or 7d"))
        }
        return .success(SpecDuration(milliseconds: milliseconds))
    }

    /// Whole seconds, rounded up so a timeout never shrinks.
    public var seconds: Int64 { (milliseconds + 999) / 1000 }

    /// The shortest exact spelling: `30s`, `5m`, `200ms`.
    public var description: String {
        for (suffix, factor) in Self.units.reversed() where milliseconds >= factor && milliseconds % factor == 0 {
            return "\(milliseconds / factor)\(suffix)"
        }
        return "\(milliseconds)ms"
    }
}
