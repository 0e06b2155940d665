/// A YAML value that remembers where it was written, so every later error can point at a line.
public struct SpecNode: Sendable {
    public enum Value: Sendable {
        case string(String)
        case integer(Int)
        case number(Double)
        case boolean(Bool)
        case null
        case map([SpecEntry])
        case list([SpecNode])
    }

    public var value: Value
    public var location: SourceLocation

    public init(_ value: Value, at location: SourceLocation) {
        self.value = value
        self.location = location
    }

    /// How the value is described in "expected …, found …" messages.
    public var kindDescription: String {
        switch value {
        case .string(let text): return "the string \"\(Excerpt.of(text, limit: 60))\""
        case .integer(let number): return "the integer \(number)"
        case .number(let number): return "the number \(number)"
        case .boolean(let flag): return "the boolean \(flag)"
        case .null: return "null (an empty value)"
        case .map: return "a map"
        case .list: return "a list"
        }
    }

    public var entries: [SpecEntry]? {
        if case .map(let entries) = value { return entries }
        return nil
    }

    public func entry(_ key: String) -> SpecEntry? {
        entries?.first { $0.key == key }
    }
}

public struct SpecEntry: Sendable {
    public var key: String
    public var keyLocation: SourceLocation
    public var value: SpecNode

    public init(key: String, keyLocation: SourceLocation, value: SpecNode) {
        self.key = key
        self.keyLocation = keyLocation
        self.value = value
    }
}

extension SpecNode {
    /// Structural merge of an environment over the one it extends: maps merge key by key, lists and
    /// scalars replace, and an explicit `null` removes what the base set.
    public func merged(over base: SpecNode) -> SpecNode {
        guard case .map(let overrides) = value, case .map(let baseEntries) = base.value else {
            return self
        }
        var result: [SpecEntry] = []
        for baseEntry in baseEntries {
            guard let override = overrides.first(where: { $0.key == baseEntry.key }) else {
                result.append(baseEntry)
                continue
            }
            if case .null = override.value.value { continue }
            var mergedEntry = override
            mergedEntry.value = override.value.merged(over: baseEntry.value)
            result.append(mergedEntry)
        }
        for override in overrides where !baseEntries.contains(where: { $0.key == override.key }) {
            if case .null = override.value.value { continue }
            result.append(override)
        }
        return SpecNode(.map(result), at: location)
    }

    /// A canonical form without locations (keys sorted), used for the spec hash.
    public var canonicalText: String {
        switch value {
        case .string(let text): return JSONText.quoted(text)
        case .integer(let number): return String(number)
        case .number(let number): return String(number)
        case .boolean(let flag): return flag ? "true" : "false"
        case .null: return "null"
        case .list(let items): return "[" + items.map(\.canonicalText).joined(separator: ",") + "]"
        case .map(let entries):
            let sortedEntries = entries.sorted { $0.key < $1.key }
            return "{" + sortedEntries.map { JSONText.quoted($0.key) + ":" + $0.value.canonicalText }.joined(separator: ",") + "}"
        }
    }
}

/// A double-quoted string with JSON's escapes, which TOML's basic strings share; TOML also
/// requires DEL (0x7F) escaped.
enum JSONText {
    static func quoted(_ text: String, escapingDelete: Bool = false) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || (escapingDelete && scalar.value == 0x7F):
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
