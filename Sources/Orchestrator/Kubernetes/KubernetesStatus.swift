import Foundation
import Manifests

/// `status` on Kubernetes: the Deployment, each serving pod (not the Job's) and the autoscaler.
struct KubernetesStatus {
    let client: KubernetesClient
    let spec: EnvironmentSpec
    let namespace: String

    func report() async throws -> TargetReport {
        let deployment = try await client.object(
            "/apis/apps/v1/namespaces/\(namespace)/deployments/\(spec.app.name)", label: "deployments/\(spec.app.name)")
        let pods = try await client.list(
            "/api/v1/namespaces/\(namespace)/pods", labelSelector: KubernetesSelectors.servingPods(spec), label: "pods")
        let hpa = try await client.object(
            "/apis/autoscaling/v2/namespaces/\(namespace)/horizontalpodautoscalers/\(spec.app.name)", label: "horizontalpodautoscalers")
        let podRows = pods.map { pod -> [String: Any] in
            let statuses = Field.map(pod, "status")?["containerStatuses"] as? [[String: Any]] ?? []
            let waiting = statuses.compactMap { Field.string($0, "state", "waiting", "reason") }.first
            return [
                "name": Field.string(pod, "metadata", "name") ?? "", "ready": statuses.allSatisfy { $0["ready"] as? Bool == true },
                "restarts": statuses.reduce(0) { $0 + ($1["restartCount"] as? Int ?? 0) }, "waiting": waiting ?? NSNull(),
            ]
        }
        let summary: [String: Any] = [
            "deployment": deployment.map {
                [
                    "revision": Field.map($0, "metadata", "annotations")?["deployment.kubernetes.io/revision"] ?? NSNull(),
                    "replicas": Field.int($0, "spec", "replicas") ?? 0, "ready": Field.int($0, "status", "readyReplicas") ?? 0,
                    "available": Field.int($0, "status", "availableReplicas") ?? 0,
                ] as [String: Any]
            } ?? NSNull(),
            "pods": podRows,
            "hpa": hpa.map {
                [
                    "current": Field.int($0, "status", "currentReplicas") ?? 0,
                    "desired": Field.int($0, "status", "desiredReplicas") ?? 0,
                    "conditions": Field.conditions($0).map { "\($0["type"] ?? "")=\($0["status"] ?? "") \($0["reason"] ?? "")" },
                ] as [String: Any]
            } ?? NSNull(),
        ]
        let json = try KubernetesDeployTarget.json(summary)
        guard let deployment else {
            return TargetReport(text: "\(spec.name): no Deployment \(spec.app.name) in \(namespace) yet", json: json)
        }
        var lines: [String] = []
        lines.append(
            "\(spec.name) on kubernetes (\(client.connection.context)): Deployment \(spec.app.name) revision "
                + "\(Field.map(deployment, "metadata", "annotations")?["deployment.kubernetes.io/revision"] as? String ?? "?"), "
                + "\(Field.int(deployment, "status", "availableReplicas") ?? 0)/\(Field.int(deployment, "spec", "replicas") ?? 0) available"
        )
        var rows = [["POD", "READY", "RESTARTS", "WAITING"]]
        for pod in podRows {
            rows.append([
                pod["name"] as? String ?? "", (pod["ready"] as? Bool ?? false) ? "yes" : "no", String(pod["restarts"] as? Int ?? 0),
                pod["waiting"] as? String ?? "",
            ])
        }
        lines.append(Table.render(rows))
        if let hpa {
            let conditions = Field.conditions(hpa).map { "\($0["type"] ?? "")=\($0["status"] ?? "") (\($0["reason"] ?? ""))" }
            let metrics = Self.metrics(of: hpa)
            lines.append(
                "autoscaler: \(Field.int(hpa, "status", "currentReplicas") ?? 0) current, \(Field.int(hpa, "status", "desiredReplicas") ?? 0) desired; "
                    + (metrics.isEmpty ? "no metrics reported" : metrics.joined(separator: ", ")) + "; "
                    + conditions.joined(separator: ", "))
        }
        return TargetReport(text: lines.joined(separator: "\n"), json: json)
    }

    /// `cpu 45% (target 70%)` for each resource metric the autoscaler reports.
    static func metrics(of hpa: [String: Any]) -> [String] {
        let current = Field.map(hpa, "status")?["currentMetrics"] as? [[String: Any]] ?? []
        let targets = Field.map(hpa, "spec")?["metrics"] as? [[String: Any]] ?? []
        return current.compactMap { metric in
            guard let name = Field.string(metric, "resource", "name") else { return nil }
            let value = Field.int(metric, "resource", "current", "averageUtilization").map { "\($0)%" } ?? "?"
            let target =
                targets.first { Field.string($0, "resource", "name") == name }
                .flatMap { Field.int($0, "resource", "target", "averageUtilization") }.map { " (target \($0)%)" } ?? ""
            return "\(name) \(value)\(target)"
        }
    }
}
