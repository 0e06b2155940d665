/// The one line `orchestrate validate` prints for an environment that is fine.
public enum EnvironmentSummary {
    public static func line(for spec: EnvironmentSpec) -> String {
        let replicas = spec.scaling.replicas
        let capacity = DeployCapacity(scaling: spec.scaling, deploy: spec.deploy)
        let connections = capacity.peakInstances * spec.database.pool.max
        var parts = [
            spec.app.runtime.rawValue,
            replicas.min == replicas.max
                ? "\(replicas.max) instance\(replicas.max == 1 ? "" : "s")" : "\(replicas.min)–\(replicas.max) instances",
            "pool \(spec.database.pool.min)–\(spec.database.pool.max)",
            "\(connections)/\(spec.database.server.connectionBudget) DB connections at peak",
            spec.deploy.strategy.rawValue,
        ]
        var targets: [String] = []
        if let fly = spec.targets.fly {
            let regions = fly.machinesPerRegion(replicas.min).map { "\($0.region)×\($0.count)" }.joined(separator: " ")
            targets.append("fly (\(fly.app) in \(fly.org): \(regions))")
        }
        if spec.targets.kubernetes != nil { targets.append("kubernetes") }
        parts.append(targets.isEmpty ? "no targets" : "targets: " + targets.joined(separator: ", "))
        return parts.joined(separator: ", ")
    }
}
