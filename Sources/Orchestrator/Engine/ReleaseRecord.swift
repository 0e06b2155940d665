import Foundation

/// One entry of an environment's history.
struct ReleaseRecord: Codable, Equatable, Sendable {
    enum Outcome: String, Codable, Sendable {
        case inProgress = "in-progress"
        case succeeded, failed
        /// The run stopped (Ctrl-C, killed) before the release was verified.
        case interrupted
    }

    var id: Int
    var configuration: ReleaseConfiguration
    var createdAt: Date
    var createdBy: String
    var outcome: Outcome
    var finishedAt: Date?
    /// Why it failed, or what it was (`rollback to v3`).
    var message: String?
    /// Set on a release that restores an earlier one.
    var restores: Int?
    /// The last `verify` of this release.
    var verification: VerificationRecord?
    /// Set on a release that `promote` brought from another environment.
    var promotedFrom: PromotionOrigin?

    var name: String { "v\(id)" }
}

/// What every target's release history has in common, so that one rule picks where a
/// rollback goes on all of them.
protocol VersionedRelease {
    associatedtype Configuration: Equatable
    /// Increases with every release (a local release's id, a Kubernetes revision).
    var number: Int { get }
    /// How a person names it: `v3`, `revision 3`.
    var name: String { get }
    /// nil for a release orchestrate never verified.
    var verdict: ReleaseRecord.Outcome? { get }
    /// What a rollback to it restores.
    var configuration: Configuration { get }
}

extension ReleaseRecord: VersionedRelease {
    var number: Int { id }
    var verdict: Outcome? { outcome }
}

extension Array where Element: VersionedRelease {
    /// The newest successful release before `current` whose configuration differs from it: what
    /// `rollback` returns to by default and what a failed release returns to, skipping failed
    /// releases and no-op repeats.
    func lastSuccessful(before current: Element?) -> Element? {
        sorted { $0.number > $1.number }.first { release in
            release.verdict == .succeeded && release.number < (current?.number ?? Int.max)
                && release.configuration != current?.configuration
        }
    }
}
