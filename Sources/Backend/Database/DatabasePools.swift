import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Prometheus
import Synchronization

/// The primary pool, and the read-replica pool when one is configured. Reads that tolerate
/// replication lag go to the replica and fall back to the primary when it is down.
final class DatabasePools: Sendable {
    let primary: PostgresClient
    let replica: PostgresClient?
    let metrics: ServiceMetrics
    private let primaryInUse: Gauge
    private let replicaInUse: Gauge
    private let timerLoop = MultiThreadedEventLoopGroup.singleton.any()
    private let replicaHealthy = Atomic<Bool>(false)

    init(configuration: ServiceConfiguration, metrics: ServiceMetrics, logger: Logger) {
        primary = PostgresClient(
            configuration: configuration.database.clientConfiguration(poolMin: configuration.poolMin, poolMax: configuration.poolMax),
            backgroundLogger: logger)
        replica = configuration.replica.map {
            PostgresClient(
                configuration: $0.clientConfiguration(poolMin: 0, poolMax: configuration.replicaPoolMax), backgroundLogger: logger)
        }
        self.metrics = metrics
        primaryInUse = metrics.poolInUse(role: "primary")
        replicaInUse = metrics.poolInUse(role: "replica")
        metrics.poolCapacity(role: "primary").set(Double(configuration.poolMax))
        if configuration.replica != nil {
            metrics.poolCapacity(role: "replica").set(Double(configuration.replicaPoolMax))
        }
    }

    /// Clients whose `run()` must be running for their pools to work.
    var clients: [PostgresClient] { [primary] + (replica.map { [$0] } ?? []) }

    /// How long a request may wait for the database before it fails; migrations pass more.
    static let requestTimeout: Duration = .seconds(5)

    @discardableResult
    func write<T: Sendable>(
        timeout: Duration = requestTimeout, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await use(primary, role: "primary", timeout: timeout, body)
    }

    /// Runs a read on the replica while its health probe passes, else on the primary. A
    /// connection failure on the replica sends reads to the primary until the probe passes again.
    @discardableResult
    func read<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        guard let replica else { return try await use(primary, role: "primary", timeout: Self.requestTimeout, body) }
        guard replicaHealthy.load(ordering: .relaxed) else {
            metrics.replicaFallbacks.increment()
            return try await use(primary, role: "primary", timeout: Self.requestTimeout, body)
        }
        do {
            return try await use(replica, role: "replica", timeout: Self.requestTimeout, body)
        } catch let error where Self.isUnreachable(error) {
            replicaHealthy.store(false, ordering: .relaxed)
            metrics.replicaFallbacks.increment()
            return try await use(primary, role: "primary", timeout: Self.requestTimeout, body)
        }
    }

    /// The server did not answer (as opposed to answering with a query error).
    static func isUnreachable(_ error: Error) -> Bool {
        if error is DatabaseTimeout { return true }
        if let error = error as? PSQLError { return error.code != .server }
        return false
    }

    /// Probes the replica every few seconds with a time limit, so that a dead replica costs
    /// reads nothing: they go to the primary without waiting on a connect timeout.
    func monitorReplica(every interval: Duration = .seconds(5), logger: Logger) async {
        guard let replica else { return }
        while !Task.isCancelled {
            let healthy = await Self.answers(replica, within: .seconds(2), logger: logger)
            if healthy != replicaHealthy.load(ordering: .relaxed) {
                logger.warning("read replica is \(healthy ? "back" : "down"); reads go to the \(healthy ? "replica" : "primary")")
            }
            replicaHealthy.store(healthy, ordering: .relaxed)
            try? await Task.sleep(for: interval)
        }
    }

    static func answers(_ client: PostgresClient, within limit: Duration, logger: Logger) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await client.withConnection { try await $0.query("SELECT 1", logger: logger) }) != nil }
            group.addTask {
                try? await Task.sleep(for: limit)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// Runs `body` on a pooled connection, failing with `DatabaseTimeout` after `timeout`: with
    /// the server down, the pool would otherwise keep a request waiting while it retries (its
    /// circuit breaker trips only after a minute). The limit is an event-loop timer that cancels
    /// the work, which costs far less per query than racing a sleeping task.
    private func use<T: Sendable>(
        _ client: PostgresClient, role: String, timeout: Duration, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let inUse = role == "primary" ? primaryInUse : replicaInUse
        inUse.increment()
        defer { inUse.decrement() }
        let work = Task { try await client.withConnection(body) }
        let timedOut = Atomic<Bool>(false)
        let timer = timerLoop.scheduleTask(
            in: timeout.timeAmount
        ) {
            timedOut.store(true, ordering: .relaxed)
            work.cancel()
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            do {
                return try await work.value
            } catch {
                if timedOut.load(ordering: .relaxed) { throw DatabaseTimeout(role: role, limit: timeout) }
                throw error
            }
        } onCancel: {
            work.cancel()
        }
    }
}

/// The database did not answer in time (down, unreachable, or every connection busy).
struct DatabaseTimeout: Error, CustomStringConvertible {
    var role: String
    var limit: Duration

    var description: String { "the \(role) database did not answer within \(limit)" }
}
