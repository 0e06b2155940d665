/// `cors:` — the browser origins allowed to call the API (`CORS_ORIGIN`).
public struct CORSSpec: Sendable, Equatable {
    public var origins: [String]
}

extension CORSSpec: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> CORSSpec? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let originsEntry = map.entry("origins")
        map.finish()
        guard let originsEntry else { return CORSSpec(origins: []) }
        let originsPath = childPath(path, "origins")
        guard let origins = [String].read(originsEntry.value, at: originsPath, in: context) else { return nil }
        guard case .list(let items) = originsEntry.value.value else { return nil }
        var valid = true
        for (origin, item) in zip(origins, items) where origin != "*" {
            if let problem = problem(with: origin) {
                context.error(problem.message, at: item.location, path: originsPath, fix: problem.fix)
                valid = false
            }
        }
        return valid ? CORSSpec(origins: origins) : nil
    }

    /// A browser sends `Origin: scheme://host[:port]` exactly; anything else never matches.
    static func problem(with origin: String) -> UnitError? {
        let parts = origin.split(separator: "://", maxSplits: 1).map(String.init)
        guard parts.count == 2, ["http", "https"].contains(parts[0]), !parts[1].isEmpty else {
            return UnitError("`\(origin)` is not an origin", fix: "write scheme and host, such as https://example.com")
        }
        if parts[1].contains("/") {
            let trimmed = parts[0] + "://" + (parts[1].split(separator: "/").first.map(String.init) ?? "")
            return UnitError(
                "`\(origin)` has a path or trailing slash, so no browser Origin header will ever match it", fix: "write `\(trimmed)`")
        }
        if parts[1] != parts[1].lowercased() {
            return UnitError(
                "`\(origin)` has upper-case letters; browsers send the host in lower case", fix: "write `\(origin.lowercased())`")
        }
        return nil
    }
}
