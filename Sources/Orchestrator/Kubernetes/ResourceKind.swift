/// Where the API keeps each kind the orchestrator renders: its REST path and whether it lives in
/// a namespace (the official OpenAPI documents in shared/reference/kubernetes list these paths).
struct ResourceKind: Sendable, Equatable {
    var apiVersion: String
    var kind: String
    var plural: String
    var namespaced: Bool

    static let all: [ResourceKind] = [
        ResourceKind(apiVersion: "v1", kind: "Namespace", plural: "namespaces", namespaced: false),
        configMap,
        ResourceKind(apiVersion: "v1", kind: "Secret", plural: "secrets", namespaced: true),
        ResourceKind(apiVersion: "v1", kind: "Service", plural: "services", namespaced: true),
        ResourceKind(apiVersion: "batch/v1", kind: "Job", plural: "jobs", namespaced: true),
        ResourceKind(apiVersion: "batch/v1", kind: "CronJob", plural: "cronjobs", namespaced: true),
        ResourceKind(apiVersion: "apps/v1", kind: "Deployment", plural: "deployments", namespaced: true),
        ResourceKind(apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", plural: "horizontalpodautoscalers", namespaced: true),
        ResourceKind(apiVersion: "policy/v1", kind: "PodDisruptionBudget", plural: "poddisruptionbudgets", namespaced: true),
        ResourceKind(apiVersion: "coordination.k8s.io/v1", kind: "Lease", plural: "leases", namespaced: true),
        ResourceKind(apiVersion: "apps/v1", kind: "ReplicaSet", plural: "replicasets", namespaced: true),
        ResourceKind(apiVersion: "v1", kind: "Pod", plural: "pods", namespaced: true),
    ]

    static let configMap = ResourceKind(apiVersion: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true)

    /// The kinds an environment's objects can be, searched for removals.
    static let rendered = all.filter { !["Secret", "Lease", "Namespace", "ReplicaSet", "Pod"].contains($0.kind) }

    static func of(apiVersion: String, kind: String) -> ResourceKind? {
        all.first { $0.apiVersion == apiVersion && $0.kind == kind }
    }

    /// `/api/v1` or `/apis/apps/v1`.
    var groupPath: String { apiVersion.contains("/") ? "/apis/\(apiVersion)" : "/api/\(apiVersion)" }

    func collectionPath(namespace: String?) -> String {
        if namespaced, let namespace { return "\(groupPath)/namespaces/\(namespace)/\(plural)" }
        return "\(groupPath)/\(plural)"
    }

    func path(name: String, namespace: String?) -> String {
        collectionPath(namespace: namespace) + "/" + name
    }
}
