/// The ConfigMaps a pod template reads: through `envFrom`, an `env` entry's `configMapKeyRef`
/// or a volume. A ConfigMap named so by a retained ReplicaSet is that revision's configuration,
/// kept for as long as a rollback can return to it.
enum PodTemplateReferences {
    static func configMaps(_ template: [String: Any]) -> Set<String> {
        let spec = template["spec"] as? [String: Any] ?? [:]
        let containers = (spec["containers"] as? [[String: Any]] ?? []) + (spec["initContainers"] as? [[String: Any]] ?? [])
        var names = Set<String>()
        for container in containers {
            for source in container["envFrom"] as? [[String: Any]] ?? [] {
                if let name = Field.string(source, "configMapRef", "name") { names.insert(name) }
            }
            for variable in container["env"] as? [[String: Any]] ?? [] {
                if let name = Field.string(variable, "valueFrom", "configMapKeyRef", "name") { names.insert(name) }
            }
        }
        for volume in spec["volumes"] as? [[String: Any]] ?? [] {
            if let name = Field.string(volume, "configMap", "name") { names.insert(name) }
        }
        return names
    }

    /// The pod template of a Deployment, Job or ReplicaSet (a CronJob's is one level deeper).
    static func template(of object: [String: Any]) -> [String: Any]? {
        Field.map(object, "spec", "template") ?? Field.map(object, "spec", "jobTemplate", "spec", "template")
    }

    /// The first container's image of a Deployment, Job or ReplicaSet.
    static func image(of object: [String: Any]) -> String? {
        let containers = template(of: object).flatMap { Field.map($0, "spec")?["containers"] as? [[String: Any]] } ?? []
        return containers.first?["image"] as? String
    }
}
