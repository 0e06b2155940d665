import Yams

/// Reads YAML templates into `ManifestValue` and writes `ManifestValue` as YAML through Yams, so
/// quoting and indentation are libyaml's, never string concatenation.
public enum YAMLDocument {
    public static func parse(_ text: String, file: String) throws(Diagnostic) -> ManifestValue {
        let node = try YAMLSpecParser.parse(text, file: file)
        return convert(node)
    }

    public static func write(_ value: ManifestValue) throws -> String {
        try Yams.serialize(node: node(for: value), indent: 2, width: -1, allowUnicode: true, sortKeys: false)
    }

    private static func convert(_ node: SpecNode) -> ManifestValue {
        switch node.value {
        case .string(let text): return .string(text)
        case .integer(let number): return .integer(number)
        case .number(let number): return .number(number)
        case .boolean(let flag): return .boolean(flag)
        case .null: return .null
        case .list(let items): return .list(items.map(convert))
        case .map(let entries): return .map(entries.map { ManifestField($0.key, convert($0.value)) })
        }
    }

    private static func node(for value: ManifestValue) -> Node {
        switch value {
        case .string(let text):
            // Yams emits every scalar as implicitly typed, so a string that a YAML 1.1 reader
            // (kubectl, PyYAML) would take for a number, boolean or null must be quoted here.
            let ambiguous =
                Resolver.default.resolveTag(of: Node(text)) != .str || YAMLSpecParser.resolver.resolveTag(of: Node(text)) != .str
            return Node(text, Tag(.str), ambiguous ? .doubleQuoted : .any)
        case .integer(let number): return Node(String(number), Tag(.int))
        case .number(let number): return Node(String(number), Tag(.float))
        case .boolean(let flag): return Node(flag ? "true" : "false", Tag(.bool))
        case .null: return Node("null", Tag(.null))
        case .list(let items): return Node(items.map(node(for:)), Tag(.seq))
        case .map(let fields): return Node(fields.map { (node(for: .string($0.key)), node(for: $0.value)) }, Tag(.map))
        }
    }
}
