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
            let target = try options.deployTarget(for: spec, stealLock: stealLock)
            let release = to
            let report = try await DeployTargets.using(target) { target in
                try await Interruptible.run {
                    try await target.locked(command: "orchestrate rollback \(spec.name)") { try await target.rollback(to: release) }
                }
            }
            Terminal.out(json ? report.json : report.text)
        }
    }
}
