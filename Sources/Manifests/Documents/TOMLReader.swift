/// Reads the TOML of templates (such as `templates/fly.toml`) into a `ManifestValue`. It covers
/// what configuration files use: tables, arrays of tables, dotted and quoted keys, basic and
/// literal strings, integers, floats, booleans, arrays and inline tables. Multi-line strings and
/// dates are refused with a clear error rather than misread.
public struct TOMLReader {
    private let scalars: [Unicode.Scalar]
    private let file: String
    private var index = 0
    private var line = 1
    private var column = 1

    public static func parse(_ text: String, file: String) throws(Diagnostic) -> ManifestValue {
        var reader = TOMLReader(scalars: Array(text.unicodeScalars), file: file)
        return try reader.document()
    }

    private init(scalars: [Unicode.Scalar], file: String) {
        self.scalars = scalars
        self.file = file
    }

    private final class Table {
        var fields: [(key: String, entry: Entry)] = []
        /// Defined by a `[header]` or by key-values directly, as opposed to only implied by a dotted name.
        var explicit = false

        enum Entry {
            case value(ManifestValue)
            case table(Table)
            case tableArray([Table])
        }

        func index(of key: String) -> Int? { fields.firstIndex { $0.key == key } }

        var manifestValue: ManifestValue {
            .map(
                fields.map { field in
                    switch field.entry {
                    case .value(let value): return ManifestField(field.key, value)
                    case .table(let table): return ManifestField(field.key, table.manifestValue)
                    case .tableArray(let tables): return ManifestField(field.key, .list(tables.map(\.manifestValue)))
                    }
                })
        }
    }

    // MARK: Document structure

    private mutating func document() throws(Diagnostic) -> ManifestValue {
        let root = Table()
        var current = root
        var definedHeaders: Set<String> = []
        while true {
            skipBlankLinesAndComments()
            guard let scalar = peek() else { break }
            if scalar == "[" {
                let headerLine = line
                advance()
                let isArray = peek() == "["
                if isArray { advance() }
                skipSpaces()
                let keys = try keyPath()
                skipSpaces()
                try expect("]")
                if isArray { try expect("]") }
                try endOfLine()
                let name = keys.joined(separator: ".")
                if isArray {
                    current = try appendTableArray(keys, in: root)
                } else {
                    guard definedHeaders.insert(name).inserted else {
                        throw problem("the table [\(name)] is defined twice (again at line \(headerLine))")
                    }
                    current = try table(at: keys, in: root, explicit: true)
                }
            } else {
                let keys = try keyPath()
                skipSpaces()
                try expect("=")
                skipSpaces()
                let value = try value()
                try endOfLine()
                try assign(value, to: keys, in: current)
            }
        }
        return root.manifestValue
    }

    private func table(at keys: [String], in root: Table, explicit: Bool) throws(Diagnostic) -> Table {
        var table = root
        for key in keys {
            if let position = table.index(of: key) {
                switch table.fields[position].entry {
                case .table(let child): table = child
                case .tableArray(let children):
                    guard let last = children.last else { throw problem("[\(key)] is an empty array of tables") }
                    table = last
                case .value: throw problem("`\(key)` is already a value, not a table")
                }
            } else {
                let child = Table()
                table.fields.append((key, .table(child)))
                table = child
            }
        }
        table.explicit = table.explicit || explicit
        return table
    }

    private func appendTableArray(_ keys: [String], in root: Table) throws(Diagnostic) -> Table {
        guard let last = keys.last else { throw problem("an empty table name") }
        let parent = try table(at: Array(keys.dropLast()), in: root, explicit: false)
        let element = Table()
        element.explicit = true
        if let position = parent.index(of: last) {
            guard case .tableArray(let existing) = parent.fields[position].entry else {
                throw problem("`\(last)` is already defined and is not an array of tables")
            }
            parent.fields[position].entry = .tableArray(existing + [element])
        } else {
            parent.fields.append((last, .tableArray([element])))
        }
        return element
    }

    private func assign(_ value: ManifestValue, to keys: [String], in table: Table) throws(Diagnostic) {
        guard let last = keys.last else { throw problem("a key is missing before `=`") }
        let parent = try self.table(at: Array(keys.dropLast()), in: table, explicit: false)
        if parent.index(of: last) != nil {
            throw problem("the key `\(keys.joined(separator: "."))` is defined twice")
        }
        parent.fields.append((last, .value(value)))
    }

    // MARK: Keys

    private mutating func keyPath() throws(Diagnostic) -> [String] {
        var keys = [try key()]
        while true {
            skipSpaces()
            guard peek() == "." else { return keys }
            advance()
            skipSpaces()
            keys.append(try key())
        }
    }

    private mutating func key() throws(Diagnostic) -> String {
        switch peek() {
        case "\"": return try basicString()
        case "'": return try literalString()
        default:
            var name = ""
            while let scalar = peek(), scalar.isASCII,
                scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "-"
            {
                name.unicodeScalars.append(scalar)
                advance()
            }
            guard !name.isEmpty else { throw problem("expected a key name, found \(describePeek())") }
            return name
        }
    }

    // MARK: Values

    private mutating func value() throws(Diagnostic) -> ManifestValue {
        guard let scalar = peek() else { throw problem("expected a value at the end of the file") }
        switch scalar {
        case "\"": return .string(try basicString())
        case "'": return .string(try literalString())
        case "[": return try array()
        case "{": return try inlineTable()
        default: return try bareValue()
        }
    }

    private mutating func bareValue() throws(Diagnostic) -> ManifestValue {
        var word = ""
        while let scalar = peek(), !" \t\r\n,]}#".unicodeScalars.contains(scalar) {
            word.unicodeScalars.append(scalar)
            advance()
        }
        switch word {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        case "inf", "+inf": return .number(.infinity)
        case "-inf": return .number(-.infinity)
        case "nan", "+nan", "-nan": return .number(.nan)
        default: break
        }
        let digits = String(word.filter { $0 != "_" })
        if word.hasPrefix("0x"), let number = Int(digits.dropFirst(2), radix: 16) { return .integer(number) }
        if word.hasPrefix("0o"), let number = Int(digits.dropFirst(2), radix: 8) { return .integer(number) }
        if word.hasPrefix("0b"), let number = Int(digits.dropFirst(2), radix: 2) { return .integer(number) }
        if let number = Int(digits) { return .integer(number) }
        if digits.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let number = Double(digits) { return .number(number) }
        if word.count >= 10, word.prefix(4).allSatisfy(\.isNumber), word.dropFirst(4).first == "-" {
            throw problem("dates are not supported in templates (`\(word)`)", fix: "quote it as a string")
        }
        throw problem("`\(word)` is not a TOML value", fix: "quote strings, e.g. \"\(word)\"")
    }

    private mutating func array() throws(Diagnostic) -> ManifestValue {
        advance()
        var items: [ManifestValue] = []
        while true {
            skipWhitespaceCommentsAndNewlines()
            if peek() == "]" {
                advance()
                return .list(items)
            }
            items.append(try value())
            skipWhitespaceCommentsAndNewlines()
            if peek() == "," {
                advance()
            } else if peek() != "]" {
                throw problem("expected `,` or `]` in an array, found \(describePeek())")
            }
        }
    }

    private mutating func inlineTable() throws(Diagnostic) -> ManifestValue {
        advance()
        let table = Table()
        skipSpaces()
        if peek() == "}" {
            advance()
            return .map([])
        }
        while true {
            skipSpaces()
            let keys = try keyPath()
            skipSpaces()
            try expect("=")
            skipSpaces()
            try assign(try value(), to: keys, in: table)
            skipSpaces()
            if peek() == "," {
                advance()
            } else if peek() == "}" {
                advance()
                return table.manifestValue
            } else {
                throw problem("expected `,` or `}` in an inline table, found \(describePeek())")
            }
        }
    }

    private mutating func basicString() throws(Diagnostic) -> String {
        advance()
        if peek() == "\"", peek(offset: 1) == "\"" {
            throw problem("multi-line strings are not supported in templates", fix: "write the value on one line with \\n escapes")
        }
        var text = ""
        while let scalar = peek() {
            if scalar == "\n" { throw problem("a string is not closed before the end of the line") }
            advance()
            switch scalar {
            case "\"": return text
            case "\\": text.unicodeScalars.append(try escape())
            default: text.unicodeScalars.append(scalar)
            }
        }
        throw problem("a string is not closed before the end of the file")
    }

    private mutating func escape() throws(Diagnostic) -> Unicode.Scalar {
        guard let scalar = peek() else { throw problem("an escape at the end of the file") }
        advance()
        switch scalar {
        case "n": return "\n"
        case "t": return "\t"
        case "r": return "\r"
        case "b": return "\u{08}"
        case "f": return "\u{0C}"
        case "\"": return "\""
        case "\\": return "\\"
        case "u", "U":
            let count = scalar == "u" ? 4 : 8
            var hex = ""
            for _ in 0..<count {
                guard let digit = peek() else { break }
                hex.unicodeScalars.append(digit)
                advance()
            }
            guard let code = UInt32(hex, radix: 16), let result = Unicode.Scalar(code) else {
                throw problem("`\\\(scalar)\(hex)` is not a valid Unicode escape")
            }
            return result
        default:
            throw problem("`\\\(scalar)` is not a TOML escape", fix: "write \\\\ for a backslash")
        }
    }

    private mutating func literalString() throws(Diagnostic) -> String {
        advance()
        if peek() == "'", peek(offset: 1) == "'" {
            throw problem("multi-line strings are not supported in templates", fix: "write the value on one line")
        }
        var text = ""
        while let scalar = peek(), scalar != "\n" {
            advance()
            if scalar == "'" { return text }
            text.unicodeScalars.append(scalar)
        }
        throw problem("a literal string is not closed before the end of the line")
    }

    // MARK: Scanning

    private func peek(offset: Int = 0) -> Unicode.Scalar? {
        index + offset < scalars.count ? scalars[index + offset] : nil
    }

    private mutating func advance() {
        guard index < scalars.count else { return }
        if scalars[index] == "\n" {
            line += 1
            column = 1
        } else {
            column += 1
        }
        index += 1
    }

    private mutating func skipSpaces() {
        while let scalar = peek(), scalar == " " || scalar == "\t" { advance() }
    }

    private mutating func skipComment() {
        guard peek() == "#" else { return }
        while let scalar = peek(), scalar != "\n" { advance() }
    }

    private mutating func skipBlankLinesAndComments() {
        while true {
            skipSpaces()
            skipComment()
            guard let scalar = peek(), scalar == "\n" || scalar == "\r" else { return }
            advance()
        }
    }

    private mutating func skipWhitespaceCommentsAndNewlines() {
        skipBlankLinesAndComments()
    }

    private mutating func endOfLine() throws(Diagnostic) {
        skipSpaces()
        skipComment()
        if peek() == "\r" { advance() }
        guard let scalar = peek() else { return }
        guard scalar == "\n" else { throw problem("unexpected \(describePeek()) after a value", fix: "put one key = value per line") }
        advance()
    }

    private mutating func expect(_ wanted: Unicode.Scalar) throws(Diagnostic) {
        guard peek() == wanted else { throw problem("expected `\(wanted)`, found \(describePeek())") }
        advance()
    }

    private func describePeek() -> String {
        guard let scalar = peek() else { return "the end of the file" }
        return scalar == "\n" ? "the end of the line" : "`\(scalar)`"
    }

    private func problem(_ message: String, fix: String? = nil) -> Diagnostic {
        Diagnostic(
            location: SourceLocation(file: file, line: line, column: column), path: "", message: "invalid TOML: \(message)", fix: fix)
    }
}
