/// The smaller objects around the Deployment: Namespace, ConfigMap, Service, HPA and PDB.
enum SupportingObjects {
    static func namespace(_ names: KubernetesNames, template: ManifestValue) -> ManifestValue {
        template.merging(["metadata": names.metadata(names.namespace, namespaced: false)])
    }

    /// The template's `data` with the service's variables over it, and the client-address header
    /// when an ingress sets one (without it the socket's address is the client).
    static func configMapData(_ spec: EnvironmentSpec, target: KubernetesTarget, template: ManifestValue) -> ManifestValue {
        var variables = ServiceEnvironment.variables(for: spec)
        if let header = target.clientAddressHeader {
            variables += [("TRUSTED_CLIENT_IP_HEADER", header), ("TRUSTED_PROXY_HOPS", String(target.proxyHops))]
        }
        return (template["data"] ?? .map([])).merging(.map(variables.map { ManifestField($0.name, .string($0.value)) }))
    }

    static func configMap(_ parts: PodParts, template: ManifestValue) -> ManifestValue {
        // Immutable: its name is its content, and the kubelet then need not watch it.
        template.merging([
            "metadata": parts.names.metadata(parts.configMapName), "immutable": true,
            "data": configMapData(parts.spec, target: parts.names.target, template: template),
        ])
    }

    static func service(_ parts: PodParts, template: ManifestValue) -> ManifestValue {
        template.merging([
            "metadata": parts.names.metadata(parts.names.app, component: KubernetesNames.servingComponent),
            "spec": [
                "selector": parts.names.servingSelector,
                "ports": [["name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"]],
            ],
        ])
    }

    static func horizontalPodAutoscaler(_ parts: PodParts, template: ManifestValue) -> ManifestValue? {
        let scaling = parts.spec.scaling
        guard scaling.scales, let autoscaling = scaling.autoscaling else { return nil }
        var metrics: [ManifestValue] = [resourceMetric("cpu", autoscaling.targetCPU)]
        if let memory = autoscaling.targetMemory {
            metrics.append(resourceMetric("memory", memory))
        }
        return template.merging([
            "metadata": parts.names.metadata(parts.names.app, component: KubernetesNames.servingComponent),
            "spec": [
                "scaleTargetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": .string(parts.names.app)],
                "minReplicas": .integer(max(1, scaling.replicas.min)),
                "maxReplicas": .integer(scaling.replicas.max),
                "metrics": .list(metrics),
            ],
        ])
    }

    private static func resourceMetric(_ name: String, _ target: Percentage) -> ManifestValue {
        [
            "type": "Resource",
            "resource": [
                "name": .string(name), "target": ["type": "Utilization", "averageUtilization": .integer(Int(target.value.rounded()))],
            ],
        ]
    }

    /// Voluntary disruptions (node drains) take one pod at a time, and none when only one runs.
    static func podDisruptionBudget(_ parts: PodParts, template: ManifestValue) -> ManifestValue? {
        guard parts.spec.scaling.replicas.min >= 2 else { return nil }
        return template.merging([
            "metadata": parts.names.metadata(parts.names.app, component: KubernetesNames.servingComponent),
            "spec": ["maxUnavailable": 1, "selector": ["matchLabels": parts.names.servingSelector]],
        ])
    }
}
