/// Redis's own memory syntax, as `redis.conf` and `CONFIG SET maxmemory` read it: `1k` is 1000 bytes
/// but `1kb` is 1024, likewise m/mb and g/gb, case-insensitive.
public struct RedisMemory: Sendable, Hashable, CustomStringConvertible {
    public var bytes: Int64
    /// The text as the operator wrote it, normalised to lower case; redis.conf gets it verbatim.
    public var text: String

    static let units: [(suffix: String, factor: Int64)] = [
        ("kb", 1 << 10), ("mb", 1 << 20), ("gb", 1 << 30),
        ("k", 1_000), ("m", 1_000_000), ("g", 1_000_000_000),
    ]

    public static func parse(_ raw: String) -> Result<RedisMemory, UnitError> {
        let (number, suffix) = UnitText.split(raw)
        guard let value = Int64(number), value >= 0 else {
            return .failure(
                UnitError("`\(raw)` is not a Redis memory size", fix: "write a whole number with a Redis unit, such as 256mb or 2gb"))
        }
        if suffix.isEmpty {
            return .failure(
                UnitError("`\(raw)` has no unit, so Redis would read it as \(value) bytes", fix: "add a unit, such as \(value)mb"))
        }
        let lower = suffix.lowercased()
        if let unit = units.first(where: { $0.suffix == lower }) {
            guard let bytes = UnitText.scale(value, by: unit.factor, atMost: ByteSize.maximumBytes) else {
                return .failure(
                    UnitError("`\(raw)` is more memory than any machine has (the limit is 1024tb)", fix: "write the real size, such as 2gb")
                )
            }
            return .success(RedisMemory(bytes: bytes, text: "\(value)\(lower)"))
        }
        let kubernetes = ["ki": "kb", "mi": "mb", "gi": "gb"]
        if let replacement = kubernetes[lower] {
            return .failure(
                UnitError("`\(raw)` is a Kubernetes unit; Redis does not understand `\(suffix)`", fix: "write \(value)\(replacement)"))
        }
        return .failure(UnitError("`\(raw)` has an unknown unit `\(suffix)`", fix: "use kb, mb or gb (powers of 1024), e.g. \(value)mb"))
    }

    public var description: String { text }
}
