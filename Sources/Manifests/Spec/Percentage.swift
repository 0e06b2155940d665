/// A percentage written with its sign, `70%` or `0.5%`, so it is never confused with a fraction.
public struct Percentage: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var value: Double

    public init(_ value: Double) {
        self.value = value
    }

    public static func < (lhs: Percentage, rhs: Percentage) -> Bool { lhs.value < rhs.value }

    public static func parse(_ text: String) -> Result<Percentage, UnitError> {
        let trimmed = text.trimmingWhitespace
        guard trimmed.hasSuffix("%") else {
            return .failure(UnitError("`\(text)` is not a percentage", fix: "write it with a percent sign, e.g. \(trimmed)%"))
        }
        guard let value = Double(String(trimmed.dropLast()).trimmingWhitespace), value.isFinite else {
            return .failure(UnitError("`\(text)` is not a percentage", fix: "write a number followed by %, e.g. 70%"))
        }
        return .success(Percentage(value))
    }

    public var fraction: Double { value / 100 }

    public var description: String {
        value.rounded() == value ? "\(Int(value))%" : "\(value)%"
    }
}
