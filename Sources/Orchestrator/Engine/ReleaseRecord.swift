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

    var name: String { "v\(id)" }
}

extension Array where Element == ReleaseRecord {
    /// The newest successful release before `current` whose configuration differs from it: what
    /// `rollback` returns to by default, skipping failed releases and no-op repeats.
    func lastSuccessful(before current: ReleaseRecord?) -> ReleaseRecord? {
        sorted { $0.id > $1.id }.first { release in
            release.outcome == .succeeded && release.id < (current?.id ?? Int.max)
                && release.configuration != current?.configuration
        }
    }
}
