/// What every reader shares while one environment is read: the error log and the map from key
/// paths to the lines that set them (cross-field checks point there).
final class ReadContext {
    let log: DiagnosticLog
    private(set) var locations: [String: SourceLocation] = [:]

    init(log: DiagnosticLog) {
        self.log = log
    }

    func record(_ path: String, at location: SourceLocation) {
        locations[path] = location
    }

    func error(_ message: String, at location: SourceLocation?, path: String, fix: String? = nil) {
        log.error(message, at: location, path: path, fix: fix)
    }

    func typeMismatch(_ node: SpecNode, path: String, expected: String, example: String) {
        error(
            "expected \(expected), found \(node.kindDescription)", at: node.location, path: path,
            fix: "write it like `\(Self.lastKey(of: path)): \(example)`")
    }

    static func lastKey(of path: String) -> String {
        path.split(separator: ".").last.map(String.init) ?? path
    }
}

/// Something that can be read out of a located YAML node, reporting its own problems.
protocol SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> Self?
}

func childPath(_ parent: String, _ key: String) -> String {
    parent.isEmpty ? key : "\(parent).\(key)"
}
