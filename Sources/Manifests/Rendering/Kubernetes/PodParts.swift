/// The pieces of a pod that the service's Deployment and its migration Job share.
struct PodParts {
    let spec: EnvironmentSpec
    let names: KubernetesNames
    let image: String
    /// The release's ConfigMap (see `KubernetesNames.configMap(data:)`).
    let configMapName: String

    static let nonRootUser = 65532

    var envFrom: ManifestValue {
        [["configMapRef": ["name": .string(configMapName)]]]
    }

    /// Each secret by key from the named Secret; optional ones may be absent from it.
    var secretEnv: ManifestValue {
        .list(
            spec.secrets.filter { !spec.backupOnlySecrets.contains($0.name) }.map { secret in
                [
                    "name": .string(secret.name),
                    "valueFrom": [
                        "secretKeyRef": [
                            "name": .string(names.target.secretName),
                            "key": .string(secret.name),
                            "optional": secret.required ? .null : true,
                        ]
                    ],
                ]
            })
    }

    var resources: ManifestValue {
        let resources = spec.resources
        return [
            "requests": ["cpu": .string(resources.requests.cpu.description), "memory": .string(resources.requests.memory.kubernetesText)],
            "limits": ["cpu": .string(resources.limits.cpu.description), "memory": .string(resources.limits.memory.kubernetesText)],
        ]
    }

    var podSecurityContext: ManifestValue {
        [
            "runAsNonRoot": true,
            "runAsUser": .integer(Self.nonRootUser),
            "runAsGroup": .integer(Self.nonRootUser),
            "fsGroup": .integer(Self.nonRootUser),
            "seccompProfile": ["type": "RuntimeDefault"],
        ]
    }

    var containerSecurityContext: ManifestValue {
        [
            "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true,
            "capabilities": ["drop": ["ALL"]],
        ]
    }

    func probe(_ probe: HealthSpec.Probe?) -> ManifestValue {
        guard let probe else { return .null }
        return [
            "httpGet": ["path": .string(probe.path), "port": "http"],
            "initialDelaySeconds": .integer(Int(probe.initialDelay.seconds)),
            "periodSeconds": .integer(Int(probe.period.seconds)),
            "timeoutSeconds": .integer(Int(probe.timeout.seconds)),
            "failureThreshold": .integer(probe.failureThreshold),
        ]
    }
}
