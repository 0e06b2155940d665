import Foundation

/// Everything a fleet-style platform offers the engine.
protocol FleetPlatform: Sendable {
    var targetName: String { get }
    var fleet: any InstanceFleet { get }
    var history: any ReleaseHistory { get }
    func observe() async throws -> LiveState
    /// Creates the supporting components the desired state lists and the live state lacks, and
    /// returns the configuration to release with what only exists now filled in (secret digests).
    func prepare(_ desired: DesiredState, progress: any ProgressReporter) async throws -> ReleaseConfiguration
    /// How verify's load reaches one instance.
    func verifyRoute(to instance: InstanceStatus) -> VerifyRoute
    /// Starts the supporting components (after a `down`, say) without changing anything else.
    func startComponents(progress: any ProgressReporter) async throws
    /// Runs the release command (migrations) with the release's build and settings; throws a
    /// `RolloutFailure` naming the command when it fails.
    func runReleaseCommand(of release: ReleaseRecord, progress: any ProgressReporter) async throws
    /// Backs up the database before the release command when the spec asks for it
    /// (`backups.beforeRelease`, on by default in production); throws a `BackupBeforeReleaseFailure`.
    func backupBeforeRelease(of release: ReleaseRecord, serving current: ReleaseRecord?, progress: any ProgressReporter) async throws
}

/// The backup taken before a release command failed: the release command is not run.
struct BackupBeforeReleaseFailure: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}

/// apply and rollback, written once: release records, the release command, the rollout, and the
/// automatic return to the last successful release when a rollout fails.
struct Deployer {
    let platform: any FleetPlatform
    let progress: any ProgressReporter
    let actor: String
    var gates = ReleaseGates.none

    func apply(_ plan: Plan) async throws -> ReleaseRecord {
        try await closeOrphanedReleases()
        guard let desired = plan.desired else {
            throw DeployFailure(kind: .invalid, message: "this plan was made for \(plan.target), not for \(platform.targetName)")
        }
        let configuration = try await platform.prepare(desired, progress: progress)
        let history = platform.history
        let current = try await history.current()
        if let current, current.configuration == configuration {
            progress.step("converging instances to \(current.name)")
            do {
                try await rollout(to: current)
                // What changed may be beneath the instances (a database restarted): the verdict
                // waits until they say so on their detailed health path, as a rollout's does.
                try await gateRunningInstances(of: current)
            } catch let failure as RolloutFailure {
                throw DeployFailure(kind: .rollbackFailed, message: "\(current.name) no longer starts healthy: \(failure)")
            }
            return current
        }
        var release = ReleaseRecord(
            id: try await history.nextID(), configuration: configuration, createdAt: Date(), createdBy: actor,
            outcome: .inProgress)
        try await history.save(release)
        progress.step("release \(release.name): \(release.configuration.artifact.reference) (\(release.configuration.artifact.digest))")
        do {
            // A first release has no data before it to keep.
            if current != nil, release.configuration.releaseCommand?.isEmpty == false {
                try await platform.backupBeforeRelease(of: release, serving: current, progress: progress)
            }
            try await platform.runReleaseCommand(of: release, progress: progress)
        } catch let failure as BackupBeforeReleaseFailure {
            try await finish(&release, .failed, message: "the backup before the release command failed: \(failure.reason)")
            throw DeployFailure(
                kind: .rolledBack, message: "\(release.name) was not migrated and nothing changed: the backup before it failed: \(failure)")
        } catch let failure as RolloutFailure {
            try await finish(&release, .failed, message: "release command failed: \(failure.reason)")
            throw DeployFailure(
                kind: .rolledBack, message: "\(release.name) failed before any instance changed: \(failure)")
        }
        return try await rolloutOrRollBack(&release)
    }

    /// Returns to `target` (by default the last successful release before the current one) as a
    /// new release carrying the target's build and configuration.
    func rollback(to target: ReleaseRecord?) async throws -> ReleaseRecord {
        try await closeOrphanedReleases()
        let history = platform.history
        let releases = try await history.all()
        let current = try await history.current()
        guard let target = target ?? releases.lastSuccessful(before: current) else {
            throw DeployFailure(kind: .invalid, message: "there is no earlier successful release to roll back to")
        }
        var release = ReleaseRecord(
            id: try await history.nextID(), configuration: target.configuration, createdAt: Date(), createdBy: actor,
            outcome: .inProgress, message: "rollback to \(target.name)", restores: target.id)
        try await history.save(release)
        try await platform.startComponents(progress: progress)
        progress.step("\(release.name): rolling back to \(target.name) (\(target.configuration.artifact.digest))")
        return try await rolloutOrRollBack(&release)
    }

    private func rolloutOrRollBack(_ release: inout ReleaseRecord) async throws -> ReleaseRecord {
        let history = platform.history
        do {
            try await rollout(to: release)
            try await finish(&release, .succeeded, message: release.message)
            try await history.setCurrent(release)
            return release
        } catch is CancellationError {
            try await finish(&release, .interrupted, message: "interrupted during the rollout; the next apply converges")
            throw DeployFailure(kind: .interrupted, message: "\(release.name) interrupted; run apply again to converge")
        } catch let failure as RolloutFailure {
            try await finish(&release, .failed, message: "\(failure.instance) failed \(failure.check): \(failure.reason)")
            throw try await rollBack(after: release, failure: failure)
        }
    }

    /// After a failed rollout: the shared rule, with a restore that is a release of its own.
    private func rollBack(after failed: ReleaseRecord, failure: RolloutFailure) async throws -> DeployFailure {
        let history = platform.history
        return try await ReturnAfterFailure(progress: progress).run(
            after: failed.name, failure: failure, releases: try await history.all(), failedRelease: failed,
            restore: { target in
                var restore = ReleaseRecord(
                    id: try await history.nextID(), configuration: target.configuration, createdAt: Date(), createdBy: actor,
                    outcome: .inProgress, message: "automatic rollback to \(target.name) after \(failed.name) failed", restores: target.id)
                try await history.save(restore)
                do {
                    try await rollout(to: restore)
                } catch {
                    try await finish(&restore, error is CancellationError ? .interrupted : .failed, message: "rollback failed: \(error)")
                    throw error
                }
                try await finish(&restore, .succeeded, message: restore.message)
                try await history.setCurrent(restore)
                return restore.name
            },
            stopFailed: {
                for instance in try await platform.fleet.instances() where instance.releaseID == failed.id {
                    try await platform.fleet.stop(instance.name)
                }
            })
    }

    private func rollout(to release: ReleaseRecord) async throws {
        let configurations = Dictionary(try await platform.history.all().map { ($0.id, $0.configuration) }, uniquingKeysWith: { $1 })
        let wanted = release.configuration
        var rollout = Rollout(fleet: platform.fleet, progress: progress) { configurations[$0] == wanted }
        if let gate = gates.canary {
            let platform = platform
            rollout.canaryGate = { instance in try await gate(instance.name, platform.verifyRoute(to: instance)) }
        }
        try await rollout.run(to: release)
    }

    private func gateRunningInstances(of release: ReleaseRecord) async throws {
        let gate = HealthGate(fleet: platform.fleet, progress: progress, configuration: release.configuration)
        let names = try await platform.fleet.instances().filter { $0.releaseID == release.id }.map(\.name)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for name in names { group.addTask { try await gate.waitUntilHealthy(name) } }
            try await group.waitForAll()
        }
    }

    /// We hold the lock, so a release still in progress belongs to a run that was killed.
    private func closeOrphanedReleases() async throws {
        for var release in try await platform.history.all() where release.outcome == .inProgress {
            try await finish(&release, .interrupted, message: "its run stopped before it finished; a later apply converged")
        }
    }

    private func finish(_ release: inout ReleaseRecord, _ outcome: ReleaseRecord.Outcome, message: String?) async throws {
        release.outcome = outcome
        release.finishedAt = Date()
        release.message = message
        try await platform.history.save(release)
    }
}
