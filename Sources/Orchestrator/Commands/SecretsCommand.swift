import ArgumentParser
import Foundation
import ProcessSupport

struct SecretsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secrets", abstract: "Set, list and unset an environment's secrets on its target; values never appear in arguments.",
        subcommands: [SetSecrets.self, ListSecrets.self, UnsetSecrets.self])
}

struct SetSecrets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set secrets from standard input (the value for one name, NAME=value lines for several), the environment or a file.",
        discussion: "Each value is checked against the spec's rules for it before it leaves this machine.")

    @OptionGroup var options: DeployOptions

    @Argument(help: "The secrets' names, as the spec lists them.")
    var names: [String]

    @Flag(name: .customLong("from-env"), help: "Take each value from this process's environment variable of the same name.")
    var fromEnvironment = false

    @Option(name: .customLong("from-file"), help: "Take the values from a file of NAME=value lines.")
    var file: String?

    func run() async throws {
        try await FailureReport.reporting {
            let spec = try options.loadSpec()
            guard !names.isEmpty else { throw DeployFailure(kind: .invalid, message: "name at least one secret to set") }
            let values = try readValues()
            try SecretValues.check(values, against: spec)
            let note = try await DeployTargets.using(try options.deployTarget(for: spec)) { target in
                try await target.secretStore().set(values)
            }
            Terminal.out("\(spec.name): set \(values.keys.sorted().joined(separator: ", "))" + (note.map { "; \($0)" } ?? ""))
        }
    }

    private func readValues() throws -> [String: String] {
        if fromEnvironment {
            let environment = ProcessInfo.processInfo.environment
            let missing = names.filter { environment[$0] == nil }
            guard missing.isEmpty else {
                throw DeployFailure(kind: .invalid, message: "not in the environment: \(missing.joined(separator: ", "))")
            }
            return Dictionary(names.map { ($0, environment[$0] ?? "") }, uniquingKeysWith: { $1 })
        }
        if let file {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            let all = try SecretValues.dotenv(text, source: file)
            let missing = names.filter { all[$0] == nil }
            guard missing.isEmpty else {
                throw DeployFailure(kind: .invalid, message: "\(file) has no line for \(missing.joined(separator: ", "))")
            }
            return all.filter { names.contains($0.key) }
        }
        if isatty(STDIN_FILENO) == 1 {
            Terminal.error(names.count == 1 ? "value of \(names[0]) (then Ctrl-D):" : "NAME=value lines (then Ctrl-D):")
        }
        let input: Data
        do {
            input = try FileHandle.standardInput.readAllRetryingInterrupts()
        } catch {
            throw DeployFailure(
                kind: .invalid,
                message: "cannot read the values from standard input (\(error)); pipe them in, or use --from-file FILE or --from-env")
        }
        return try SecretValues.parse(names: names, input: String(decoding: input, as: UTF8.self))
    }
}

struct ListSecrets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "The secrets set on the target: names and a short digest of each value, never the value.")

    @OptionGroup var options: DeployOptions

    @Flag(help: "Print the list as JSON.")
    var json = false

    func run() async throws {
        try await FailureReport.reporting {
            let spec = try options.loadSpec()
            let entries = try await DeployTargets.using(try options.deployTarget(for: spec)) { try await $0.secretStore().list() }
            if json {
                Terminal.out(try JSONCoding.encode(entries))
                return
            }
            let set = Set(entries.map(\.name))
            var rows = [["NAME", "DIGEST", "SPEC"]]
            for entry in entries {
                let rule = spec.secrets.first { $0.name == entry.name }
                rows.append([entry.name, entry.digest, rule.map { $0.required ? "required" : "optional" } ?? "not in the spec"])
            }
            for secret in spec.secrets where !set.contains(secret.name) {
                rows.append([secret.name, "-", secret.required ? "required, NOT SET" : "optional, not set"])
            }
            Terminal.out(Table.render(rows))
        }
    }
}

struct UnsetSecrets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unset", abstract: "Remove secrets from the target.")

    @OptionGroup var options: DeployOptions

    @Argument(help: "The secrets' names.")
    var names: [String]

    func run() async throws {
        try await FailureReport.reporting {
            let spec = try options.loadSpec()
            try await DeployTargets.using(try options.deployTarget(for: spec)) { try await $0.secretStore().unset(names) }
            Terminal.out("\(spec.name): unset \(names.joined(separator: ", "))")
        }
    }
}
