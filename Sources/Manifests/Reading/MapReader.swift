/// Reads the keys of one YAML map, remembering which were used so that every key left over is
/// reported as unknown, with the closest valid name.
final class MapReader {
    let node: SpecNode
    let path: String
    let context: ReadContext
    private let entries: [SpecEntry]
    private var knownKeys: [String] = []

    init?(_ node: SpecNode, at path: String, in context: ReadContext) {
        guard let entries = node.entries else {
            context.typeMismatch(node, path: path, expected: "a map of keys", example: "{ ... }")
            return nil
        }
        self.node = node
        self.path = path
        self.context = context
        self.entries = entries
    }

    var keys: [String] { entries.map(\.key) }

    func entry(_ key: String) -> SpecEntry? {
        knownKeys.append(key)
        guard let entry = entries.first(where: { $0.key == key }) else { return nil }
        context.record(childPath(path, key), at: entry.keyLocation)
        return entry
    }

    func required<T: SpecReadable>(_ key: String, as type: T.Type = T.self) -> T? {
        guard let entry = entry(key) else {
            missing(key)
            return nil
        }
        return T.read(entry.value, at: childPath(path, key), in: context)
    }

    func optional<T: SpecReadable>(_ key: String, as type: T.Type = T.self) -> T? {
        guard let entry = entry(key) else { return nil }
        return T.read(entry.value, at: childPath(path, key), in: context)
    }

    func optional<T: SpecReadable>(_ key: String, default value: T) -> T {
        optional(key, as: T.self) ?? value
    }

    /// A value that must lie in a range; the error names the range and the value found.
    func required<T: SpecReadable & Comparable>(_ key: String, in range: ClosedRange<T>) -> T? {
        checked(required(key, as: T.self), key: key, in: range)
    }

    func optional<T: SpecReadable & Comparable>(_ key: String, in range: ClosedRange<T>) -> T? {
        checked(optional(key, as: T.self), key: key, in: range)
    }

    func optional<T: SpecReadable & Comparable>(_ key: String, default value: T, in range: ClosedRange<T>) -> T {
        checked(optional(key, as: T.self), key: key, in: range) ?? value
    }

    private func checked<T: Comparable>(_ value: T?, key: String, in range: ClosedRange<T>) -> T? {
        guard let value else { return nil }
        guard range.contains(value) else {
            let fullPath = childPath(path, key)
            context.error(
                "\(value) is out of range; it must be between \(range.lowerBound) and \(range.upperBound)",
                at: context.locations[fullPath], path: fullPath,
                fix: "set `\(key)` to a value from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return value
    }

    func missing(_ key: String) {
        let fullPath = childPath(path, key)
        let siblings = Suggestion.closest(to: key, in: keys.filter { !knownKeys.contains($0) })
        let hint = siblings.map { " (`\($0)` is there: a misspelling?)" } ?? ""
        context.error(
            "the required key `\(key)` is missing\(hint)", at: node.location, path: fullPath,
            fix: "add `\(key):` under `\(path.isEmpty ? "the top level" : path)`, here or in the file this one extends")
    }

    /// Reports every key that no reader asked for. Call after all reads of this map.
    func finish() {
        for entry in entries where !knownKeys.contains(entry.key) {
            let fullPath = childPath(path, entry.key)
            let fix: String
            if let suggestion = Suggestion.closest(to: entry.key, in: knownKeys) {
                fix = "did you mean `\(suggestion)`?"
            } else {
                fix = "remove it; the keys allowed here are: \(knownKeys.joined(separator: ", "))"
            }
            context.error("unknown key `\(entry.key)`", at: entry.keyLocation, path: fullPath, fix: fix)
        }
    }
}
