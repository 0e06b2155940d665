import Foundation
import Manifests

/// Who sets the Deployment's replica count, and how an environment is stopped and started again.
extension KubernetesDeployer {
    static let initialReplicasManager = "orchestrate-initial-replicas"

    /// With an autoscaler the rendered Deployment names no replica count, so that applies never
    /// reset the autoscaler's. A Deployment created so would start with one pod, below the
    /// spec's minimum: it is created with the minimum, and the count is handed over to a field
    /// manager of its own, which keeps it when orchestrate's later applies leave it out
    /// (server-side apply removes a field its last manager stops applying) until the
    /// autoscaler takes it over. A Deployment stopped at zero (a `down`, a first release that
    /// failed) starts again at the minimum the same way: the autoscaler leaves zero alone.
    func applyDeployment(_ object: DesiredObject) async throws {
        let replicas = spec.scaling.replicas.min
        let live = try await client.object(object.path, label: object.label)
        guard spec.scaling.scales, (object.body["spec"] as? [String: Any])?["replicas"] == nil,
            live == nil || Field.int(live, "spec", "replicas") == 0
        else {
            try await client.apply(object, force: forceConflicts)
            return
        }
        if live == nil {
            var created = object
            var body = created.body["spec"] as? [String: Any] ?? [:]
            body["replicas"] = replicas
            created.body["spec"] = body
            try await client.apply(created, force: forceConflicts)
        } else {
            // The template first, while nothing runs, so the pods start with the new one.
            try await client.apply(object, force: forceConflicts)
        }
        try await setReplicasByHandover(replicas, of: object)
    }

    /// Stops what serves, keeping the pod template (and so the release), the configuration and
    /// the history: replicas to zero, under the manager that owns the count (orchestrate's when
    /// the spec names it, the hand-over manager's with an autoscaler).
    func scaleToZero(_ objects: [DesiredObject]) async throws {
        guard var deployment = objects.first(where: { $0.kind.kind == "Deployment" }),
            let live = try await client.object(deployment.path, label: deployment.label)
        else { return }
        guard (deployment.body["spec"] as? [String: Any])?["replicas"] != nil else {
            try await setReplicasByHandover(0, of: deployment)
            return
        }
        var specMap = deployment.body["spec"] as? [String: Any] ?? [:]
        specMap["replicas"] = 0
        if let template = (live["spec"] as? [String: Any])?["template"] { specMap["template"] = template }
        deployment.body["spec"] = specMap
        try await client.apply(deployment, force: true)
    }

    /// `down`: zero replicas, then a wait until the serving pods are gone; returns how many
    /// were stopped, nil when there is no Deployment.
    func down(_ objects: [DesiredObject]) async throws -> Int? {
        guard let deployment = objects.first(where: { $0.kind.kind == "Deployment" }),
            try await client.object(deployment.path, label: deployment.label) != nil
        else { return nil }
        let running = try await servingPods().count
        progress.step("scale \(deployment.label) to 0 (\(running) pod(s) serving)")
        try await scaleToZero(objects)
        let deadline = ContinuousClock.now + .seconds(spec.deploy.healthTimeout.seconds) + Self.controllerGrace
        while true {
            let left = try await servingPods().count
            if left == 0 { return running }
            guard ContinuousClock.now < deadline else {
                throw DeployFailure(
                    kind: .rollbackFailed,
                    message:
                        "\(left) pod(s) of \(spec.app.name) still run after scaling to 0; see kubectl -n \(namespace) get pods; run down again once they are gone"
                )
            }
            progress.instance(spec.app.name, "\(left) pod(s) stopping")
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    /// Forced: the autoscaler's controller may own the count by now.
    private func setReplicasByHandover(_ replicas: Int, of object: DesiredObject) async throws {
        var handover = object
        handover.body = [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": object.name, "namespace": namespace],
            "spec": ["replicas": replicas],
        ]
        try await client.apply(handover, force: true, fieldManager: Self.initialReplicasManager)
    }
}
