/// What follows a failed rollout, written once for every target: back to the newest successful
/// release before the failed one, or, with none, stop what the failed release started, so that a
/// release that never passed its gate does not stay up answering errors.
struct ReturnAfterFailure<Release: VersionedRelease> {
    let progress: any ProgressReporter

    /// `restore` rolls a release out again and returns the name of the release now live;
    /// `stopFailed` stops what the failed release started.
    func run(
        after failed: String, failure: RolloutFailure, releases: [Release], failedRelease: Release?,
        restore: (Release) async throws -> String, stopFailed: () async throws -> Void
    ) async throws -> DeployFailure {
        guard let target = releases.lastSuccessful(before: failedRelease) else {
            progress.step("\(failed) failed and there is no successful release to return to; stopping it")
            do {
                try await stopFailed()
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                return DeployFailure(
                    kind: .rollbackFailed,
                    message:
                        "\(failed) failed: \(failure)\nthere is no successful release to return to, and stopping it failed too: \(error)")
            }
            return DeployFailure(
                kind: .rolledBack, message: "\(failed) failed and there is no successful release to return to; it was stopped\n\(failure)")
        }
        progress.step("\(failed) failed; rolling back to \(target.name)")
        do {
            let live = try await restore(target)
            let now = live == target.name ? "" : " (now \(live))"
            return DeployFailure(kind: .rolledBack, message: "\(failed) failed and was rolled back to \(target.name)\(now)\n\(failure)")
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            return DeployFailure(
                kind: .rollbackFailed, message: "\(failed) failed: \(failure)\nand the rollback to \(target.name) failed too: \(error)")
        }
    }
}
