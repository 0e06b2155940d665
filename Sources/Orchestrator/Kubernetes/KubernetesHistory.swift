import Foundation

/// One revision of the Deployment: a ReplicaSet, with what orchestrate wrote on it.
struct KubernetesRelease: @unchecked Sendable {
    var revision: Int
    var replicaSet: String
    var image: String
    var specHash: String?
    /// nil for a revision orchestrate did not verify.
    var outcome: ReleaseRecord.Outcome?
    var note: String?
    var deployedBy: String?
    var deployedAt: String?
    /// The pod template, without the `pod-template-hash` label the controller adds.
    var template: [String: Any]
    var templateHash: String

    var report: [String: Any] {
        var entry: [String: Any] = ["revision": revision, "replicaSet": replicaSet, "image": image]
        entry["specHash"] = specHash
        entry["outcome"] = outcome?.rawValue
        entry["note"] = note
        entry["deployedBy"] = deployedBy
        entry["deployedAt"] = deployedAt
        return entry
    }
}

extension KubernetesRelease: VersionedRelease {
    var number: Int { revision }
    var name: String { "revision \(revision)" }
    var verdict: ReleaseRecord.Outcome? { outcome }
    /// The controller's hash of the pod template (its `pod-template-hash`), which names image
    /// and configuration together.
    var configuration: String { templateHash }
}

/// Release history on Kubernetes lives on the cluster: ReplicaSet revisions
/// (`deployment.kubernetes.io/revision`) plus annotations orchestrate writes on them.
struct KubernetesHistory {
    static let outcome = "orchestrate.dev/outcome"
    static let note = "orchestrate.dev/note"
    static let deployedBy = "orchestrate.dev/deployed-by"
    static let deployedAt = "orchestrate.dev/deployed-at"
    static let image = "orchestrate.dev/image"

    let client: KubernetesClient
    let namespace: String
    let deployment: String
    let instance: String

    var collection: String { "/apis/apps/v1/namespaces/\(namespace)/replicasets" }

    func currentRevision() async throws -> Int? {
        let object = try await client.object(
            "/apis/apps/v1/namespaces/\(namespace)/deployments/\(deployment)", label: "deployments/\(deployment)")
        return object.flatMap(Self.revision)
    }

    /// The revision the controller wrote on a Deployment or ReplicaSet.
    static func revision(of object: [String: Any]) -> Int? {
        (Field.map(object, "metadata", "annotations")?["deployment.kubernetes.io/revision"] as? String).flatMap { Int($0) }
    }

    func releases() async throws -> [KubernetesRelease] {
        let replicaSets = try await client.list(
            collection, labelSelector: "app.kubernetes.io/instance=\(instance)", label: "replicasets")
        return replicaSets.compactMap { replicaSet -> KubernetesRelease? in
            let owners = Field.map(replicaSet, "metadata")?["ownerReferences"] as? [[String: Any]] ?? []
            guard owners.contains(where: { $0["name"] as? String == deployment }),
                let annotations = Field.map(replicaSet, "metadata", "annotations") as? [String: Any],
                let revision = (annotations["deployment.kubernetes.io/revision"] as? String).flatMap({ Int($0) }),
                var template = Field.map(replicaSet, "spec", "template")
            else { return nil }
            var metadata = template["metadata"] as? [String: Any] ?? [:]
            var labels = metadata["labels"] as? [String: Any] ?? [:]
            let templateHash = labels["pod-template-hash"] as? String ?? Field.string(replicaSet, "metadata", "name") ?? ""
            labels["pod-template-hash"] = nil
            metadata["labels"] = labels
            template["metadata"] = metadata
            let containers = Field.map(template, "spec")?["containers"] as? [[String: Any]] ?? []
            return KubernetesRelease(
                revision: revision, replicaSet: Field.string(replicaSet, "metadata", "name") ?? "",
                image: containers.first?["image"] as? String ?? "",
                specHash: (metadata["annotations"] as? [String: Any])?["orchestrate.dev/spec-hash"] as? String,
                outcome: (annotations[Self.outcome] as? String).flatMap(ReleaseRecord.Outcome.init(rawValue:)),
                note: annotations[Self.note] as? String,
                deployedBy: annotations[Self.deployedBy] as? String, deployedAt: annotations[Self.deployedAt] as? String,
                template: template,
                templateHash: templateHash
            )
        }.sorted { $0.revision > $1.revision }
    }

    /// Records on the revision's ReplicaSet how it went, who deployed it and when.
    func mark(_ revision: Int, outcome: ReleaseRecord.Outcome, note: String?, actor: String, image: String) async throws {
        guard let release = try await releases().first(where: { $0.revision == revision }) else { return }
        var annotations = [
            Self.outcome: outcome.rawValue, Self.deployedBy: actor, Self.deployedAt: Date().formatted(.iso8601), Self.image: image,
        ]
        if let note { annotations[Self.note] = note }
        try await client.annotate("\(collection)/\(release.replicaSet)", annotations, label: "replicasets/\(release.replicaSet)")
    }
}
