/// `deploy:` — how a new release replaces the old one.
public struct DeploySpec: Sendable, Equatable {
    public enum Strategy: String, SpecEnum, Sendable {
        case rolling, canary, bluegreen, immediate
    }

    public var strategy: Strategy
    public var maxUnavailable: InstanceCount
    /// Extra instances a rolling deploy may start above the desired count.
    public var maxSurge: InstanceCount
    /// Runs once per release, before any new instance serves (migrations).
    public var releaseCommand: [String]?
    public var releaseCommandTimeout: SpecDuration
    /// How long a release may take to become healthy before it is rolled back.
    public var healthTimeout: SpecDuration
}

/// A number of instances, or a share of them (`25%`).
public enum InstanceCount: Sendable, Equatable, CustomStringConvertible {
    case count(Int)
    case percent(Percentage)

    /// The count this means for a fleet of `total` instances; `roundUp` as Kubernetes does for surge.
    public func resolved(forTotal total: Int, roundUp: Bool) -> Int {
        switch self {
        case .count(let value): return value
        case .percent(let share):
            let exact = share.fraction * Double(total)
            return Int(roundUp ? exact.rounded(.up) : exact.rounded(.down))
        }
    }

    public var description: String {
        switch self {
        case .count(let value): return String(value)
        case .percent(let share): return share.description
        }
    }
}

extension InstanceCount: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> InstanceCount? {
        switch node.value {
        case .integer(let value) where value >= 0: return .count(value)
        case .string(let text) where text.hasSuffix("%"):
            guard let share = Percentage.read(node, at: path, in: context) else { return nil }
            guard (0...100).contains(share.value) else {
                context.error("\(share) is not between 0% and 100%", at: node.location, path: path)
                return nil
            }
            return .percent(share)
        default:
            context.typeMismatch(node, path: path, expected: "a number of instances or a percentage", example: "1` or `25%")
            return nil
        }
    }
}

extension DeploySpec: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> DeploySpec? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let strategy = map.required("strategy", as: Strategy.self)
        let maxUnavailable = map.optional("maxUnavailable", default: InstanceCount.count(1))
        let maxSurge = map.optional("maxSurge", default: InstanceCount.count(1))
        let command = map.entry("releaseCommand").flatMap { entry in
            String.read(entry.value, at: childPath(path, "releaseCommand"), in: context).flatMap { text in
                CommandLineSplitter.split(text, at: entry.value.location, path: childPath(path, "releaseCommand"), in: context)
            }
        }
        let commandTimeout = map.optional(
            "releaseCommandTimeout", default: SpecDuration.seconds(300), in: .seconds(1)...SpecDuration.seconds(86_400))
        let healthTimeout = map.optional(
            "healthTimeout", default: SpecDuration.seconds(300), in: .seconds(1)...SpecDuration.seconds(86_400))
        let commandFailed = map.keys.contains("releaseCommand") && command == nil
        map.finish()
        guard let strategy, !commandFailed else { return nil }
        if case .count(0) = maxUnavailable, case .count(0) = maxSurge {
            context.error(
                "maxUnavailable and maxSurge are both 0, so a rolling deploy can never replace an instance",
                at: context.locations[childPath(path, "maxUnavailable")] ?? node.location, path: childPath(path, "maxUnavailable"),
                fix: "set `maxUnavailable: 1` or `maxSurge: 1`")
            return nil
        }
        return DeploySpec(
            strategy: strategy, maxUnavailable: maxUnavailable, maxSurge: maxSurge, releaseCommand: command,
            releaseCommandTimeout: commandTimeout, healthTimeout: healthTimeout)
    }
}

/// Splits a command the way a POSIX shell splits words (quotes, backslashes), without running a shell.
enum CommandLineSplitter {
    static func split(_ text: String, at location: SourceLocation, path: String, in context: ReadContext) -> [String]? {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" && quote != "'" {
                escaped = true
                inWord = true
            } else if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "\"" || character == "'" {
                quote = character
                inWord = true
            } else if character.isWhitespace {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(character)
                inWord = true
            }
        }
        if quote != nil || escaped {
            context.error("the command has an unclosed quote or a trailing backslash", at: location, path: path, fix: "close the quote")
            return nil
        }
        if inWord { words.append(current) }
        guard !words.isEmpty else {
            context.error(
                "the command is empty", at: location, path: path, fix: "write the command, e.g. `pet-backend migrate`, or remove the key")
            return nil
        }
        return words
    }
}
