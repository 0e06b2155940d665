/// The service's Deployment: probes, resources, rollout parameters, config and secrets by name,
/// a non-root read-only container, and the spec hash that rolls pods when any setting changes.
enum DeploymentRenderer {
    static let containerName = "backend"

    /// The service port, and the metrics listener's when it has one: named, for a
    /// ServiceMonitor or scrape config to find, and not routed by the Service.
    static func ports(_ spec: EnvironmentSpec) -> ManifestValue {
        var ports: [ManifestValue] = [["name": "http", "containerPort": .integer(spec.app.port), "protocol": "TCP"]]
        if let metricsPort = spec.health.metricsPort {
            ports.append(["name": "metrics", "containerPort": .integer(metricsPort), "protocol": "TCP"])
        }
        return .list(ports)
    }

    static func render(_ parts: PodParts, template: ManifestValue) -> ManifestValue {
        let spec = parts.spec
        let names = parts.names
        let overlay: ManifestValue = [
            "metadata": names.metadata(names.app, component: KubernetesNames.servingComponent).merging([
                "annotations": [KubernetesNames.specHashAnnotation: .string(spec.specHash)]
            ]),
            "spec": [
                // With an autoscaler the HPA owns the replica count; writing it here would reset
                // the scale on every apply.
                "replicas": spec.scaling.scales ? .null : .integer(spec.scaling.replicas.max),
                "progressDeadlineSeconds": .integer(Int(spec.deploy.healthTimeout.seconds)),
                "selector": ["matchLabels": names.servingSelector],
                "strategy": strategy(spec.deploy),
                "template": [
                    "metadata": [
                        "labels": names.podLabels(component: KubernetesNames.servingComponent),
                        "annotations": [KubernetesNames.specHashAnnotation: .string(spec.specHash)],
                    ],
                    "spec": [
                        "securityContext": parts.podSecurityContext,
                        "containers": [
                            [
                                "name": .string(containerName),
                                "image": .string(parts.image),
                                "ports": ports(spec),
                                "envFrom": parts.envFrom,
                                "env": parts.secretEnv,
                                "resources": parts.resources,
                                "livenessProbe": parts.probe(spec.health.liveness),
                                "readinessProbe": parts.probe(spec.health.readiness),
                                "securityContext": parts.containerSecurityContext,
                            ]
                        ],
                    ],
                ],
            ],
        ]
        return template.merging(overlay)
    }

    /// Kubernetes has rolling and recreate; canary and bluegreen start new pods before any old
    /// one stops (surge), and the engine gates the switch on health.
    static func strategy(_ deploy: DeploySpec) -> ManifestValue {
        func text(_ count: InstanceCount) -> ManifestValue {
            switch count {
            case .count(let value): return .integer(value)
            case .percent(let share): return .string(share.description)
            }
        }
        switch deploy.strategy {
        case .immediate:
            return ["type": "Recreate", "rollingUpdate": .null]
        case .rolling:
            return [
                "type": "RollingUpdate",
                "rollingUpdate": ["maxUnavailable": text(deploy.maxUnavailable), "maxSurge": text(deploy.maxSurge)],
            ]
        case .canary:
            return ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 0, "maxSurge": 1]]
        case .bluegreen:
            return ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 0, "maxSurge": "100%"]]
        }
    }
}
