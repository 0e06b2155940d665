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
    var verification: VerificationRecord?
    var promotedFrom: PromotionOrigin?
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
        entry["verification"] = verification.flatMap { try? JSONCoding.object($0) }
        entry["promotedFrom"] = promotedFrom.flatMap { try? JSONCoding.object($0) }
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

    var summary: ReleaseSummary {
        let digest = image.split(separator: "@").last.map(String.init) ?? image
        return ReleaseSummary(
            id: revision, name: name, outcome: outcome, artifact: Artifact(digest: digest, reference: image),
            verification: verification, promotedFrom: promotedFrom)
    }
}

/// Release history on Kubernetes lives on the cluster: ReplicaSet revisions
/// (`deployment.kubernetes.io/revision`) plus annotations orchestrate writes on them.
struct KubernetesHistory {
    static let outcome = "orchestrate.dev/outcome"
    static let note = "orchestrate.dev/note"
    static let deployedBy = "orchestrate.dev/deployed-by"
    static let deployedAt = "orchestrate.dev/deployed-at"
    static let image = "orchestrate.dev/image"
    static let verification = "orchestrate.dev/verification"
    static let promotedFrom = "orchestrate.dev/promoted-from"

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
            guard Field.owners(replicaSet).contains(where: { $0["name"] as? String == deployment }),
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
                verification: (annotations[Self.verification] as? String).flatMap {
                    try? JSONCoding.decode(VerificationRecord.self, from: $0)
                },
                promotedFrom: (annotations[Self.promotedFrom] as? String).flatMap {
                    try? JSONCoding.decode(PromotionOrigin.self, from: $0)
                },
                template: template,
                templateHash: templateHash
            )
        }.sorted { $0.revision > $1.revision }
    }

    func release(_ revision: Int?) async throws -> KubernetesRelease? {
        guard let revision else { return nil }
        return try await releases().first { $0.revision == revision }
    }

    /// Records verify's result and a promotion's origin on the revision's ReplicaSet; `failed`
    /// marks it failed (a gate stopped it after the controller finished).
    func record(on revision: Int, verification: VerificationRecord?, origin: PromotionOrigin?, failed: String?) async throws {
        guard let release = try await release(revision) else {
            throw DeployFailure(kind: .invalid, message: "revision \(revision) is no longer in the Deployment's history")
        }
        var annotations: [String: String] = [:]
        if let verification { annotations[Self.verification] = try JSONCoding.encode(verification, pretty: false) }
        if let origin { annotations[Self.promotedFrom] = try JSONCoding.encode(origin, pretty: false) }
        if let failed {
            annotations[Self.outcome] = ReleaseRecord.Outcome.failed.rawValue
            annotations[Self.note] = failed
        }
        guard !annotations.isEmpty else { return }
        try await client.annotate("\(collection)/\(release.replicaSet)", annotations, label: "replicasets/\(release.replicaSet)")
    }

    /// Records on the revision's ReplicaSet how it went, who deployed it and when.
    func mark(_ revision: Int, outcome: ReleaseRecord.Outcome, note: String?, actor: String, image: String) async throws {
        guard let release = try await release(revision) else { return }
        var annotations = [
            Self.outcome: outcome.rawValue, Self.deployedBy: actor, Self.deployedAt: Date().formatted(.iso8601), Self.image: image,
        ]
        if let note { annotations[Self.note] = note }
        try await client.annotate("\(collection)/\(release.replicaSet)", annotations, label: "replicasets/\(release.replicaSet)")
    }
}
