import Foundation

@testable import Orchestrator

/// What the controller manager and the kubelet would do, with the outcome a test chooses: a
/// Deployment gets a ReplicaSet per distinct pod template with an increasing
/// `deployment.kubernetes.io/revision` (a template seen before takes a new, higher number), pods
/// that become ready or crash-loop, and status; a Job completes or fails.
final class FakeControllers: @unchecked Sendable {
    private let lock = NSLock()
    private var crashing: Set<String> = []
    private var failingMigrations: Set<String> = []
    private var unhealthy = false
    let store: FakeObjectStore
    /// Pod name → its log lines, for `pods/NAME/log`.
    private var logs: [String: [String]] = [:]

    init(store: FakeObjectStore) {
        self.store = store
    }

    func crashLoop(image: String) { lock.withLock { _ = crashing.insert(image) } }
    func failMigrations(image: String) { lock.withLock { _ = failingMigrations.insert(image) } }
    func setUnhealthy(_ value: Bool) { lock.withLock { unhealthy = value } }
    var isUnhealthy: Bool { lock.withLock { unhealthy } }
    func log(of pod: String) -> [String]? { lock.withLock { logs[pod] } }

    /// After an apply is stored: controllers act a moment later, as real ones do.
    func applied(_ path: String, _ object: [String: Any]) {
        guard let kind = object["kind"] as? String, kind == "Deployment" || kind == "Job" else { return }
        Task {
            try? await Task.sleep(for: .milliseconds(150))
            if kind == "Deployment" { self.reconcileDeployment(path) } else { self.runJob(path) }
        }
    }

    private func image(of template: [String: Any]?) -> String {
        (((template?["spec"] as? [String: Any])?["containers"] as? [[String: Any]])?.first?["image"] as? String) ?? ""
    }

    func reconcileDeployment(_ path: String) {
        guard let deployment = store.get(path), let metadata = deployment["metadata"] as? [String: Any],
            let name = metadata["name"] as? String, let namespace = metadata["namespace"] as? String,
            let spec = deployment["spec"] as? [String: Any], let template = spec["template"] as? [String: Any]
        else { return }
        let replicas = spec["replicas"] as? Int ?? 1
        let rsCollection = "/apis/apps/v1/namespaces/\(namespace)/replicasets"
        let podCollection = "/api/v1/namespaces/\(namespace)/pods"
        let owned = store.list(rsCollection, labels: [:]).filter {
            (($0["metadata"] as? [String: Any])?["ownerReferences"] as? [[String: Any]])?.first?["name"] as? String == name
        }
        func revision(_ replicaSet: [String: Any]) -> Int {
            Int(
                ((replicaSet["metadata"] as? [String: Any])?["annotations"] as? [String: String])?["deployment.kubernetes.io/revision"]
                    ?? "0") ?? 0
        }
        func podTemplate(_ replicaSet: [String: Any]) -> [String: Any]? {
            guard var template = (replicaSet["spec"] as? [String: Any])?["template"] as? [String: Any] else { return nil }
            var templateMetadata = template["metadata"] as? [String: Any] ?? [:]
            var labels = templateMetadata["labels"] as? [String: Any] ?? [:]
            labels["pod-template-hash"] = nil
            templateMetadata["labels"] = labels
            template["metadata"] = templateMetadata
            return template
        }
        let highest = owned.map(revision).max() ?? 0
        let wanted = ObjectDiff.render(template)
        let hash = String(UInt32(truncatingIfNeeded: wanted.hashValue & 0x7fff_ffff), radix: 36)
        let current = owned.first { podTemplate($0).map(ObjectDiff.render) == wanted }
        let currentName = (current?["metadata"] as? [String: Any])?["name"] as? String ?? "\(name)-\(hash)"
        let newRevision = current.map { revision($0) == highest ? highest : highest + 1 } ?? highest + 1
        var labeledTemplate = template
        var templateMetadata = labeledTemplate["metadata"] as? [String: Any] ?? [:]
        var podLabels = templateMetadata["labels"] as? [String: Any] ?? [:]
        podLabels["pod-template-hash"] = hash
        templateMetadata["labels"] = podLabels
        labeledTemplate["metadata"] = templateMetadata
        let rsPath = "\(rsCollection)/\(currentName)"
        var rsMetadata =
            (current?["metadata"] as? [String: Any]) ?? [
                "name": currentName, "namespace": namespace, "labels": podLabels,
                "ownerReferences": [["apiVersion": "apps/v1", "kind": "Deployment", "name": name, "controller": true]],
            ]
        var annotations = rsMetadata["annotations"] as? [String: String] ?? [:]
        annotations["deployment.kubernetes.io/revision"] = String(newRevision)
        rsMetadata["annotations"] = annotations
        let rsTemplate = (current?["spec"] as? [String: Any])?["template"] ?? labeledTemplate
        store.put(
            rsPath,
            [
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": rsMetadata,
                "spec": ["replicas": replicas, "template": rsTemplate],
            ])

        let crashes = lock.withLock { crashing.contains(image(of: template)) }
        // The new ReplicaSet's pods.
        for index in 0..<replicas {
            let podName = "\(currentName)-\(index)"
            let status: [String: Any] =
                crashes
                ? [
                    "phase": "Running",
                    "containerStatuses": [
                        [
                            "name": "backend", "ready": false, "restartCount": 4,
                            "state": ["waiting": ["reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container"]],
                        ]
                    ],
                ]
                : [
                    "phase": "Running", "conditions": [["type": "Ready", "status": "True"]],
                    "containerStatuses": [["name": "backend", "ready": true, "restartCount": 0, "state": ["running": [:]]]],
                ]
            lock.withLock {
                logs[podName] =
                    crashes
                    ? ["starting pet-backend", "fatal: cannot load the payment provider configuration"]
                    : ["starting pet-backend", "listening on :3001"]
            }
            store.put(
                "\(podCollection)/\(podName)",
                [
                    "apiVersion": "v1", "kind": "Pod", "metadata": ["name": podName, "namespace": namespace, "labels": podLabels],
                    "status": status,
                ])
        }
        // Old ReplicaSets drain only when the new one is available.
        if !crashes {
            for replicaSet in owned {
                guard let oldName = (replicaSet["metadata"] as? [String: Any])?["name"] as? String, oldName != currentName else { continue }
                store.update("\(rsCollection)/\(oldName)") { object in
                    var spec = object["spec"] as? [String: Any] ?? [:]
                    spec["replicas"] = 0
                    object["spec"] = spec
                }
                for index in 0..<10 { _ = store.delete("\(podCollection)/\(oldName)-\(index)") }
            }
        }
        store.update(path) { object in
            var metadata = object["metadata"] as? [String: Any] ?? [:]
            var annotations = metadata["annotations"] as? [String: Any] ?? [:]
            annotations["deployment.kubernetes.io/revision"] = String(newRevision)
            metadata["annotations"] = annotations
            let generation = metadata["generation"] as? Int ?? 1
            object["metadata"] = metadata
            object["status"] =
                crashes
                ? [
                    "observedGeneration": generation, "replicas": replicas * 2, "updatedReplicas": replicas, "readyReplicas": replicas,
                    "availableReplicas": replicas, "unavailableReplicas": replicas,
                    "conditions": [["type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"]],
                ]
                : [
                    "observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas, "readyReplicas": replicas,
                    "availableReplicas": replicas,
                    "conditions": [
                        ["type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"],
                        ["type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"],
                    ],
                ]
        }
    }

    func runJob(_ path: String) {
        guard let job = store.get(path), let metadata = job["metadata"] as? [String: Any], let name = metadata["name"] as? String,
            let namespace = metadata["namespace"] as? String
        else { return }
        let template = (job["spec"] as? [String: Any])?["template"] as? [String: Any]
        let fails = lock.withLock { failingMigrations.contains(image(of: template)) }
        let podName = "\(name)-run"
        lock.withLock {
            logs[podName] = fails ? ["applying 004_orders", "ERROR: relation \"orders\" already exists"] : ["migrations: up to date"]
        }
        store.put(
            "/api/v1/namespaces/\(namespace)/pods/\(podName)",
            [
                "apiVersion": "v1", "kind": "Pod",
                "metadata": ["name": podName, "namespace": namespace, "labels": ["job-name": name]],
                "status": ["phase": fails ? "Failed" : "Succeeded"],
            ])
        store.update(path) { object in
            object["status"] =
                fails
                ? ["failed": 1, "conditions": [["type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"]]]
                : ["succeeded": 1, "conditions": [["type": "Complete", "status": "True"]]]
        }
    }
}
