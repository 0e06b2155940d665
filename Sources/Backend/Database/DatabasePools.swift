import Logging
import PostgresNIO
import Synchronization

/// The primary pool, and the read-replica pool when one is configured. Reads that tolerate
/// replication lag go to the replica and fall back to the primary when it is down.
final class DatabasePools: Sendable {
    let primary: PostgresClient
    let replica: PostgresClient?
    let metrics: ServiceMetrics
    private let replicaDownUntil = Mutex<ContinuousClock.Instant?>(nil)

    init(configuration: ServiceConfiguration, metrics: ServiceMetrics, logger: Logger) {
        primary = PostgresClient(
            configuration: configuration.database.clientConfiguration(poolMin: configuration.poolMin, poolMax: configuration.poolMax),
            backgroundLogger: logger)
        replica = configuration.replica.map {
            PostgresClient(
                configuration: $0.clientConfiguration(poolMin: 0, poolMax: configuration.replicaPoolMax), backgroundLogger: logger)
        }
        self.metrics = metrics
        metrics.poolCapacity(role: "primary").set(Double(configuration.poolMax))
        if configuration.replica != nil {
            metrics.poolCapacity(role: "replica").set(Double(configuration.replicaPoolMax))
        }
    }

    /// Clients whose `run()` must be running for their pools to work.
    var clients: [PostgresClient] { [primary] + (replica.map { [$0] } ?? []) }

    func write<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await use(primary, role: "primary", body)
    }

    /// Runs a read on the replica if it is healthy, else on the primary. A replica failure
    /// sends reads to the primary for 10 seconds before the replica is tried again.
    func read<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        guard let replica, replicaUsable else { return try await use(primary, role: "primary", body) }
        do {
            return try await use(replica, role: "replica", body)
        } catch let error as PSQLError where Self.isConnectionFailure(error) {
            replicaDownUntil.withLock { $0 = .now + .seconds(10) }
            metrics.replicaFallbacks.increment()
            return try await use(primary, role: "primary", body)
        }
    }

    var replicaUsable: Bool {
        replicaDownUntil.withLock { until in
            guard let deadline = until else { return true }
            if deadline <= .now { until = nil }
            return deadline <= .now
        }
    }

    private func use<T: Sendable>(_ client: PostgresClient, role: String, _ body: (PostgresConnection) async throws -> T) async throws -> T
    {
        let inUse = metrics.poolInUse(role: role)
        inUse.increment()
        defer { inUse.decrement() }
        return try await client.withConnection(body)
    }

    /// Errors that mean "the server is unreachable", as opposed to a bad query.
    static func isConnectionFailure(_ error: PSQLError) -> Bool {
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed:
            return true
        default:
            return false
        }
    }
}
