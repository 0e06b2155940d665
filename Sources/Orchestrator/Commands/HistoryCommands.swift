import ArgumentParser
import Foundation

struct ReleasesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "releases", abstract: "An environment's release history: build digest, spec, when, by whom, outcome.")

    @OptionGroup var options: DeployOptions

    @Flag(help: "Print the history as JSON.")
    var json = false

    func run() async throws {
        try await FailureReport.reporting {
            let spec = try options.loadSpec()
            let report = try await DeployTargets.using(try options.deployTarget(for: spec)) { try await $0.releases() }
            Terminal.out(json ? report.json : report.text)
        }
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "What runs now: the current release, each instance with its version and health.")

    @OptionGroup var options: DeployOptions

    @Flag(help: "Print the status as JSON.")
    var json = false

    func run() async throws {
        try await FailureReport.reporting {
            let spec = try options.loadSpec()
            let report = try await DeployTargets.using(try options.deployTarget(for: spec)) { try await $0.status() }
            Terminal.out(json ? report.json : report.text)
        }
    }
}

struct DownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down", abstract: "Stop an environment's instances, Redis and PostgreSQL on this machine; data and history stay.")

    @OptionGroup var options: DeployOptions

    func run() async throws {
        try await FailureReport.reporting {
            let spec = try options.loadSpec()
            let report = try await DeployTargets.using(try options.deployTarget(for: spec)) { target in
                try await target.locked(command: "orchestrate down \(spec.name)") { try await target.down() }
            }
            Terminal.out(report.text)
        }
    }
}

/// Left-aligned columns, two spaces apart.
enum Table {
    /// `sha256:0123456789ab`: a digest short enough for a column.
    static func short(_ digest: String) -> String {
        guard let colon = digest.firstIndex(of: ":") else { return digest }
        return String(digest[...colon]) + digest[digest.index(after: colon)...].prefix(12)
    }

    static func render(_ rows: [[String]]) -> String {
        let widths = rows.reduce(into: [Int]()) { widths, row in
            for (index, cell) in row.enumerated() {
                if index < widths.count { widths[index] = max(widths[index], cell.count) } else { widths.append(cell.count) }
            }
        }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }.joined(separator: "\n")
    }
}
