import Foundation
import RESP
import TestSupport
import Testing

@testable import Backend

/// The reason the validator refuses allkeys-* with the queue on, shown on a real Redis filled
/// past its maxmemory: under volatile-lru the cache's keys (all with TTLs) are evicted and the
/// queue's stream is not.
@Suite struct QueueEvictionTests {
    @Test func aFullRedisUnderVolatileLRUEvictsTheCacheNotTheQueue() async throws {
        let server = try LocalRedis()
        defer { server.stop() }
        var configuration = try RedisConfiguration(url: server.url)
        configuration.commandTimeout = .seconds(15)
        let redis = RedisClient(configuration: configuration)
        defer { Task { await redis.shutdown() } }
        _ = try await redis.send(RESPCommand("CONFIG", "SET", "maxmemory", "4mb"))
        _ = try await redis.send(RESPCommand("CONFIG", "SET", "maxmemory-policy", "volatile-lru"))
        let queue = JobQueue(redis: redis, prefix: "pet:")
        try await queue.createGroup()
        for index in 0..<200 { _ = try await queue.enqueue(kind: "webhook", payload: "order-\(index)") }

        // Twelve megabytes of cached designs into four: eviction has to happen.
        let value = String(repeating: "d", count: 4096)
        for index in 0..<3000 {
            _ = try await redis.send(RESPCommand("SET", "pet:design:user:\(index)", value, "EX", 3600))
        }
        let evicted = try await redis.send(RESPCommand("INFO", "stats")).string ?? ""
        let count = evicted.split(separator: "\r\n").first { $0.hasPrefix("evicted_keys:") }.flatMap { Int($0.dropFirst(13)) } ?? 0
        #expect(count > 1000, "Redis evicted \(count) keys; the test did not fill it")
        #expect(try await redis.send(RESPCommand("XLEN", "pet:jobs")).int == 200)
    }
}
