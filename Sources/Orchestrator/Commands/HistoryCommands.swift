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
            if options.chosenTarget(for: spec) == .kubernetes {
                try await KubernetesCommands(options: options, spec: spec).releases(json: json)
                return
            }
            let platform = try options.platform(for: spec)
            let releases = try platform.history.all()
            let current = try platform.history.current()
            if json {
                Terminal.out(try JSONCoding.encode(ReleaseHistoryReport(current: current?.id, releases: releases)))
                return
            }
            guard !releases.isEmpty else {
                Terminal.out("\(spec.name) has no releases yet; `orchestrate apply \(spec.name)` makes the first.")
                return
            }
            var rows = [["", "RELEASE", "OUTCOME", "IMAGE", "SPEC", "CREATED", "BY", "NOTE"]]
            for release in releases.reversed() {
                rows.append([
                    release.id == current?.id ? "*" : "", release.name, release.outcome.rawValue,
                    Self.short(release.configuration.artifact.digest), Self.short(release.configuration.specHash),
                    Timestamps.iso8601(release.createdAt), release.createdBy, release.message ?? "",
                ])
            }
            Terminal.out(Table.render(rows))
        }
    }

    static func short(_ digest: String) -> String {
        guard let colon = digest.firstIndex(of: ":") else { return digest }
        return String(digest[...colon]) + digest[digest.index(after: colon)...].prefix(12)
    }
}

struct ReleaseHistoryReport: Codable {
    var current: Int?
    var releases: [ReleaseRecord]
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
            if options.chosenTarget(for: spec) == .kubernetes {
                try await KubernetesCommands(options: options, spec: spec).status(json: json)
                return
            }
            let platform = try options.platform(for: spec)
            let live = try await platform.observe()
            if json {
                Terminal.out(try JSONCoding.encode(live))
                return
            }
            let release = live.current.map { "\($0.name) (\(ReleasesCommand.short($0.configuration.artifact.digest)))" } ?? "none"
            Terminal.out("\(spec.name) on \(platform.targetName): current release \(release)")
            for component in live.components {
                Terminal.out("  \(component.name): \(component.present ? "up" : "down") — \(component.detail)")
            }
            var rows = [["INSTANCE", "RELEASE", "STATE", "HEALTH", "RESTARTS", "ADDRESS"]]
            for instance in live.instances {
                let health = instance.healthy.map { $0 ? "healthy" : "unhealthy" } ?? "-"
                rows.append([
                    instance.name, "v\(instance.releaseID)", instance.state.rawValue, health, String(instance.restarts), instance.address,
                ])
            }
            Terminal.out(live.instances.isEmpty ? "  no instances" : Table.render(rows))
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
            let platform = try options.platform(for: spec)
            let lock = try options.lock(spec, command: "orchestrate down \(spec.name)")
            defer { lock.release() }
            try await platform.down(progress: Progress.reporter())
            Terminal.out("\(spec.name): stopped; `orchestrate apply \(spec.name)` starts it again with its data")
        }
    }
}

/// Left-aligned columns, two spaces apart.
enum Table {
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
