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
            var options = given
            if let saved {
                options.environment = saved.environment
                options.stateDirectory = saved.stateDirectory
                options.locations.environmentsDirectory = saved.environmentsDirectory
                options.locations.templatesDirectory = saved.templatesDirectory
            }
            let spec = try options.loadSpec()
            if saved == nil, options.chosenTarget(for: spec) == .kubernetes {
                try await KubernetesCommands(options: options, spec: spec).apply(
                    image: image, yes: yes, force: forceConflicts, stealLock: stealLock, json: json)
                return
            }
            let platform = try options.platform(for: spec)
            let lock = try options.lock(spec, command: "orchestrate apply \(spec.name)")
            defer { lock.release() }
            let live = try await platform.observe()
            let plan: Plan
            if let saved {
                guard saved.plan.liveFingerprint == live.fingerprint else {
                    throw DeployFailure(
                        kind: .stalePlan,
                        message: "\(given.environment) was planned against a live state that has changed since; plan again")
                }
                plan = saved.plan
            } else {
                let desired = try platform.desired(binary: binary ?? DeployOptions.defaultBinary)
                plan = PlanBuilder.plan(environment: spec.name, target: platform.targetName, desired: desired, live: live)
            }
            Terminal.error(PlanPrinter.text(plan, style: TextStyle(colors: Terminal.colorsOnStandardError)))
            guard plan.hasChanges else { return }
            if !yes, isatty(STDIN_FILENO) == 1, !Terminal.confirm("Apply these changes to \(spec.name)?") {
                throw DeployFailure(kind: .invalid, message: "apply cancelled; nothing was changed")
            }
            let deployer = Deployer(platform: platform, progress: Progress.reporter(), actor: DeployOptions.actor)
            let release = try await Interruptible.run { try await deployer.apply(plan) }
            let instances = try await platform.fleet.instances()
            if json {
                Terminal.out(try JSONCoding.encode(ReleaseReport(release: release, instances: instances)))
            } else {
                Terminal.out(
                    "\(spec.name): \(release.name) is live on \(instances.count) instance(s): "
                        + instances.map(\.address).joined(separator: " "))
            }
        }
    }
}

struct ReleaseReport: Codable {
    var release: ReleaseRecord
    var instances: [InstanceStatus]
}
