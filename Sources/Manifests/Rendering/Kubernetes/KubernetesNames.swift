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
    /// The ConfigMap's name carries a hash of its data (as kustomize's generators do): a new
    /// configuration is a new ConfigMap, so the pod template alone names the whole configuration,
    /// a rollback to an older ReplicaSet brings its configuration back, and a migration that
    /// fails before the rollout has changed nothing the serving pods read.
    /// Hashed over the ConfigMap's final data (template entries included): any change of
    /// content is a new name, as an immutable ConfigMap requires.
    func configMap(data: ManifestValue) -> String {
        var text = ""
        if case .map(let fields) = data {
            for field in fields {
                let value: String
                if case .string(let string) = field.value { value = string } else { value = "\(field.value)" }
                text += "\(field.key)=\(value)\n"
            }
        }
        return "\(app)-config-" + Self.hex(SHA256.hash(data: Array(text.utf8)).prefix(5))
    }
    var backupCronJob: String { "\(app)-backup" }

    /// A Job's pod template is immutable, so each release's migration Job is named after the
    /// spec and the image it runs: a new build gets a new Job instead of a rejected update.
    func migrationJob(image: String) -> String {
        let digest = SHA256.hash(data: Array("\(spec.specHash)\n\(image)".utf8))
        return "\(app)-migrate-" + Self.hex(digest.prefix(5))
    }

    private static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    static let componentLabel = "app.kubernetes.io/component"
    /// The component of the pods that serve; migration and backup pods have their own.
    static let servingComponent = "api"

    /// The environment's objects, whatever their component.
    var instanceLabels: ManifestValue {
        ["app.kubernetes.io/name": .string(app), "app.kubernetes.io/instance": .string("\(app)-\(spec.name)")]
    }

    /// Selects the serving pods only: fixed for the life of a Deployment (Kubernetes forbids
    /// changing it). Without the component, the Service, the PodDisruptionBudget and the
    /// Deployment's status would count the migration Job's pods as theirs, and the disruption
    /// controller, finding pods owned by a Job (no scale subresource), would allow no eviction.
    var servingSelector: ManifestValue {
        instanceLabels.merging([Self.componentLabel: .string(Self.servingComponent)])
    }

    var labels: ManifestValue {
        instanceLabels.merging([
            "app.kubernetes.io/managed-by": .string(Self.managedBy),
            Self.environmentLabel: .string(spec.name),
        ])
    }

    func podLabels(component: String) -> ManifestValue {
        labels.merging([Self.componentLabel: .string(component)])
    }

    func metadata(_ name: String, namespaced: Bool = true, component: String? = nil) -> ManifestValue {
        var objectLabels = labels
        if let component {
            objectLabels = podLabels(component: component)
        }
        return [
            "name": .string(name),
            "namespace": namespaced ? .string(namespace) : .null,
            "labels": objectLabels,
        ]
    }
}

/// Label selectors the orchestrator queries the cluster with, as rendered here.
public enum KubernetesSelectors {
    /// Every object and pod of the environment (serving, migration, backup).
    public static func environment(_ spec: EnvironmentSpec) -> String {
        "app.kubernetes.io/instance=\(spec.app.name)-\(spec.name)"
    }

    /// The pods that serve, without the migration Job's and the backup CronJob's.
    public static func servingPods(_ spec: EnvironmentSpec) -> String {
        environment(spec) + ",\(KubernetesNames.componentLabel)=\(KubernetesNames.servingComponent)"
    }
}
