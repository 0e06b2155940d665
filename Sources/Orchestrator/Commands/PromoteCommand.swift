import ArgumentParser
import Foundation
import Manifests

struct PromoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote", abstract: "Deploy the exact build an environment runs, verified, to the next one, gated on its SLOs.",
        discussion: """
            Takes FROM's current release (it must have succeeded and passed `verify`, or pass --verify to \
            run it now), copies its image by digest to TO's repository when TO pulls from another, and \
            rolls it out on TO with TO's own spec and strategy: with a canary strategy the canary must pass \
            verify before the rest roll; after the rollout verify runs again; a missed objective returns TO \
            to its last successful release. TO's release records where it came from. Exit codes: 0 \
            promoted (or TO already runs it), 1 refused or invalid, 3 a gate or health check failed and TO \
            was rolled back, 4 the rollback failed too, 5 TO is locked, 2 with --dry-run \
            --detailed-exitcode: TO's plan has changes.
            """)

    /// FROM, with the options both environments share; `--target` names TO's target.
    @OptionGroup var given: DeployOptions

    @Argument(help: "The environment to deploy to (prod).")
    var to: String

    @Option(name: .customLong("from-target"), help: "FROM's target. Default: FROM's `targets.default`, else local.")
    var fromTarget: TargetsSpec.Name?

    @Flag(help: "Run verify on FROM now instead of requiring a recorded pass.")
    var verify = false

    @Flag(help: "Do not ask for confirmation.")
    var yes = false

    @Flag(help: "Print the outcome as JSON.")
    var json = false

    @Flag(name: .customLong("dry-run"), help: "Show TO's plan for FROM's build and stop.")
    var dryRun = false

    @Flag(name: .customLong("detailed-exitcode"), help: "With --dry-run: exit 0 when TO already runs it, 2 when it would change.")
    var detailedExitCode = false

    @Option(help: "Registry user for copying the image; the password is read from REGISTRY_PASSWORD.")
    var username: String?

    func run() async throws {
        let summary = PromotionSummary()
        do {
            try await FailureReport.reporting {
                do {
                    try await promote(summary)
                } catch let failure as DeployFailure {
                    summary.outcome = "failed (exit \(failure.kind.rawValue)): \(failure.message)"
                    throw failure
                }
            }
        } catch {
            summary.outcome = summary.outcome ?? "failed"
            StepSummary.append(summary.markdown)
            throw error
        }
        StepSummary.append(summary.markdown)
    }

    private func promote(_ summary: PromotionSummary) async throws {
        var fromOptions = given
        fromOptions.target = fromTarget
        var toOptions = given
        toOptions.environment = to
        let from = try fromOptions.loadSpec()
        let toSpec = try toOptions.loadSpec()
        guard from.name != toSpec.name else {
            throw DeployFailure(kind: .invalid, message: "promote moves a release between two environments; both are \(from.name)")
        }
        let (fromKind, toKind) = (fromOptions.chosenTarget(for: from), toOptions.chosenTarget(for: toSpec))
        guard (fromKind == .local) == (toKind == .local) else {
            throw DeployFailure(
                kind: .invalid,
                message: "\(from.name) runs on \(fromKind.rawValue) and \(toSpec.name) on \(toKind.rawValue): a local release is a "
                    + "binary, Fly and Kubernetes run images, so the same build cannot move between them")
        }
        summary.title = "promote \(from.name) (\(fromKind.rawValue)) → \(toSpec.name) (\(toKind.rawValue))"
        let progress = Progress.reporter()
        let promotion = Promotion(from: from, to: toSpec, toTargetName: toKind.rawValue, progress: progress)
        let (verifyNow, confirmed, dryRun, username, log) = (verify, yes, dryRun, username, GateLog())
        let (fromChosen, toChosen) = (fromOptions, toOptions)
        defer { summary.gates = log.all }
        // One interruptible run for both environments: Ctrl-C anywhere stops after the current
        // step, and the next promote converges (a gate it missed runs then).
        let (live, build, origin) = try await Interruptible.run { () -> (ReleaseSummary?, String, PromotionOrigin) in
            let source = try fromChosen.deployTarget(for: from)
            let (release, deployable) = try await DeployTargets.using(source) { source in
                let release = try await promotion.promotable(
                    in: source, verifyNow: verifyNow, settings: VerifySettings(spec: from.verify), sourceTarget: fromKind.rawValue)
                return (release, source.deployable(release.artifact))
            }
            summary.source = "\(from.name) \(release.name), \(release.artifact.digest): \(release.verification?.summary ?? "")"
            progress.step("promoting \(from.name) \(release.name) (\(release.artifact.digest)) to \(toSpec.name)")
            let build =
                toKind == .local
                ? deployable
                : try await Self.carry(deployable, digest: release.artifact.digest, to: toSpec, username: username, progress)
            let destination = try toChosen.deployTarget(
                for: toSpec, binary: toKind == .local ? build : nil, image: toKind == .local ? nil : build)
            let origin = PromotionOrigin(
                environment: from.name, release: release.name, digest: release.artifact.digest, verification: release.verification)
            let live = try await DeployTargets.using(destination) { destination in
                try await destination.locked(command: "orchestrate promote \(from.name) \(toSpec.name)") { () -> ReleaseSummary? in
                    let plan = try await destination.plan()
                    summary.plan = PlanPrinter.text(plan, style: TextStyle(colors: false))
                    if dryRun {
                        Terminal.out(PlanPrinter.text(plan, style: TextStyle(colors: Terminal.colorsOnStandardOutput)))
                        summary.outcome = plan.hasChanges ? "planned (dry run)" : "\(toSpec.name) already runs it"
                        return nil
                    }
                    Terminal.error(PlanPrinter.text(plan, style: TextStyle(colors: Terminal.colorsOnStandardError)))
                    guard plan.hasChanges else {
                        let current = try await destination.currentRelease()
                        // A promotion stopped during its last gate left the build live but unverified.
                        if let current, current.artifact.digest == release.artifact.digest, current.verification?.passed != true {
                            let live = try await promotion.gateAfterRollout(
                                current, on: destination, origin: origin,
                                verifier: Verifier(spec: toSpec, settings: VerifySettings(spec: toSpec.verify)), log: log)
                            summary.outcome = "promoted: \(toSpec.name) \(live.name) runs \(release.artifact.digest)"
                            return live
                        }
                        summary.outcome = "\(toSpec.name) already runs \(release.artifact.digest) with its spec; nothing to do"
                        return current
                    }
                    if !confirmed, isatty(STDIN_FILENO) == 1,
                        !Terminal.confirm("Promote \(from.name) \(release.name) to \(toSpec.name)?")
                    {
                        throw DeployFailure(kind: .invalid, message: "promote cancelled; nothing was changed")
                    }
                    let live = try await promotion.deploy(
                        plan, on: destination, origin: origin, settings: VerifySettings(spec: toSpec.verify), log: log)
                    summary.outcome = "promoted: \(toSpec.name) \(live.name) runs \(release.artifact.digest)"
                    return live
                }
            }
            return (live, build, origin)
        }
        if dryRun {
            if detailedExitCode, summary.outcome?.hasPrefix("planned") == true { throw ExitCode(2) }
            return
        }
        let report = PromotionReport(
            from: origin, to: toSpec.name, release: live?.name, image: build, outcome: summary.outcome ?? "",
            gates: log.all.map { PromotionReport.Gate(gate: $0.gate, passed: $0.report.passed, objectives: $0.report.objectives) })
        Terminal.out(json ? try JSONCoding.encode(report) : summary.outcome ?? "")
    }

    /// The image as TO pulls it: FROM's reference when TO uses the same repository, else a copy
    /// by digest into TO's `app.image`.
    private static func carry(
        _ reference: String, digest: String, to spec: EnvironmentSpec, username: String?, _ progress: any ProgressReporter
    ) async throws -> String {
        let repository = String(reference.split(separator: "@").first ?? "")
        guard repository != spec.app.image else { return reference }
        progress.step("copying \(digest) from \(repository) to \(spec.app.image)")
        do {
            let credentials = username.map {
                RegistryClient.Credentials(username: $0, password: ProcessInfo.processInfo.environment["REGISTRY_PASSWORD"] ?? "")
            }
            let copy = ImageCopy(
                source: RegistryClient(reference: try RegistryReference(parsing: repository), credentials: credentials),
                destination: RegistryClient(reference: try RegistryReference(parsing: spec.app.image), credentials: credentials))
            return try await copy.copy(digest: digest, progress: progress)
        } catch let error as ImageError {
            throw DeployFailure(kind: .invalid, message: "copying the image to \(spec.app.image) failed: \(error); nothing was deployed")
        }
    }
}

/// What `promote --json` prints.
struct PromotionReport: Codable {
    struct Gate: Codable {
        var gate: String
        var passed: Bool
        var objectives: [ObjectiveResult]
    }

    var from: PromotionOrigin
    var to: String
    var release: String?
    var image: String
    var outcome: String
    var gates: [Gate]
}

/// The Markdown summary CI shows for a promotion, filled in as it goes so that a failure still
/// says how far it got.
final class PromotionSummary: @unchecked Sendable {
    var title = "promote"
    var source: String?
    var plan: String?
    var gates: [(gate: String, report: VerifyReport)] = []
    var outcome: String?

    var markdown: String {
        var lines = ["## \(title)", ""]
        if let source { lines += ["From: \(source)", ""] }
        if let plan { lines += ["Plan:", "", "```text", plan, "```", ""] }
        for (gate, report) in gates {
            lines += ["Gate: \(gate)", "", StepSummary.verify(report), ""]
        }
        lines.append("Outcome: \(outcome ?? "not finished")")
        return lines.joined(separator: "\n")
    }
}
