import Foundation
import Manifests

/// The local platform behind the deploy seam: the engine's plan, rollout and rollback over
/// processes on this machine, locked with flock(2) on the state folder.
struct LocalDeployTarget: DeployTarget {
    let spec: EnvironmentSpec
    let platform: LocalPlatform
    /// The pet-backend build to deploy.
    let binary: String

    func locked<Value: Sendable>(command: String, _ body: @Sendable () async throws -> Value) async throws -> Value {
        let lock: DeployLock
        do {
            lock = try DeployLock(directory: platform.paths.root, environment: spec.name, command: command)
        } catch let held as DeployLock.Held {
            throw DeployFailure(kind: .locked, message: held.description)
        }
        defer { lock.release() }
        if let previous = lock.interruptedHolder {
            Terminal.error("note: the previous run, \(previous), did not finish; continuing from the state it left")
        }
        return try await body()
    }

    private var commands: FleetCommands { FleetCommands(spec: spec, platform: platform) }

    func plan() async throws -> Plan {
        try await commands.plan(desired: try platform.desired(binary: binary))
    }

    func liveFingerprint() async throws -> String {
        try await platform.observe().fingerprint
    }

    func apply(_ plan: Plan, gates: ReleaseGates) async throws -> TargetReport { try await commands.apply(plan, gates: gates) }
    func rollback(to release: String?) async throws -> TargetReport { try await commands.rollback(to: release) }
    func releases() async throws -> TargetReport { try await commands.releases() }
    func currentRelease() async throws -> ReleaseSummary? { try await commands.currentRelease() }
    func deployable(_ artifact: Artifact) -> String { platform.paths.artifact(artifact.digest) }

    func record(on release: ReleaseSummary, verification: VerificationRecord?, origin: PromotionOrigin?, failed: String?) async throws {
        try await commands.record(on: release, verification: verification, origin: origin, failed: failed)
    }

    /// Every running instance: locally there is no load balancer, the load is spread over them.
    func publicEndpoints() async throws -> [String] {
        try await platform.fleet.instances().filter { $0.state == .running }.map(\.address)
    }
    func status() async throws -> TargetReport { try await commands.status() }

    func down() async throws -> TargetReport {
        try await platform.down(progress: Progress.reporter())
        return TargetReport(
            text: "\(spec.name): stopped; `orchestrate apply \(spec.name)` starts it again with its data",
            json: try JSONCoding.encode(["environment": spec.name, "state": "stopped"]))
    }

    func secretStore() throws -> any SecretStore { LocalSecretStore(path: platform.paths.secrets) }

    func close() async {}
}
