/// Writes a `ManifestValue` map as TOML v1.0: plain keys first, then `[tables]`, then
/// `[[arrays of tables]]`, each in the order given. Hand-written because the listed TOML package
/// (TOMLKit) pulls in a dependency this machine cannot resolve; tests parse the output back.
public enum TOMLWriter {
    public static func write(_ root: ManifestValue) -> String {
        guard case .map(let fields) = root else { return "" }
        var lines: [String] = []
        writeTable(fields, path: [], into: &lines)
        var text = lines.joined(separator: "\n")
        while text.hasPrefix("\n") { text.removeFirst() }
        return text + "\n"
    }

    private static func writeTable(_ fields: [ManifestField], path: [String], into lines: inout [String]) {
        let present = fields.filter { $0.value != .null }
        for field in present where !isTable(field.value) && !isArrayOfTables(field.value) {
            lines.append("\(key(field.key)) = \(inline(field.value))")
        }
        for field in present {
            if case .map(let children) = field.value {
                let childPath = path + [field.key]
                lines.append("")
                lines.append("[\(childPath.map(key).joined(separator: "."))]")
                writeTable(children, path: childPath, into: &lines)
            }
        }
        for field in present where isArrayOfTables(field.value) {
            guard case .list(let items) = field.value else { continue }
            let childPath = path + [field.key]
            for item in items {
                guard case .map(let children) = item else { continue }
                lines.append("")
                lines.append("[[\(childPath.map(key).joined(separator: "."))]]")
                writeTable(children, path: childPath, into: &lines)
            }
        }
    }

    private static func isTable(_ value: ManifestValue) -> Bool {
        if case .map = value { return true }
        return false
    }

    private static func isArrayOfTables(_ value: ManifestValue) -> Bool {
        guard case .list(let items) = value, !items.isEmpty else { return false }
        return items.allSatisfy(isTable)
    }

    static func key(_ name: String) -> String {
        let bare =
            !name.isEmpty
            && name.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-")
            }
        return bare ? name : quoted(name)
    }

    static func inline(_ value: ManifestValue) -> String {
        switch value {
        case .string(let text): return quoted(text)
        case .integer(let number): return String(number)
        case .number(let number):
            if number.isNaN { return "nan" }
            if number.isInfinite { return number > 0 ? "inf" : "-inf" }
            let text = String(number)
            return text.contains(".") || text.contains("e") ? text : text + ".0"
        case .boolean(let flag): return flag ? "true" : "false"
        case .null: return "\"\""
        case .list(let items): return "[" + items.map(inline).joined(separator: ", ") + "]"
        case .map(let fields):
            if fields.isEmpty { return "{}" }
            return "{ " + fields.filter { $0.value != .null }.map { "\(key($0.key)) = \(inline($0.value))" }.joined(separator: ", ") + " }"
        }
    }

    static func quoted(_ text: String) -> String {
        JSONText.quoted(text, escapingDelete: true)
    }
}
