import ArgumentParser
import Foundation

struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback", abstract: "Return to an earlier release: its build and its configuration.",
        discussion: "Without --to: the last successful release before the current one. Exit codes as for apply.")

    @OptionGroup var options: DeployOptions

    @Option(help: "The release to return to: v3 or 3 (see `orchestrate releases`).")
    var to: String?

    @Flag(help: "Print the resulting release as JSON.")
    var json = false

    @Flag(name: .customLong("steal-lock"), help: "Kubernetes: take the deploy lock from its holder (a run known to be dead).")
    var stealLock = false

    func run() async throws {
        try await FailureReport.reporting {
            let spec = try options.loadSpec()
            if options.chosenTarget(for: spec) == .kubernetes {
                let revision = try to.map { text -> Int in
                    guard let number = Int(text.hasPrefix("v") ? String(text.dropFirst()) : text) else {
                        throw DeployFailure(kind: .invalid, message: "--to takes a revision number, such as 3")
                    }
                    return number
                }
                try await KubernetesCommands(options: options, spec: spec).rollback(to: revision, stealLock: stealLock, json: json)
                return
            }
            let platform = try options.platform(for: spec)
            let lock = try options.lock(spec, command: "orchestrate rollback \(spec.name)")
            defer { lock.release() }
            let releases = try platform.history.all()
            var target: ReleaseRecord?
            if let to {
                let id = Int(to.hasPrefix("v") ? String(to.dropFirst()) : to)
                guard let found = releases.first(where: { $0.id == id }) else {
                    let known = releases.map(\.name).joined(separator: ", ")
                    throw DeployFailure(
                        kind: .invalid, message: "\(spec.name) has no release \(to); it has: \(known.isEmpty ? "none" : known)")
                }
                target = found
            }
            let deployer = Deployer(platform: platform, progress: Progress.reporter(), actor: DeployOptions.actor)
            let chosen = target
            let release = try await Interruptible.run { try await deployer.rollback(to: chosen) }
            let instances = try await platform.fleet.instances()
            if json {
                Terminal.out(try JSONCoding.encode(ReleaseReport(release: release, instances: instances)))
            } else {
                Terminal.out("\(spec.name): \(release.name) (\(release.message ?? "rollback")) is live on \(instances.count) instance(s)")
            }
        }
    }
}
