import ArgumentParser
import Foundation
import Manifests

/// The deploy commands with `--target kubernetes`.
struct KubernetesCommands {
    let options: DeployOptions
    let spec: EnvironmentSpec

    func deployer(_ client: KubernetesClient, _ target: KubernetesTarget, force: Bool, stealLock: Bool) -> KubernetesDeployer {
        KubernetesDeployer(
            client: client, spec: spec, target: target, progress: Progress.reporter(), actor: DeployOptions.actor, forceConflicts: force,
            stealLock: stealLock)
    }

    func objects(_ target: KubernetesTarget, image: String) throws -> [DesiredObject] {
        try DesiredObjects.render(
            spec, target: target, image: image, templates: TemplateSet(directory: options.locations.templatesDirectory, files: DiskFiles()))
    }

    func apply(image: String?, yes: Bool, force: Bool, stealLock: Bool, json: Bool) async throws {
        let image = image ?? "\(spec.app.image):unreleased"
        try await options.withKubernetes(spec) { client, target in
            let plan = try await KubernetesPlanner.plan(
                spec, client: client, target: target, image: image, templates: options.locations.templatesDirectory, force: force)
            Terminal.error(PlanPrinter.text(plan, style: TextStyle(colors: Terminal.colorsOnStandardError)))
            guard plan.hasChanges else { return }
            if !yes, isatty(STDIN_FILENO) == 1, !Terminal.confirm("Apply these changes to \(spec.name)?") {
                throw DeployFailure(kind: .invalid, message: "apply cancelled; nothing was changed")
            }
            let deployer = deployer(client, target, force: force, stealLock: stealLock)
            let objects = try objects(target, image: image)
            let changes = plan.changes
            let revision = try await Self.interruptible {
                try await deployer.locked { try await deployer.apply(objects, removals: changes, image: image) }
            }
            if json {
                Terminal.out(try Self.json(["environment": spec.name, "revision": revision, "image": image]))
            } else {
                Terminal.out("\(spec.name): revision \(revision) is live (\(image))")
            }
        }
    }

    func rollback(to revision: Int?, stealLock: Bool, json: Bool) async throws {
        try await options.withKubernetes(spec) { client, target in
            let deployer = deployer(client, target, force: true, stealLock: stealLock)
            let objects = try objects(target, image: "\(spec.app.image):unreleased")
            let live = try await Self.interruptible {
                try await deployer.locked { try await deployer.rollback(to: revision, objects: objects) }
            }
            if json {
                Terminal.out(try Self.json(["environment": spec.name, "revision": live]))
            } else {
                Terminal.out("\(spec.name): rolled back; revision \(live) is live")
            }
        }
    }

    func releases(json: Bool) async throws {
        try await options.withKubernetes(spec) { client, target in
            let history = KubernetesHistory(
                client: client, namespace: target.namespace, deployment: spec.app.name, instance: "\(spec.app.name)-\(spec.name)")
            let current = try await history.currentRevision()
            let releases = try await history.releases()
            if json {
                Terminal.out(try Self.json(["current": current ?? NSNull(), "releases": releases.map(\.report)]))
                return
            }
            var rows = [["", "REVISION", "OUTCOME", "IMAGE", "SPEC", "DEPLOYED", "BY", "NOTE"]]
            for release in releases {
                rows.append([
                    release.revision == current ? "*" : "", String(release.revision), release.outcome ?? "-", release.image,
                    release.specHash.map(ReleasesCommand.short) ?? "-", release.deployedAt ?? "-", release.deployedBy ?? "-",
                    release.note ?? "",
                ])
            }
            Terminal.out(releases.isEmpty ? "\(spec.name) has no revisions yet" : Table.render(rows))
        }
    }

    func status(json: Bool) async throws {
        try await options.withKubernetes(spec) { client, target in
            let namespace = target.namespace
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
            if json {
                Terminal.out(try Self.json(summary))
                return
            }
            guard let deployment else {
                Terminal.out("\(spec.name): no Deployment \(spec.app.name) in \(namespace) yet")
                return
            }
            Terminal.out(
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
            Terminal.out(Table.render(rows))
            if let hpa {
                let conditions = Field.conditions(hpa).map { "\($0["type"] ?? "")=\($0["status"] ?? "") (\($0["reason"] ?? ""))" }
                let metrics = Self.metrics(of: hpa)
                Terminal.out(
                    "autoscaler: \(Field.int(hpa, "status", "currentReplicas") ?? 0) current, \(Field.int(hpa, "status", "desiredReplicas") ?? 0) desired; "
                        + (metrics.isEmpty ? "no metrics reported" : metrics.joined(separator: ", ")) + "; "
                        + conditions.joined(separator: ", "))
            }
        }
    }

    /// Ctrl-C or SIGTERM stops the rollout between requests; the Lease is given up and the
    /// revision left unverified, so the next apply checks it again.
    static func interruptible<Value: Sendable>(_ body: @escaping @Sendable () async throws -> Value) async throws -> Value {
        do {
            return try await Interruptible.run(body)
        } catch is CancellationError {
            throw DeployFailure(kind: .interrupted, message: "interrupted; the next apply converges from what is live")
        }
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

    static func json(_ object: [String: Any]) throws -> String {
        String(
            decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]),
            as: UTF8.self)
    }
}
