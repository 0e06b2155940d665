extension String: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> String? {
        guard case .string(let text) = node.value else {
            context.typeMismatch(node, path: path, expected: "a string", example: "\"text\"")
            return nil
        }
        return text
    }
}

extension Int: SpecReadable {
    static let maximum = 1_000_000_000

    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> Int? {
        switch node.value {
        case .integer(let number) where (-maximum...maximum).contains(number): return number
        case .integer(let number):
            // Bounded so that products of two settings (instances × pool size) cannot overflow.
            context.error(
                "\(number) is beyond any value this spec takes (at most \(maximum))", at: node.location, path: path,
                fix: "write the real value")
        case .string(let text) where Int(text) != nil:
            context.error(
                "expected an integer, found the quoted string \"\(text)\"", at: node.location, path: path,
                fix: "remove the quotes: `\(ReadContext.lastKey(of: path)): \(text)`")
        default:
            context.typeMismatch(node, path: path, expected: "a whole number", example: "10")
        }
        return nil
    }
}

extension Bool: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> Bool? {
        switch node.value {
        case .boolean(let flag): return flag
        case .string(let text) where ["yes", "no", "on", "off", "y", "n"].contains(text.lowercased()):
            context.error(
                "expected true or false, found the string \"\(text)\"", at: node.location, path: path,
                fix: "write `true` or `false`; this spec reads YAML 1.2, where `\(text)` is a string")
        default:
            context.typeMismatch(node, path: path, expected: "true or false", example: "true")
        }
        return nil
    }
}

extension Array: SpecReadable where Element: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> [Element]? {
        guard case .list(let items) = node.value else {
            context.typeMismatch(node, path: path, expected: "a list", example: "[a, b]")
            return nil
        }
        var result: [Element] = []
        var failed = false
        for (index, item) in items.enumerated() {
            if let element = Element.read(item, at: "\(path)[\(index)]", in: context) {
                result.append(element)
            } else {
                failed = true
            }
        }
        return failed ? nil : result
    }
}

/// Enumerations are read by their raw name; a wrong one gets the list of valid ones and the closest.
protocol SpecEnum: SpecReadable, RawRepresentable, CaseIterable where RawValue == String {}

extension SpecEnum {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> Self? {
        let names = allCases.map(\.rawValue)
        guard case .string(let text) = node.value else {
            context.typeMismatch(node, path: path, expected: "one of \(names.joined(separator: ", "))", example: names[0])
            return nil
        }
        if let value = Self(rawValue: text) { return value }
        let hint = Suggestion.didYouMean(text, in: names).map { "\($0) " } ?? ""
        context.error(
            "`\(text)` is not a valid value", at: node.location, path: path,
            fix: "\(hint)allowed values: \(names.joined(separator: ", "))")
        return nil
    }
}

/// Values written as strings with a unit; the unit parser supplies the message and the fix.
protocol UnitReadable: SpecReadable {
    static func parseUnit(_ text: String) -> Result<Self, UnitError>
    static var unitExample: String { get }
}

extension UnitReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> Self? {
        let text: String
        switch node.value {
        case .string(let string): text = string
        case .integer(let number): text = String(number)
        case .number(let number): text = String(number)
        default:
            context.typeMismatch(node, path: path, expected: "a value with a unit", example: unitExample)
            return nil
        }
        switch parseUnit(text) {
        case .success(let value): return value
        case .failure(let error):
            context.error(error.message, at: node.location, path: path, fix: error.fix)
            return nil
        }
    }
}

extension ByteSize: UnitReadable {
    static func parseUnit(_ text: String) -> Result<ByteSize, UnitError> { parseKubernetes(text) }
    static var unitExample: String { "512Mi" }
}

extension RedisMemory: UnitReadable {
    static func parseUnit(_ text: String) -> Result<RedisMemory, UnitError> { parse(text) }
    static var unitExample: String { "256mb" }
}

extension CPUQuantity: UnitReadable {
    static func parseUnit(_ text: String) -> Result<CPUQuantity, UnitError> { parse(text) }
    static var unitExample: String { "250m" }
}

extension SpecDuration: UnitReadable {
    static func parseUnit(_ text: String) -> Result<SpecDuration, UnitError> { parse(text) }
    static var unitExample: String { "30s" }
}

extension Percentage: UnitReadable {
    static func parseUnit(_ text: String) -> Result<Percentage, UnitError> { parse(text) }
    static var unitExample: String { "70%" }
}
