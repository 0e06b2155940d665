import Crypto
import Foundation
import Manifests

/// Where a target keeps the environment's secret values: `secrets.env` locally, the named
/// Secret on Kubernetes, the app's secrets on Fly. Values go in; only names and short digests
/// come out.
protocol SecretStore: Sendable {
    /// Names and a short digest of each value (never the value).
    func list() async throws -> [SecretEntry]
    /// Sets the values; returns a note for the user (Fly's new secrets version).
    func set(_ values: [String: String]) async throws -> String?
    func unset(_ names: [String]) async throws
}

struct SecretEntry: Codable, Sendable, Equatable {
    var name: String
    var digest: String
}

enum SecretDigest {
    /// 12 hex digits of SHA-256: enough to see that a value changed, useless to recover it.
    static func short(_ value: String) -> String {
        String(SHA256.hash(data: Array(value.utf8)).map { String(format: "%02x", $0) }.joined().prefix(12))
    }
}

/// What `secrets set` takes, checked against the spec before any value leaves this machine.
enum SecretValues {
    /// Standard input: the value itself for one name; `NAME=value` lines for several.
    static func parse(names: [String], input: String) throws -> [String: String] {
        if names.count == 1 {
            let value = input.hasSuffix("\r\n") ? String(input.dropLast(2)) : input.hasSuffix("\n") ? String(input.dropLast()) : input
            return [names[0]: value]
        }
        let pairs = try dotenv(input, source: "standard input")
        let missing = names.filter { pairs[$0] == nil }
        guard missing.isEmpty else {
            throw DeployFailure(
                kind: .invalid, message: "standard input has no NAME=value line for \(missing.joined(separator: ", "))")
        }
        return pairs.filter { names.contains($0.key) }
    }

    /// `NAME=value` lines; `#` comments and blank lines skipped.
    static func dotenv(_ text: String, source: String) throws -> [String: String] {
        var values: [String: String] = [:]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw DeployFailure(kind: .invalid, message: "\(source):\(index + 1): expected NAME=value")
            }
            values[String(trimmed[..<equals])] = String(trimmed[trimmed.index(after: equals)...])
        }
        return values
    }

    /// Every name must be one of the spec's secrets and every value meet its rules; the
    /// messages name the rule, never the value.
    static func check(_ values: [String: String], against spec: EnvironmentSpec) throws {
        var problems: [String] = []
        for (name, value) in values.sorted(by: { $0.key < $1.key }) {
            guard let rule = spec.secrets.first(where: { $0.name == name }) else {
                problems.append("\(name) is not one of \(spec.name)'s secrets (add it under `secrets:` in the spec first)")
                continue
            }
            if value.isEmpty { problems.append("\(name) is empty") }
            if value.contains(where: \.isNewline) {
                problems.append("\(name) contains a line break, which an environment variable cannot carry")
            }
            problems += rule.problems(withValue: value)
        }
        guard problems.isEmpty else {
            throw DeployFailure(kind: .invalid, message: "nothing was set:\n  " + problems.joined(separator: "\n  "))
        }
    }
}

/// `secrets.env` in the local state folder.
struct LocalSecretStore: SecretStore {
    let path: String

    func list() async throws -> [SecretEntry] {
        (try LocalSecrets.load(path)?.values ?? [:]).sorted { $0.key < $1.key }.map {
            SecretEntry(name: $0.key, digest: SecretDigest.short($0.value))
        }
    }

    func set(_ values: [String: String]) async throws -> String? {
        var current = try LocalSecrets.load(path) ?? LocalSecrets(values: [:])
        current.values.merge(values) { $1 }
        try write(current)
        return nil
    }

    func unset(_ names: [String]) async throws {
        guard var current = try LocalSecrets.load(path) else { return }
        for name in names { current.values[name] = nil }
        try write(current)
    }

    private func write(_ secrets: LocalSecrets) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try LocalSecrets.write(secrets, to: path)
    }
}
