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
    /// What a stopped Deployment starts again at.
    var minimumReplicas = 1

    /// The environment's objects with `image` (default: the spec's repository, tag `unreleased`)
    /// and their plan against the cluster.
    static func plan(
        _ spec: EnvironmentSpec, client: KubernetesClient, target: KubernetesTarget, image: String?, templates: String, force: Bool = false
    ) async throws -> Plan {
        let objects = try DesiredObjects.render(
            spec, target: target, image: RenderOptions(image: image).imageReference(for: spec),
            templates: TemplateSet(directory: templates, files: DiskFiles()))
        let planner = KubernetesPlanner(
            client: client, namespace: target.namespace, instance: "\(spec.app.name)-\(spec.name)", force: force,
            minimumReplicas: spec.scaling.replicas.min)
        let (changes, fingerprint) = try await planner.plan(objects)
        return Plan(
            environment: spec.name, target: "kubernetes (\(client.connection.context))", changes: changes, desired: nil,
            image: objects.first { $0.kind.kind == "Deployment" }.flatMap { PodTemplateReferences.image(of: $0.body) },
            liveFingerprint: fingerprint, createdAt: Date())
    }

    /// The live object and the dry-run result of one rendered object.
    private struct Compared: @unchecked Sendable {
        var index: Int
        var live: [String: Any]?
        var proposed: [String: Any]
    }

    /// Every object's GET and dry-run apply, every kind's list and the Deployment's revisions go
    /// out at once over the client's connections: the answers do not depend on each other, and in
    /// sequence they made plan twice as slow as `kubectl diff --server-side`.
    func plan(_ objects: [DesiredObject]) async throws -> (changes: [Change], fingerprint: String) {
        try await requireNamespace()
        let deployment = objects.first { $0.kind.kind == "Deployment" }
        async let releases = releases(of: deployment?.name)
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
        let owned = try await withThrowingTaskGroup(of: Owned.self) { group in
            for (index, kind) in ResourceKind.rendered.enumerated() {
                group.addTask { Owned(index: index, kind: kind, items: try await listOwned(kind)) }
            }
            var results: [Owned] = []
            for try await result in group { results.append(result) }
            return results.sorted { $0.index < $1.index }
        }
        let liveDeployment = compared.first { objects[$0.index].kind.kind == "Deployment" }?.live
        let liveConfigMaps = owned.first { $0.kind.kind == "ConfigMap" }?.items ?? []
        var changes: [Change] = []
        for entry in compared {
            let object = objects[entry.index]
            if let live = entry.live {
                let fields = ObjectDiff.changes(from: ObjectDiff.normalized(live), to: ObjectDiff.normalized(entry.proposed))
                if !fields.isEmpty { changes.append(Change(action: .change, resource: object.label, detail: nil, fields: fields)) }
            } else if object.kind.kind == "ConfigMap",
                let replaced = Self.servedConfigMap(by: liveDeployment, among: liveConfigMaps)
            {
                changes.append(
                    Change(
                        action: .add, resource: object.label,
                        detail: "replaces ConfigMap/\(Field.string(replaced, "metadata", "name") ?? "")",
                        fields: ObjectDiff.changes(from: replaced["data"], to: entry.proposed["data"], path: "data")))
            } else {
                changes.append(Change(action: .add, resource: object.label, detail: object.namespace.map { "in \($0)" }, fields: []))
            }
        }
        let retained = try await releases
        if let deployment, !changes.contains(where: { $0.resource == deployment.label }),
            let unverified = Self.unverifiedRevision(live: liveDeployment, releases: retained) ?? stopped(liveDeployment)
        {
            changes.append(Change(action: .change, resource: deployment.label, detail: unverified, fields: []))
        }
        let wanted = Set(objects.map(\.label))
        let rollbackConfigurations = retained.reduce(into: Set<String>()) { $0.formUnion(PodTemplateReferences.configMaps($1.template)) }
        for entry in owned {
            for item in entry.items {
                guard let name = Field.string(item, "metadata", "name"), !wanted.contains("\(entry.kind.kind)/\(name)") else { continue }
                if entry.kind.kind == "ConfigMap", rollbackConfigurations.contains(name) { continue }
                changes.append(Change(action: .remove, resource: "\(entry.kind.kind)/\(name)", detail: "no longer rendered", fields: []))
            }
        }
        return (changes, Self.fingerprint(objects: objects, compared: compared, owned: owned, releases: retained))
    }

    /// What the plan was computed against: every object's resourceVersion (or its absence) and
    /// the revisions with their verdicts. A saved plan is applied only while this is unchanged.
    private static func fingerprint(objects: [DesiredObject], compared: [Compared], owned: [Owned], releases: [KubernetesRelease])
        -> String
    {
        var lines = compared.map { "\(objects[$0.index].label) \(Field.string($0.live, "metadata", "resourceVersion") ?? "absent")" }
        for entry in owned {
            for item in entry.items {
                lines.append(
                    "\(entry.kind.kind)/\(Field.string(item, "metadata", "name") ?? "") \(Field.string(item, "metadata", "resourceVersion") ?? "")"
                )
            }
        }
        lines += releases.map { "revision \($0.revision) \($0.outcome?.rawValue ?? "unverified")" }
        return Fingerprint.sha256(lines.sorted().joined(separator: "\n"))
    }

    private struct Owned: @unchecked Sendable {
        var index: Int
        var kind: ResourceKind
        var items: [[String: Any]]
    }

    /// The configuration the serving pods read now: what a new ConfigMap replaces.
    private static func servedConfigMap(by deployment: [String: Any]?, among configMaps: [[String: Any]]) -> [String: Any]? {
        guard let template = deployment.flatMap(PodTemplateReferences.template(of:)) else { return nil }
        let served = PodTemplateReferences.configMaps(template)
        return configMaps.first { served.contains(Field.string($0, "metadata", "name") ?? "") }
    }

    private func releases(of deployment: String?) async throws -> [KubernetesRelease] {
        guard let deployment else { return [] }
        return try await KubernetesHistory(client: client, namespace: namespace, deployment: deployment, instance: instance).releases()
    }

    /// A live revision that failed its rollout (or whose apply was interrupted before its
    /// verdict) is never "no changes": apply rolls it out and checks it again.
    private static func unverifiedRevision(live: [String: Any]?, releases: [KubernetesRelease]) -> String? {
        guard let current = live.flatMap(KubernetesHistory.revision(of:)),
            let release = releases.first(where: { $0.revision == current })
        else { return nil }
        switch release.outcome {
        case .succeeded: return nil
        case .failed:
            return "revision \(current) failed its rollout\(release.note.map { " (\($0))" } ?? ""); apply rolls it out and checks it again"
        default: return "revision \(current) was never verified (an apply was interrupted?); apply checks it"
        }
    }

    /// A Deployment at zero (after `down`, or a first release that failed) is started again by
    /// apply, though with an autoscaler the rendered object names no count to differ from.
    private func stopped(_ live: [String: Any]?) -> String? {
        guard live != nil, Field.int(live, "spec", "replicas") == 0, minimumReplicas > 0 else { return nil }
        return "stopped (0 replicas); apply starts it again at \(minimumReplicas)"
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

    private func listOwned(_ kind: ResourceKind) async throws -> [[String: Any]] {
        let selector = "app.kubernetes.io/managed-by%3Dorchestrate,app.kubernetes.io/instance%3D\(instance)"
        let response = try await client.send(.GET, kind.collectionPath(namespace: namespace) + "?labelSelector=\(selector)")
        guard response.status == .ok else { throw client.failure(response, verb: "list", resource: kind.plural) }
        let items = response.json?["items"] as? [[String: Any]] ?? []
        return items.sorted { (Field.string($0, "metadata", "name") ?? "") < (Field.string($1, "metadata", "name") ?? "") }
    }
}
