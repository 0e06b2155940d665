/// Every instance opens up to `pool.max` connections; at peak (autoscaled to the max, plus what a
/// deploy starts beside them) they must all fit in what the PostgreSQL server allows.
enum ConnectionBudgetCheck {
    static func run(_ spec: EnvironmentSpec, log: DiagnosticLog) {
        let capacity = DeployCapacity(scaling: spec.scaling, deploy: spec.deploy)
        check(
            server: spec.database.server, serverName: "the primary", serverPath: "database.server", poolMax: spec.database.pool.max,
            poolPath: "database.pool.max",
            capacity: capacity, spec: spec, log: log)
        guard let replica = spec.database.readReplica else { return }
        let replicaServerPath = spec.locations["database.readReplica.server"] != nil ? "database.readReplica.server" : "database.server"
        check(
            server: replica.server, serverName: "the read replica", serverPath: replicaServerPath, poolMax: replica.poolMax,
            poolPath: "database.readReplica.poolMax",
            capacity: capacity, spec: spec, log: log)
        if replica.server.maxConnections < spec.database.server.maxConnections {
            log.error(
                "the read replica's maxConnections (\(replica.server.maxConnections)) is below the primary's (\(spec.database.server.maxConnections)); a PostgreSQL hot standby refuses to start that way",
                at: spec.locations["database.readReplica.server.maxConnections"], path: "database.readReplica.server.maxConnections",
                fix: "set it to at least \(spec.database.server.maxConnections)")
        }
    }

    private static func check(
        server: DatabaseSpec.Server, serverName: String, serverPath: String, poolMax: Int, poolPath: String, capacity: DeployCapacity,
        spec: EnvironmentSpec, log: DiagnosticLog
    ) {
        guard server.reservedConnections < server.maxConnections else {
            log.error(
                "reservedConnections (\(server.reservedConnections)) leaves no connections of \(server.maxConnections) for the service",
                at: spec.locations["\(serverPath).reservedConnections"], path: "\(serverPath).reservedConnections",
                fix: "lower reservedConnections below \(server.maxConnections)")
            return
        }
        let needed = capacity.peakInstances * poolMax
        let budget = server.connectionBudget
        guard needed > budget else { return }
        let fittingPool = budget / capacity.peakInstances
        let fittingInstances = budget / poolMax
        var fixes: [String] = []
        if fittingPool >= max(1, spec.database.pool.min) {
            fixes.append("lower \(poolPath) to \(fittingPool) or less")
        }
        if fittingInstances >= max(1, spec.scaling.replicas.min) && fittingInstances < capacity.peakInstances {
            fixes.append("cap the peak at \(fittingInstances) instances (scaling.replicas.max and the deploy strategy)")
        }
        fixes.append(
            "raise \(serverPath).maxConnections to at least \(needed + server.reservedConnections) (size the server for it, or put PgBouncer in front)"
        )
        log.error(
            "connection budget exceeded on \(serverName): at peak \(capacity.peakInstances) instances (\(capacity.explanation)) × \(poolPath) \(poolMax) = \(needed) connections, but \(serverName) allows \(budget) (\(serverPath).maxConnections \(server.maxConnections) − reservedConnections \(server.reservedConnections))",
            at: spec.locations[poolPath], path: poolPath, fix: fixes.joined(separator: "; or "))
    }
}
