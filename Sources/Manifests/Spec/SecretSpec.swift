/// One entry of `secrets:`: a secret the service needs, by name only, and the rules its value must
/// meet when a platform checks it. Values never appear in a spec, a plan or a manifest.
public struct SecretSpec: Sendable, Equatable {
    public enum Format: String, SpecEnum, Sendable {
        case any, url
    }

    public var name: String
    public var required: Bool
    public var format: Format
    public var length: Int?
    public var minLength: Int?
    public var prefix: String?
    public var location: SourceLocation

    /// Every rule the value breaks, worded without the value itself.
    public func problems(withValue value: String) -> [String] {
        var problems: [String] = []
        if let length, value.count != length {
            problems.append("\(name) must be exactly \(length) characters (it has \(value.count))")
        }
        if let minLength, value.count < minLength {
            problems.append("\(name) must be at least \(minLength) characters (it has \(value.count))")
        }
        if let prefix, !value.hasPrefix(prefix) {
            problems.append("\(name) must start with `\(prefix)`")
        }
        if format == .url, !SecretSpec.looksLikeURL(value) {
            problems.append("\(name) must be a URL such as scheme://host")
        }
        return problems
    }

    static func looksLikeURL(_ value: String) -> Bool {
        guard let schemeEnd = value.range(of: "://") else { return false }
        let scheme = value[..<schemeEnd.lowerBound]
        return !scheme.isEmpty && scheme.allSatisfy { $0.isLetter || $0 == "+" } && value.count > scheme.count + 3
    }
}

enum SecretsReader {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> [SecretSpec]? {
        guard let entries = node.entries else {
            context.typeMismatch(
                node, path: path, expected: "a map from secret name to its rules", example: "{ JWT_SECRET: { minLength: 32 } }")
            return nil
        }
        var secrets: [SecretSpec] = []
        var failed = false
        for entry in entries {
            let secretPath = childPath(path, entry.key)
            context.record(secretPath, at: entry.keyLocation)
            guard Names.isEnvironmentVariable(entry.key) else {
                context.error(
                    "`\(entry.key)` is not an environment variable name", at: entry.keyLocation, path: secretPath,
                    fix: "use upper-case letters, digits and '_', such as \(entry.key.uppercased().replacingDashes)")
                failed = true
                continue
            }
            let rules: SpecNode
            if case .null = entry.value.value {
                rules = SpecNode(.map([]), at: entry.value.location)
            } else {
                rules = entry.value
            }
            guard let secret = readRules(rules, name: entry.key, at: secretPath, keyLocation: entry.keyLocation, in: context) else {
                failed = true
                continue
            }
            secrets.append(secret)
        }
        return failed ? nil : secrets
    }

    private static func readRules(
        _ node: SpecNode, name: String, at path: String, keyLocation: SourceLocation, in context: ReadContext
    ) -> SecretSpec? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let required = map.optional("required", default: true)
        let format = map.optional("format", default: SecretSpec.Format.any)
        let length = map.optional("length", as: Int.self)
        let minLength = map.optional("minLength", as: Int.self)
        let prefix = map.optional("prefix", as: String.self)
        map.finish()
        if let length, let minLength {
            context.error(
                "both `length` (\(length)) and `minLength` (\(minLength)) are set", at: keyLocation, path: path,
                fix: "keep `length` for an exact size, or `minLength` for a lower bound")
            return nil
        }
        for (key, value) in [("length", length), ("minLength", minLength)] {
            if let value, value < 1 {
                context.error(
                    "`\(key)` must be at least 1, not \(value)", at: context.locations[childPath(path, key)], path: childPath(path, key))
                return nil
            }
        }
        return SecretSpec(
            name: name, required: required, format: format, length: length, minLength: minLength, prefix: prefix, location: keyLocation)
    }
}

extension String {
    var replacingDashes: String { String(map { $0 == "-" || $0 == "." ? "_" : $0 }) }
}
