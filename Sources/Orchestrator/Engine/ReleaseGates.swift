/// Checks `promote` adds to a rollout beyond health: the canary's load test before the rest of
/// the instances roll. A gate that throws `GateFailure` fails the release like a failed health
/// check, and the engine returns to the last successful release.
struct ReleaseGates: Sendable {
    /// Runs against the canary once it is healthy, reaching it by `route`.
    var canary: (@Sendable (_ instance: String, _ route: VerifyRoute) async throws -> Void)?

    static let none = ReleaseGates(canary: nil)
}

/// Why a gate stopped a release: the objectives that were missed.
struct GateFailure: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}

/// How verify's load reaches one instance: its own address, or the public address with a header
/// that routes to it (Fly's `fly-force-instance-id`).
struct VerifyRoute: Sendable {
    var endpoints: [String]
    var headers: [(String, String)] = []
}
