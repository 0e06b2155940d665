/// One problem found in a spec: where it is, what is wrong, and how to fix it.
public struct Diagnostic: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    public var location: SourceLocation?
    /// The dotted key path inside the spec, such as `database.pool.max`; empty for file-level problems.
    public var path: String
    public var message: String
    public var fix: String?

    public init(location: SourceLocation?, path: String, message: String, fix: String? = nil) {
        self.location = location
        self.path = path
        // A message quotes what it complains about, and that can be a 5 MB value: stderr gets
        // an excerpt.
        self.message = Excerpt.of(message, limit: 600)
        self.fix = fix.map { Excerpt.of($0, limit: 600) }
    }

    public var description: String {
        var text = location.map { "\($0): " } ?? ""
        text += "error: "
        if !path.isEmpty { text += "\(path): " }
        text += message
        if let fix { text += "\n  fix: \(fix)" }
        return text
    }
}

/// Collects every problem of a run so that one `validate` reports them all, not just the first.
public final class DiagnosticLog {
    public private(set) var diagnostics: [Diagnostic] = []

    public init() {}

    public var isEmpty: Bool { diagnostics.isEmpty }

    public func error(_ message: String, at location: SourceLocation?, path: String, fix: String? = nil) {
        diagnostics.append(Diagnostic(location: location, path: path, message: message, fix: fix))
    }

    public func append(_ diagnostic: Diagnostic) {
        diagnostics.append(diagnostic)
    }

    /// Diagnostics in file order, so the output reads top to bottom like the files do.
    public var sorted: [Diagnostic] {
        diagnostics.enumerated().sorted { lhs, rhs in
            let l = lhs.element.location
            let r = rhs.element.location
            if l?.file != r?.file { return (l?.file ?? "") < (r?.file ?? "") }
            if l?.line != r?.line { return (l?.line ?? 0) < (r?.line ?? 0) }
            if l?.column != r?.column { return (l?.column ?? 0) < (r?.column ?? 0) }
            return lhs.offset < rhs.offset
        }.map(\.element)
    }
}
