import Foundation

/// What `verify` found about a release, kept with the release where its target keeps history so
/// that `promote` can tell which releases passed.
struct VerificationRecord: Codable, Equatable, Sendable {
    var verifiedAt: Date
    var verifiedBy: String
    var passed: Bool
    /// `20/s open loop for 30s` or `16 connections closed loop for 30s`.
    var load: String
    var requests: Int
    var p50Milliseconds: Double
    var p95Milliseconds: Double
    var p99Milliseconds: Double
    /// Percent of the requests that failed.
    var errorRate: Double
    var throughput: Double
    /// The objectives that failed, as sentences.
    var missed: [String]

    var summary: String {
        passed
            ? "passed verify (\(load): p95 \(Format.number(p95Milliseconds))ms, p99 \(Format.number(p99Milliseconds))ms, "
                + "\(Format.percent(errorRate)) errors)"
            : "failed verify: " + missed.joined(separator: "; ")
    }
}

/// Where a promoted release came from, kept on the release it became.
struct PromotionOrigin: Codable, Equatable, Sendable {
    var environment: String
    var release: String
    var digest: String
    var verification: VerificationRecord?
}

/// The release serving now, in the terms every target shares: what `verify` records on and what
/// `promote` reads and carries.
struct ReleaseSummary: Sendable {
    var id: Int
    var name: String
    /// nil for a release orchestrate never verified the health of.
    var outcome: ReleaseRecord.Outcome?
    var artifact: Artifact
    var verification: VerificationRecord?
    var promotedFrom: PromotionOrigin?
}

extension ReleaseRecord {
    var summary: ReleaseSummary {
        ReleaseSummary(
            id: id, name: name, outcome: outcome, artifact: configuration.artifact, verification: verification,
            promotedFrom: promotedFrom)
    }
}
