import Foundation
import Manifests
import Synchronization

/// `promote FROM TO`, step by step: FROM's verified release, its build carried to where TO pulls
/// from, TO's own plan rolled out under TO's gates, and the origin kept on TO's release.
struct Promotion {
    let from: EnvironmentSpec
    let to: EnvironmentSpec
    let toTargetName: String
    let progress: any ProgressReporter

    /// FROM's current release, if it may be promoted: it succeeded and passed verify (run now
    /// when `verifyNow`).
    func promotable(in source: any DeployTarget, verifyNow: Bool, settings: VerifySettings, sourceTarget: String) async throws
        -> ReleaseSummary
    {
        guard var release = try await source.currentRelease() else {
            throw DeployFailure(kind: .invalid, message: "\(from.name) has no release yet; nothing to promote")
        }
        guard release.outcome == .succeeded else {
            throw DeployFailure(
                kind: .invalid,
                message:
                    "\(from.name)'s current release \(release.name) \(release.outcome.map { "\($0.rawValue)" } ?? "was never verified healthy"); "
                    + "promote moves only a release that succeeded")
        }
        if verifyNow {
            let report = try await Verifier(spec: from, settings: settings).run(
                route: VerifyRoute(endpoints: try await source.publicEndpoints()), target: sourceTarget, release: release.name)
            Terminal.error(report.text(styled: false))
            try await VerifyOptions.record(report, on: release, in: from, target: source)
            release.verification = report.record(by: DeployOptions.actor)
        }
        guard let verification = release.verification else {
            throw DeployFailure(
                kind: .invalid,
                message: "\(from.name) \(release.name) was never verified: run `orchestrate verify \(from.name)`, or promote with --verify")
        }
        guard verification.passed else {
            throw DeployFailure(
                kind: .invalid,
                message: "\(from.name) \(release.name) \(verification.summary); promote moves only a release that passed verify")
        }
        return release
    }

    /// Rolls `plan` out on TO with a canary gate (canary strategy) and a verify after the
    /// rollout; a missed objective returns TO to its last successful release.
    func deploy(_ plan: Plan, on destination: any DeployTarget, origin: PromotionOrigin, settings: VerifySettings, log: GateLog)
        async throws -> ReleaseSummary
    {
        let verifier = Verifier(spec: to, settings: settings)
        let targetName = toTargetName
        var gates = ReleaseGates.none
        if to.deploy.strategy == .canary {
            gates.canary = { @Sendable instance, route in
                let report = try await verifier.run(route: route, target: targetName, release: "canary \(instance)")
                log.add("canary", report)
                Terminal.error(report.text(styled: false))
                guard report.passed else { throw GateFailure(reason: Self.missed(report)) }
            }
        }
        do {
            _ = try await destination.apply(plan, gates: gates)
        } catch let failure as DeployFailure where failure.kind == .rolledBack {
            // The release the canary gate failed is recorded as failed by the engine; say where it came from.
            throw DeployFailure(kind: .rolledBack, message: "promoting \(origin.environment) \(origin.release): \(failure.message)")
        }
        guard let live = try await destination.currentRelease() else {
            throw DeployFailure(kind: .rollbackFailed, message: "\(to.name) has no current release after the rollout")
        }
        return try await gateAfterRollout(live, on: destination, origin: origin, verifier: verifier, log: log)
    }

    /// Verifies what now serves TO; a miss fails it and returns TO to its last successful
    /// release. Also what a promotion interrupted before this gate finishes with when run again.
    func gateAfterRollout(
        _ live: ReleaseSummary, on destination: any DeployTarget, origin: PromotionOrigin, verifier: Verifier, log: GateLog
    ) async throws -> ReleaseSummary {
        let toTargetName = toTargetName
        try await destination.record(on: live, verification: nil, origin: origin, failed: nil)
        progress.step("\(to.name) \(live.name): verifying under load after the rollout")
        let report = try await verifier.run(
            route: VerifyRoute(endpoints: try await destination.publicEndpoints()), target: toTargetName, release: live.name)
        log.add("after the rollout", report)
        Terminal.error(report.text(styled: false))
        let record = report.record(by: DeployOptions.actor)
        guard !report.passed else {
            try await destination.record(on: live, verification: record, origin: nil, failed: nil)
            return live
        }
        let reason = "failed verify after the rollout: \(Self.missed(report))"
        try await destination.record(on: live, verification: record, origin: nil, failed: reason)
        progress.step("\(to.name) \(live.name) \(reason); returning to the last successful release")
        do {
            let back = try await destination.rollback(to: nil)
            throw DeployFailure(kind: .rolledBack, message: "\(to.name) \(live.name) \(reason). \(back.text)")
        } catch let failure as DeployFailure where failure.kind == .invalid {
            // Nothing to return to (a first deploy): stop the failed release, as a failed first
            // rollout does.
            _ = try await destination.down()
            throw DeployFailure(
                kind: .rolledBack, message: "\(to.name) \(live.name) \(reason); it had no earlier release to return to and was stopped")
        }
    }

    static func missed(_ report: VerifyReport) -> String {
        report.objectives.filter { !$0.passed }.map(\.sentence).joined(separator: "; ")
    }
}

/// The gates' reports, kept for the step summary and `--json` whatever the outcome.
final class GateLog: Sendable {
    private let entries = Mutex<[(String, VerifyReport)]>([])

    func add(_ gate: String, _ report: VerifyReport) {
        entries.withLock { $0.append((gate, report)) }
    }

    var all: [(gate: String, report: VerifyReport)] {
        entries.withLock { $0.map { (gate: $0.0, report: $0.1) } }
    }
}
