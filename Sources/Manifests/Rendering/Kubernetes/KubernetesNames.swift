import Crypto
import Foundation

/// Names, labels and annotations shared by every object an environment renders.
struct KubernetesNames {
    let spec: EnvironmentSpec
    let target: KubernetesTarget

    static let managedBy = "orchestrate"
    static let environmentLabel = "orchestrate.dev/environment"
    static let specHashAnnotation = "orchestrate.dev/spec-hash"

    var namespace: String { target.namespace }
    var app: String { spec.app.name }
    var configMap: String { "\(app)-config" }
    var backupCronJob: String { "\(app)-backup" }

    /// A Job's pod template is immutable, so each release's migration Job is named after the
    /// spec and the image it runs: a new build gets a new Job instead of a rejected update.
    func migrationJob(image: String) -> String {
        let digest = SHA256.hash(data: Array("\(spec.specHash)\n\(image)".utf8))
        return "\(app)-migrate-" + digest.prefix(5).map { String(format: "%02x", $0) }.joined()
    }

    /// Selector labels: fixed for the life of a Deployment (Kubernetes forbids changing them).
    var selector: ManifestValue {
        ["app.kubernetes.io/name": .string(app), "app.kubernetes.io/instance": .string("\(app)-\(spec.name)")]
    }

    var labels: ManifestValue {
        selector.merging([
            "app.kubernetes.io/managed-by": .string(Self.managedBy),
            Self.environmentLabel: .string(spec.name),
        ])
    }

    func metadata(_ name: String, namespaced: Bool = true, component: String? = nil) -> ManifestValue {
        var objectLabels = labels
        if let component {
            objectLabels = objectLabels.merging(["app.kubernetes.io/component": .string(component)])
        }
        return [
            "name": .string(name),
            "namespace": namespaced ? .string(namespace) : .null,
            "labels": objectLabels,
        ]
    }
}
