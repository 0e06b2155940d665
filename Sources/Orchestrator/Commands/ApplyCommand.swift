import ArgumentParser
import Foundation
import Manifests

struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply", abstract: "Roll out an environment (or a saved plan), gated on health, rolling back on failure.",
        discussion: """
            Runs the release command (migrations) before any new instance serves, replaces instances \
            with the spec's strategy, waits for each to pass its health checks and, if one fails or \
            crash-loops, returns to the last successful release. Exit codes: 0 live, 1 invalid input, \
            3 failed and rolled back, 4 failed and the rollback failed too, 5 locked by another run, \
            6 the saved plan is stale, 130 interrupted.
            """)

    /// Its environment argument may also be a plan saved by `plan --out`.
    @OptionGroup var given: DeployOptions

    @Option(help: "The pet-backend build to deploy. Default: the one built next to orchestrate.")
    var binary: String?

    @Flag(help: "Do not ask for confirmation (CI does not ask anyway: no terminal).")
    var yes = false

    @Flag(help: "Print the resulting release as JSON.")
    var json = false

    @Option(help: "Kubernetes: the image to deploy, by digest (REPO@sha256:...).")
    var image: String?

    @Flag(name: .customLong("force-conflicts"), help: "Kubernetes: take over fields another field manager owns.")
    var forceConflicts = false

    @Flag(name: .customLong("steal-lock"), help: "Kubernetes: take the deploy lock from its holder (a run known to be dead).")
    var stealLock = false

    func run() async throws {
        try await FailureReport.reporting {
            let saved = try SavedPlan.load(given.environment)
            let options = saved?.options(given) ?? given
            let spec = try options.loadSpec()
            let target = try options.deployTarget(
                for: spec, binary: saved?.binary ?? binary, image: saved?.plan.image ?? image, forceConflicts: forceConflicts,
                stealLock: stealLock)
            let (confirmed, planFile) = (yes, given.environment)
            let report = try await DeployTargets.using(target) { target in
                try await Interruptible.run {
                    try await target.locked(command: "orchestrate apply \(spec.name)") { () -> TargetReport? in
                        let plan: Plan
                        if let saved {
                            guard try await target.liveFingerprint() == saved.plan.liveFingerprint else {
                                throw DeployFailure(
                                    kind: .stalePlan,
                                    message: "\(planFile) was planned against a live state that has changed since; plan again")
                            }
                            plan = saved.plan
                        } else {
                            plan = try await target.plan()
                        }
                        Terminal.error(PlanPrinter.text(plan, style: TextStyle(colors: Terminal.colorsOnStandardError)))
                        guard plan.hasChanges else { return nil }
                        if !confirmed, isatty(STDIN_FILENO) == 1, !Terminal.confirm("Apply these changes to \(spec.name)?") {
                            throw DeployFailure(kind: .invalid, message: "apply cancelled; nothing was changed")
                        }
                        return try await target.apply(plan)
                    }
                }
            }
            if let report { Terminal.out(json ? report.json : report.text) }
        }
    }
}
