import Foundation
import Manifests
import NIOCore

/// `plan --target kubernetes`: each rendered object is server-side applied in dry-run and the
/// result compared with the live object, so defaults the server fills in never show as changes.
/// Objects this environment created earlier (found by its labels) that are no longer rendered
/// are removals.
struct KubernetesPlanner {
    let client: KubernetesClient
    let namespace: String
    /// `app.kubernetes.io/instance` of this environment's objects.
    let instance: String
    /// Plan as `apply --force-conflicts` would apply: taking fields other managers own.
    var force = false

    /// The environment's objects with `image` (default: the spec's repository, tag `unreleased`)
    /// and their plan against the cluster.
    static func plan(
        _ spec: EnvironmentSpec, client: KubernetesClient, target: KubernetesTarget, image: String?, templates: String, force: Bool = false
    ) async throws -> Plan {
        let objects = try DesiredObjects.render(
            spec, target: target, image: image ?? "\(spec.app.image):unreleased",
            templates: TemplateSet(directory: templates, files: DiskFiles()))
        let planner = KubernetesPlanner(
            client: client, namespace: target.namespace, instance: "\(spec.app.name)-\(spec.name)", force: force)
        return Plan(
            environment: spec.name, target: "kubernetes (\(client.connection.context))", changes: try await planner.plan(objects),
            desired: nil, liveFingerprint: "", createdAt: Date())
    }

    /// The live object and the dry-run result of one rendered object.
    private struct Compared: @unchecked Sendable {
        var index: Int
        var live: [String: Any]?
        var proposed: [String: Any]
    }

    /// Every object's GET and dry-run apply, and every kind's list, go out at once over the
    /// client's connections: the answers do not depend on each other, and in sequence they made
    /// plan twice as slow as `kubectl diff --server-side`.
    func plan(_ objects: [DesiredObject]) async throws -> [Change] {
        try await requireNamespace()
        let compared = try await withThrowingTaskGroup(of: Compared.self) { group in
            for (index, object) in objects.enumerated() {
                group.addTask {
                    async let live = get(object)
                    async let proposed = dryRunApply(object)
                    return Compared(index: index, live: try await live, proposed: try await proposed)
                }
            }
            var results: [Compared] = []
            for try await result in group { results.append(result) }
            return results.sorted { $0.index < $1.index }
        }
        let owned = try await withThrowingTaskGroup(of: (Int, [String]).self) { group in
            for (index, kind) in ResourceKind.rendered.enumerated() {
                group.addTask { (index, try await listOwned(kind)) }
            }
            var results: [(Int, [String])] = []
            for try await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
        var changes: [Change] = []
        for entry in compared {
            let object = objects[entry.index]
            let live = entry.live
            let proposed = entry.proposed
            if let live {
                let fields = ObjectDiff.changes(from: ObjectDiff.normalized(live), to: ObjectDiff.normalized(proposed))
                if !fields.isEmpty { changes.append(Change(action: .change, resource: object.label, detail: nil, fields: fields)) }
            } else {
                changes.append(Change(action: .add, resource: object.label, detail: object.namespace.map { "in \($0)" }, fields: []))
            }
        }
        if let deployment = objects.first(where: { $0.kind.kind == "Deployment" }),
            !changes.contains(where: { $0.resource == deployment.label }),
            let unverified = try await unverifiedRevision(deployment.name)
        {
            changes.append(Change(action: .change, resource: deployment.label, detail: unverified, fields: []))
        }
        let wanted = Set(objects.map(\.label))
        for (kind, names) in zip(ResourceKind.rendered, owned) {
            for name in names where !wanted.contains("\(kind.kind)/\(name)") {
                changes.append(Change(action: .remove, resource: "\(kind.kind)/\(name)", detail: "no longer rendered", fields: []))
            }
        }
        return changes
    }

    /// A live revision that failed its rollout (or whose apply was interrupted before its
    /// verdict) is never "no changes": apply rolls it out and checks it again.
    private func unverifiedRevision(_ deployment: String) async throws -> String? {
        let history = KubernetesHistory(client: client, namespace: namespace, deployment: deployment, instance: instance)
        guard let current = try await history.currentRevision(),
            let release = try await history.releases().first(where: { $0.revision == current })
        else { return nil }
        switch release.outcome {
        case "succeeded": return nil
        case "failed":
            return "revision \(current) failed its rollout\(release.note.map { " (\($0))" } ?? ""); apply rolls it out and checks it again"
        default: return "revision \(current) was never verified (an apply was interrupted?); apply checks it"
        }
    }

    private func requireNamespace() async throws {
        let response = try await client.send(.GET, "/api/v1/namespaces/\(namespace)")
        if response.status == .notFound {
            throw KubernetesError.api(
                "namespace \(namespace) does not exist in context `\(client.connection.context)`; create it (kubectl create namespace \(namespace)) or check targets.kubernetes.namespace"
            )
        }
        guard response.status == .ok else { throw client.failure(response, verb: "get", resource: "namespaces/\(namespace)") }
    }

    private func get(_ object: DesiredObject) async throws -> [String: Any]? {
        let response = try await client.send(.GET, object.path)
        if response.status == .notFound { return nil }
        guard response.status == .ok, let live = response.json else {
            throw client.failure(response, verb: "get", resource: object.label)
        }
        return live
    }

    private func dryRunApply(_ object: DesiredObject) async throws -> [String: Any] {
        try await client.apply(object, force: force, dryRun: true)
    }

    private func listOwned(_ kind: ResourceKind) async throws -> [String] {
        let selector = "app.kubernetes.io/managed-by%3Dorchestrate,app.kubernetes.io/instance%3D\(instance)"
        let response = try await client.send(.GET, kind.collectionPath(namespace: namespace) + "?labelSelector=\(selector)")
        guard response.status == .ok else { throw client.failure(response, verb: "list", resource: kind.plural) }
        let items = response.json?["items"] as? [[String: Any]] ?? []
        return items.compactMap { ($0["metadata"] as? [String: Any])?["name"] as? String }.sorted()
    }
}
