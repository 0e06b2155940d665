/// `verify:` — the load `orchestrate verify` offers an environment to check its `slo`: a constant
/// arrival rate over named scenarios. Read-only unless a scenario says otherwise, so that it is
/// safe to point at production.
public struct VerifySpec: Sendable, Equatable {
    public struct Scenario: Sendable, Equatable {
        public var name: String
        public var method: String
        public var path: String
        /// The status an answer must have to count as a success.
        public var status: Int
        /// Its share of the requests, relative to the other scenarios' weights.
        public var weight: Int
        public var headers: [String: String]
        /// An environment variable holding a bearer token; its value is never printed or stored.
        public var tokenFrom: String?
    }

    /// Requests per second.
    public var rate: Int
    public var duration: SpecDuration
    /// Load sent first and not measured (caches, connection pools, JIT-free but not cold).
    public var warmup: SpecDuration
    /// How long one request may take before it counts as an error.
    public var timeout: SpecDuration
    /// The most connections the generator opens (and so the most requests in flight).
    public var connections: Int
    public var scenarios: [Scenario]

    public static func defaults(livenessPath: String) -> VerifySpec {
        VerifySpec(
            rate: 20, duration: .seconds(30), warmup: .seconds(5), timeout: .seconds(10), connections: 64,
            scenarios: [Scenario(name: "liveness", method: "GET", path: livenessPath, status: 200, weight: 1, headers: [:], tokenFrom: nil)]
        )
    }
}

extension VerifySpec {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext, livenessPath: String) -> VerifySpec? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let defaults = Self.defaults(livenessPath: livenessPath)
        let rate = map.optional("rate", default: defaults.rate, in: 1...100_000)
        let duration = map.optional("duration", default: defaults.duration, in: .seconds(1)...SpecDuration.seconds(3600))
        let warmup = map.optional("warmup", default: defaults.warmup, in: .seconds(0)...SpecDuration.seconds(600))
        let timeout = map.optional("timeout", default: defaults.timeout, in: SpecDuration(milliseconds: 10)...SpecDuration.seconds(300))
        let connections = map.optional("connections", default: defaults.connections, in: 1...4096)
        let scenarios = map.optional("scenarios", as: [Scenario].self)
        let scenariosFailed = map.keys.contains("scenarios") && scenarios == nil
        map.finish()
        guard !scenariosFailed else { return nil }
        if let scenarios, scenarios.isEmpty {
            context.error(
                "`scenarios` is empty: verify would send nothing", at: context.locations[childPath(path, "scenarios")],
                path: childPath(path, "scenarios"), fix: "list at least one scenario, or remove the key for the liveness default")
            return nil
        }
        return VerifySpec(
            rate: rate, duration: duration, warmup: warmup, timeout: timeout, connections: connections,
            scenarios: scenarios ?? defaults.scenarios)
    }
}

extension VerifySpec {
    /// A target's `publicURL`: scheme and host (and port), no path, as clients address the service.
    static func publicURL(in map: MapReader) -> String? {
        guard let text = map.optional("publicURL", as: String.self) else { return nil }
        let path = childPath(map.path, "publicURL")
        let rest = text.hasPrefix("https://") ? text.dropFirst(8) : text.hasPrefix("http://") ? text.dropFirst(7) : nil
        guard let rest, !rest.isEmpty, !rest.dropLast(rest.hasSuffix("/") ? 1 : 0).contains("/"), !rest.contains(" ") else {
            map.context.error(
                "publicURL `\(text)` is not a base URL", at: map.context.locations[path], path: path,
                fix: "write the scheme and host clients use, such as https://api.example.com (no path)")
            return nil
        }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }
}

extension VerifySpec.Scenario: SpecReadable {
    static let readOnlyMethods = ["GET", "HEAD", "OPTIONS"]

    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> Self? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let name = map.required("name", as: String.self)
        let method = map.optional("method", default: "GET").uppercased()
        let requestPath = map.required("path", as: String.self).flatMap {
            HealthSpec.checkPath($0, at: childPath(path, "path"), in: context)
        }
        let status = map.optional("status", default: 200, in: 100...599)
        let weight = map.optional("weight", default: 1, in: 1...1000)
        let writes = map.optional("allowWrites", default: false)
        let tokenFrom = map.optional("tokenFrom", as: String.self)
        let headers = map.entry("headers").flatMap { readHeaders($0.value, at: childPath(path, "headers"), in: context) }
        let headersFailed = map.keys.contains("headers") && headers == nil
        map.finish()
        guard let name, let requestPath, !headersFailed else { return nil }
        var failed = false
        if !method.allSatisfy({ $0.isASCII && $0.isLetter }) || method.isEmpty {
            context.error(
                "`\(method)` is not an HTTP method", at: context.locations[childPath(path, "method")], path: childPath(path, "method"),
                fix: "write GET, HEAD or OPTIONS (or another method with `allowWrites: true`)")
            failed = true
        } else if !readOnlyMethods.contains(method), !writes {
            context.error(
                "\(method) changes data, and verify may run against production", at: context.locations[childPath(path, "method")],
                path: childPath(path, "method"), fix: "use GET, or add `allowWrites: true` to this scenario if it is meant to write")
            failed = true
        }
        if let tokenFrom, !Names.isEnvironmentVariable(tokenFrom) {
            context.error(
                "`\(tokenFrom)` is not an environment variable name", at: context.locations[childPath(path, "tokenFrom")],
                path: childPath(path, "tokenFrom"), fix: "name the variable that holds the token, such as VERIFY_TOKEN")
            failed = true
        }
        guard !failed else { return nil }
        return Self(
            name: name, method: method, path: requestPath, status: status, weight: weight, headers: headers ?? [:], tokenFrom: tokenFrom)
    }

    private static func readHeaders(_ node: SpecNode, at path: String, in context: ReadContext) -> [String: String]? {
        guard let entries = node.entries else {
            context.typeMismatch(node, path: path, expected: "a map from header name to value", example: "{ Accept: application/json }")
            return nil
        }
        var headers: [String: String] = [:]
        var failed = false
        for entry in entries {
            let headerPath = childPath(path, entry.key)
            context.record(headerPath, at: entry.keyLocation)
            guard !entry.key.isEmpty, entry.key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
                context.error(
                    "`\(entry.key)` is not an HTTP header name", at: entry.keyLocation, path: headerPath,
                    fix: "use letters, digits and '-', such as Accept")
                failed = true
                continue
            }
            if entry.key.lowercased() == "authorization" {
                context.error(
                    "a credential does not belong in a spec", at: entry.keyLocation, path: headerPath,
                    fix: "remove it and set `tokenFrom: VARIABLE` with the token in that environment variable")
                failed = true
                continue
            }
            guard let value = String.read(entry.value, at: headerPath, in: context) else {
                failed = true
                continue
            }
            headers[entry.key] = value
        }
        return failed ? nil : headers
    }
}
