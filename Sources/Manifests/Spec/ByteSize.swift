/// An amount of memory in bytes, written the Kubernetes way (`256Mi`, `2Gi`, `512M`).
public struct ByteSize: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var bytes: Int64

    public init(bytes: Int64) {
        self.bytes = bytes
    }

    public static func mebibytes(_ value: Int64) -> ByteSize { ByteSize(bytes: value * 1_048_576) }
    public static func gibibytes(_ value: Int64) -> ByteSize { ByteSize(bytes: value * 1_073_741_824) }

    public static func < (lhs: ByteSize, rhs: ByteSize) -> Bool { lhs.bytes < rhs.bytes }

    /// 1 PiB: beyond any machine, and far enough from Int64's limit that sums and products of
    /// sizes computed from the spec cannot overflow.
    static let maximumBytes: Int64 = 1 << 50

    static let kubernetesUnits: [(suffix: String, factor: Int64)] = [
        ("Ki", 1 << 10), ("Mi", 1 << 20), ("Gi", 1 << 30), ("Ti", 1 << 40),
        ("k", 1_000), ("M", 1_000_000), ("G", 1_000_000_000), ("T", 1_000_000_000_000),
    ]

    /// Parses `256Mi`, `2Gi`, `512M`; rejects Redis or PostgreSQL spellings with the equivalent to write instead.
    public static func parseKubernetes(_ text: String) -> Result<ByteSize, UnitError> {
        let (number, suffix) = UnitText.split(text)
        guard let value = Int64(number), value >= 0 else {
            return .failure(UnitError("`\(text)` is not a memory size", fix: "write a whole number with a unit, such as 256Mi or 2Gi"))
        }
        if suffix.isEmpty {
            return .failure(UnitError("`\(text)` has no unit and would mean \(text) bytes", fix: "add a unit, such as \(text)Mi"))
        }
        if let unit = kubernetesUnits.first(where: { $0.suffix == suffix }) {
            guard let bytes = UnitText.scale(value, by: unit.factor, atMost: maximumBytes) else {
                return .failure(
                    UnitError("`\(text)` is more memory than any machine has (the limit is 1Pi)", fix: "write the real size, such as 8Gi"))
            }
            return .success(ByteSize(bytes: bytes))
        }
        let binary = ["kb": "Ki", "kib": "Ki", "mb": "Mi", "mib": "Mi", "gb": "Gi", "gib": "Gi", "tb": "Ti", "tib": "Ti"]
        if let replacement = binary[suffix.lowercased()] {
            return .failure(
                UnitError("`\(text)` uses the unit `\(suffix)`, which Kubernetes does not accept", fix: "write \(value)\(replacement)"))
        }
        return .failure(
            UnitError("`\(text)` has an unknown unit `\(suffix)`", fix: "use Ki, Mi, Gi or Ti (powers of 1024), e.g. \(value)Mi"))
    }

    /// The largest binary unit that divides the size exactly, as Kubernetes prints quantities.
    public var kubernetesText: String {
        for (suffix, factor) in [("Ti", Int64(1) << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)]
        where bytes >= factor && bytes % factor == 0 {
            return "\(bytes / factor)\(suffix)"
        }
        return String(bytes)
    }

    /// PostgreSQL's memory units (`kB`, `MB`, `GB`, `TB` are powers of 1024 there).
    public var postgresText: String {
        for (suffix, factor) in [("TB", Int64(1) << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)]
        where bytes >= factor && bytes % factor == 0 {
            return "\(bytes / factor)\(suffix)"
        }
        return "\(max(1, bytes / 1024))kB"
    }

    /// Whole mebibytes, as Fly's `[[vm]] memory` and machine `guest.memory_mb` take them.
    public var wholeMebibytes: Int64 { bytes / (1 << 20) }

    public var description: String { kubernetesText }
}

public struct UnitError: Error, Sendable, Equatable {
    public var message: String
    public var fix: String

    public init(_ message: String, fix: String) {
        self.message = message
        self.fix = fix
    }
}

enum UnitText {
    /// `value × factor` when it is at most `limit`; nil when larger (or when it would overflow).
    static func scale(_ value: Int64, by factor: Int64, atMost limit: Int64) -> Int64? {
        let (product, overflow) = value.multipliedReportingOverflow(by: factor)
        return overflow || product > limit ? nil : product
    }

    /// Splits `250m` into ("250", "m") and `0.5` into ("0.5", "").
    static func split(_ text: String) -> (number: String, suffix: String) {
        let trimmed = text.trimmingWhitespace
        let numberEnd = trimmed.firstIndex { !($0.isNumber || $0 == "." || $0 == "-" || $0 == "+") } ?? trimmed.endIndex
        return (String(trimmed[..<numberEnd]), String(trimmed[numberEnd...]).trimmingWhitespace)
    }
}

extension String {
    var trimmingWhitespace: String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars = scalars.dropFirst() }
        while let last = scalars.last, last.isWhitespace { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
