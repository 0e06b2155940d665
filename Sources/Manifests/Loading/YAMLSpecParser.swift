import Yams

/// Parses one YAML file into located `SpecNode`s, turning libyaml's errors into diagnostics.
enum YAMLSpecParser {
    /// YAML 1.2 core-schema scalars: `yes`, `no`, `on` and `off` stay strings, so a region code
    /// such as `no` is never read as a boolean.
    static let resolver: Resolver = {
        let rules: [(Tag.Name, String)] = [
            (.bool, "^(?:true|True|TRUE|false|False|FALSE)$"),
            (.int, "^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
            (.float, "^(?:[-+]?(?:\\.[0-9]+|[0-9]+(?:\\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN))$"),
            (.null, "^(?:~|null|Null|NULL|)$"),
        ]
        var resolver = Resolver.basic
        for (tag, pattern) in rules {
            guard let next = try? resolver.appending(tag, pattern) else { return Resolver.default }
            resolver = next
        }
        return resolver
    }()

    static func parse(_ text: String, file: String) throws(Diagnostic) -> SpecNode {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text, resolver)
        } catch let error as YamlError {
            throw diagnostic(for: error, file: file)
        } catch {
            throw Diagnostic(location: SourceLocation(file: file, line: 1, column: 1), path: "", message: "cannot parse YAML: \(error)")
        }
        guard let root else {
            return SpecNode(.map([]), at: SourceLocation(file: file, line: 1, column: 1))
        }
        var budget = maximumNodes
        return try convert(root, file: file, budget: &budget)
    }

    /// Aliases expand: a few hundred bytes of nested anchors can stand for billions of values
    /// ("billion laughs"). Expansion stops here, far above any real spec (a few hundred).
    static let maximumNodes = 20_000

    private static func location(_ mark: Mark?, file: String) -> SourceLocation {
        SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    private static func convert(_ node: Node, file: String, budget: inout Int) throws(Diagnostic) -> SpecNode {
        let here = location(node.mark, file: file)
        budget -= 1
        guard budget >= 0 else {
            throw Diagnostic(
                location: here, path: "",
                message:
                    "this YAML expands to more than \(maximumNodes) values (aliases repeated inside aliases); a spec needs a few hundred. Write the values out, or use fewer nested aliases"
            )
        }
        switch node {
        case .scalar(let scalar):
            return SpecNode(scalarValue(scalar, node: node), at: here)
        case .sequence(let sequence):
            var items: [SpecNode] = []
            for item in sequence {
                items.append(try convert(item, file: file, budget: &budget))
            }
            return SpecNode(.list(items), at: here)
        case .mapping(let mapping):
            var entries: [SpecEntry] = []
            for (key, value) in mapping {
                let keyLocation = location(key.mark, file: file)
                guard case .scalar(let keyScalar) = key else {
                    throw Diagnostic(location: keyLocation, path: "", message: "a map key must be a plain name, not a list or a map")
                }
                entries.append(
                    SpecEntry(key: keyScalar.string, keyLocation: keyLocation, value: try convert(value, file: file, budget: &budget)))
            }
            return SpecNode(.map(entries), at: here)
        case .alias:
            throw Diagnostic(location: here, path: "", message: "unresolved YAML alias")
        }
    }

    private static func scalarValue(_ scalar: Node.Scalar, node: Node) -> SpecNode.Value {
        let tag = node.tag
        if tag == Tag(.bool) { return node.bool.map { .boolean($0) } ?? .string(scalar.string) }
        if tag == Tag(.int) { return node.int.map { .integer($0) } ?? .string(scalar.string) }
        if tag == Tag(.float) { return node.float.map { .number($0) } ?? .string(scalar.string) }
        if tag == Tag(.null) { return .null }
        return .string(scalar.string)
    }

    private static func diagnostic(for error: YamlError, file: String) -> Diagnostic {
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let detail = context.map { "\(problem) (\($0.text))" } ?? problem
            return Diagnostic(
                location: location(mark, file: file), path: "", message: "invalid YAML: \(detail)",
                fix: "check the indentation and quoting on this line and the one above it")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return Diagnostic(
                location: location(context.mark, file: file), path: "",
                message:
                    "the key\(duplicates.count == 1 ? "" : "s") \(duplicates.map { "`\($0)`" }.joined(separator: ", ")) \(duplicates.count == 1 ? "appears" : "appear") more than once in this map",
                fix: "keep one of them; YAML would silently use only one")
        default:
            return Diagnostic(location: SourceLocation(file: file, line: 1, column: 1), path: "", message: "cannot parse YAML: \(error)")
        }
    }
}
