import Foundation
import RESP
import TestSupport
import Testing

@testable import Backend

/// Migrations, partitions and the durable queue, against the real servers.
@Suite struct DataTests {
    @Test func migrationsRunOnceEvenWhenReplicasStartTogether() async throws {
        let harness = try await BackendHarness()
        let configuration = try harness.configuration()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    let pools = DatabasePools(configuration: configuration, metrics: ServiceMetrics(), logger: BackendHarness.quietLogger)
                    _ = try await withDatabase(pools) {
                        try await Migrator(pools: pools, logger: BackendHarness.quietLogger).migrate().count
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(
            try await harness.query("SELECT version FROM schema_migrations ORDER BY version") == Migrations.all.map { String($0.version) })
        let pools = DatabasePools(configuration: configuration, metrics: ServiceMetrics(), logger: BackendHarness.quietLogger)
        let status = try await withDatabase(pools) {
            try await Migrator(pools: pools, logger: BackendHarness.quietLogger).status().pending.count
        }
        #expect(status == 0)
    }

    @Test func failingMigrationRollsBackAndStops() async throws {
        let harness = try await BackendHarness()
        let pools = DatabasePools(configuration: try harness.configuration(), metrics: ServiceMetrics(), logger: BackendHarness.quietLogger)
        let broken =
            Migrations.all + [
                Migration(version: 99, name: "broken", statements: ["CREATE TABLE half_done (id int)", "SELECT * FROM missing_table"])
            ]
        await #expect(throws: (any Error).self) {
            _ = try await withDatabase(pools) { try await Migrator(pools: pools, logger: BackendHarness.quietLogger).migrate(broken).count }
        }
        #expect(try await harness.query("SELECT max(version) FROM schema_migrations") == [String(Migrations.latestVersion)])
        #expect(try await harness.query("SELECT to_regclass('half_done') IS NULL") == ["t"])
    }

    @Test func partitionsForThisMonthAndNextAreCreatedIdempotently() async throws {
        let harness = try await BackendHarness()
        try await harness.migrateDatabase()
        let pools = DatabasePools(configuration: try harness.configuration(), metrics: ServiceMetrics(), logger: BackendHarness.quietLogger)
        let december = try #require(ISO8601DateFormatter().date(from: "2026-12-15T10:00:00Z"))
        let names = try await withDatabase(pools) {
            try await Partitions(pools: pools, logger: BackendHarness.quietLogger).ensure(now: december)
        }
        #expect(names == ["analytics_events_2026_12", "webhook_logs_2026_12", "analytics_events_2027_01", "webhook_logs_2027_01"])
        let bounds = try await harness.query(
            "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = 'analytics_events_2027_01'")
        #expect(bounds == ["FOR VALUES FROM ('2027-01-01 00:00:00+00') TO ('2027-02-01 00:00:00+00')"])
    }

    @Test func seedIsIdempotent() async throws {
        let harness = try await BackendHarness()
        try await harness.migrateDatabase()
        let pools = DatabasePools(configuration: try harness.configuration(), metrics: ServiceMetrics(), logger: BackendHarness.quietLogger)
        let counts = try await withDatabase(pools) {
            [
                try await DemoData.load(into: pools, logger: BackendHarness.quietLogger),
                try await DemoData.load(into: pools, logger: BackendHarness.quietLogger),
            ]
        }
        #expect(counts == [3, 0])
    }

    /// A consumer that read a job and died never acknowledges it; another takes it over.
    @Test func jobOfACrashedConsumerIsClaimedByAnother() async throws {
        let redis = try LocalRedis.shared.get()
        let client = RedisClient(configuration: try RedisConfiguration(url: redis.url))
        let queue = JobQueue(redis: client, prefix: "queue-\(UUID().uuidString.prefix(6)):")
        try await queue.createGroup()
        let id = try await queue.enqueue(kind: "test", payload: "hello")
        let crashed = try await client.dedicatedConnection()
        let taken = try await queue.read(consumer: "crashed", count: 10, block: .milliseconds(100), on: crashed)
        #expect(taken.map(\.id) == [id])
        await crashed.close()
        #expect(try await queue.stats().pending == 1)
        #expect(
            try await queue.claimAbandoned(consumer: "survivor", minimumIdle: .seconds(30), count: 10).isEmpty,
            "not before it is idle long enough")
        try await Task.sleep(for: .milliseconds(150))
        let claimed = try await queue.claimAbandoned(consumer: "survivor", minimumIdle: .milliseconds(100), count: 10)
        #expect(claimed == [JobQueue.Job(id: id, kind: "test", payload: "hello")])
        try await queue.acknowledge(claimed[0])
        let stats = try await queue.stats()
        #expect(stats.depth == 0 && stats.pending == 0)
        await client.shutdown()
    }

    @Test func aJobThatKeepsFailingGoesToTheDeadLetterStream() async throws {
        let redis = try LocalRedis.shared.get()
        let client = RedisClient(configuration: try RedisConfiguration(url: redis.url))
        let queue = JobQueue(redis: client, prefix: "dead-\(UUID().uuidString.prefix(6)):")
        try await queue.createGroup()
        let id = try await queue.enqueue(kind: "test", payload: "x")
        let job = JobQueue.Job(id: id, kind: "test", payload: "x")
        var moved: [Bool] = []
        for _ in 0..<JobQueue.maximumAttempts { moved.append(try await queue.recordFailure(job, reason: "boom")) }
        #expect(moved == [false, false, false, false, true])
        #expect(try await client.send(.init("XLEN", queue.deadLetters)).int == 1)
        await client.shutdown()
    }
}
