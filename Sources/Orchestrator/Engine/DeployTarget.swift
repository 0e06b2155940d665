/// What the deploy commands ask of a target: local and Kubernetes implement it (Fly will), and
/// the commands parse, call it and print, with no branch on which target it is.
protocol DeployTarget: Sendable {
    /// Holds the environment's deploy lock (flock locally, a Lease on Kubernetes) around `body`.
    func locked<Value: Sendable>(command: String, _ body: @Sendable () async throws -> Value) async throws -> Value
    /// What apply would change against what is live now, with a fingerprint of that live state
    /// (a saved plan is applied only while it still matches).
    func plan() async throws -> Plan
    /// The fingerprint `plan()` would record now: a saved plan is applied only while it matches.
    func liveFingerprint() async throws -> String
    /// Rolls `plan` out, gated on health and `gates`, returning to the last successful release on
    /// failure.
    func apply(_ plan: Plan, gates: ReleaseGates) async throws -> TargetReport
    /// Returns to `release` (`3`, `v3`), or without it to the last successful one before the current.
    func rollback(to release: String?) async throws -> TargetReport
    func releases() async throws -> TargetReport
    func status() async throws -> TargetReport
    /// Stops what serves; data, configuration and history stay.
    func down() async throws -> TargetReport
    /// Where clients reach the service: verify's load goes there.
    func publicEndpoints() async throws -> [String]
    /// The release serving now; nil before the first.
    func currentRelease() async throws -> ReleaseSummary?
    /// Keeps what verify or promote learned with `release`; `failed` also marks it failed, saying why.
    func record(on release: ReleaseSummary, verification: VerificationRecord?, origin: PromotionOrigin?, failed: String?) async throws
    /// What this target's apply takes to deploy `artifact`: a stored binary locally, the image
    /// reference (by digest) on Fly and Kubernetes.
    func deployable(_ artifact: Artifact) -> String
    /// Where the environment's secret values live on this target.
    func secretStore() throws -> any SecretStore
    /// Closes connections; called once the command is done with the target.
    func close() async
}

extension DeployTarget {
    func apply(_ plan: Plan) async throws -> TargetReport {
        try await apply(plan, gates: .none)
    }
}

/// A command's result as a person reads it and as a script reads it (`--json`).
struct TargetReport: Sendable {
    var text: String
    var json: String
}

enum DeployTargets {
    /// Runs `body` with the target and closes it afterwards, whatever happens.
    static func using<Value>(_ target: any DeployTarget, _ body: (any DeployTarget) async throws -> Value) async throws -> Value {
        do {
            let value = try await body(target)
            await target.close()
            return value
        } catch {
            await target.close()
            throw error
        }
    }
}

/// `--to 3` or `--to v3`.
enum ReleaseNumber {
    static func parse(_ text: String) throws -> Int {
        guard let number = Int(text.hasPrefix("v") ? String(text.dropFirst()) : text), number > 0 else {
            throw DeployFailure(kind: .invalid, message: "--to takes a release number, such as 3 or v3 (see `orchestrate releases`)")
        }
        return number
    }
}
