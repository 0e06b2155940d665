import Foundation
import Manifests

/// Kubernetes behind the deploy seam: plans by server-side dry run, applies in order under a
/// Lease, and keeps its releases on the Deployment's ReplicaSets (see KubernetesDeployer).
struct KubernetesDeployTarget: DeployTarget {
    let spec: EnvironmentSpec
    let client: KubernetesClient
    let target: KubernetesTarget
    let templates: String
    /// The image to deploy; nil: the spec's repository, tag `unreleased`.
    let image: String?
    let forceConflicts: Bool
    let stealLock: Bool

    private var deployer: KubernetesDeployer {
        KubernetesDeployer(
            client: client, spec: spec, target: target, progress: Progress.reporter(), actor: DeployOptions.actor,
            forceConflicts: forceConflicts, stealLock: stealLock)
    }

    private func objects(image: String) throws -> [DesiredObject] {
        try DesiredObjects.render(spec, target: target, image: image, templates: TemplateSet(directory: templates, files: DiskFiles()))
    }

    func locked<Value: Sendable>(command: String, _ body: @Sendable () async throws -> Value) async throws -> Value {
        try await deployer.locked(command: command, body)
    }

    func plan() async throws -> Plan {
        try await KubernetesPlanner.plan(spec, client: client, target: target, image: image, templates: templates, force: forceConflicts)
    }

    func liveFingerprint() async throws -> String {
        try await plan().liveFingerprint
    }

    /// Kubernetes rolls pods itself (the controller's rolling update), so there is no canary
    /// step for a gate to stop at; promote verifies after the rollout instead.
    func apply(_ plan: Plan, gates: ReleaseGates) async throws -> TargetReport {
        let image = RenderOptions(image: plan.image ?? image).imageReference(for: spec)
        let revision = try await deployer.apply(try objects(image: image), removals: plan.changes, image: image)
        return TargetReport(
            text: "\(spec.name): revision \(revision) is live (\(image))",
            json: try Self.json(["environment": spec.name, "revision": revision, "image": image]))
    }

    func rollback(to release: String?) async throws -> TargetReport {
        let revision = try release.map(ReleaseNumber.parse)
        let live = try await deployer.rollback(to: revision, objects: try objects(image: RenderOptions().imageReference(for: spec)))
        return TargetReport(
            text: "\(spec.name): rolled back; revision \(live) is live", json: try Self.json(["environment": spec.name, "revision": live]))
    }

    func publicEndpoints() async throws -> [String] {
        guard let address = target.publicURL else {
            throw DeployFailure(
                kind: .invalid,
                message: "\(spec.name) has no `targets.kubernetes.publicURL`: set it to the address clients use (an ingress "
                    + "or a load balancer), or pass --address")
        }
        return [address]
    }

    func deployable(_ artifact: Artifact) -> String { artifact.reference }

    func currentRelease() async throws -> ReleaseSummary? {
        let history = deployer.history
        guard let revision = try await history.currentRevision() else { return nil }
        return try await history.release(revision)?.summary
    }

    func record(on release: ReleaseSummary, verification: VerificationRecord?, origin: PromotionOrigin?, failed: String?) async throws {
        try await deployer.history.record(on: release.id, verification: verification, origin: origin, failed: failed)
    }

    func releases() async throws -> TargetReport {
        let history = deployer.history
        let current = try await history.currentRevision()
        let releases = try await history.releases()
        let json = try Self.json(["current": current ?? NSNull(), "releases": releases.map(\.report)])
        guard !releases.isEmpty else { return TargetReport(text: "\(spec.name) has no revisions yet", json: json) }
        var rows = [["", "REVISION", "OUTCOME", "IMAGE", "SPEC", "DEPLOYED", "BY", "NOTE"]]
        for release in releases {
            rows.append([
                release.revision == current ? "*" : "", String(release.revision), release.outcome?.rawValue ?? "-", release.image,
                release.specHash.map(Table.short) ?? "-", release.deployedAt ?? "-", release.deployedBy ?? "-", release.note ?? "",
            ])
        }
        return TargetReport(text: Table.render(rows), json: json)
    }

    func status() async throws -> TargetReport {
        try await KubernetesStatus(client: client, spec: spec, namespace: target.namespace).report()
    }

    /// Scales the Deployment to zero (its autoscaler leaves zero alone); the next apply starts
    /// it again at the spec's count. Configuration, Secret, data and history stay.
    func down() async throws -> TargetReport {
        let stopped = try await deployer.down(try objects(image: RenderOptions().imageReference(for: spec)))
        guard let stopped else {
            return TargetReport(
                text: "\(spec.name) has no Deployment in \(target.namespace); nothing to stop",
                json: try Self.json(["environment": spec.name, "state": "absent"]))
        }
        return TargetReport(
            text: "\(spec.name): stopped \(stopped) pod(s); `orchestrate apply \(spec.name)` starts it again",
            json: try Self.json(["environment": spec.name, "state": "stopped", "podsStopped": stopped]))
    }

    func secretStore() throws -> any SecretStore {
        KubernetesSecretStore(client: client, namespace: target.namespace, name: target.secretName)
    }

    func close() async {
        await client.shutdown()
    }

    static func json(_ object: [String: Any]) throws -> String {
        String(
            decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]),
            as: UTF8.self)
    }
}
