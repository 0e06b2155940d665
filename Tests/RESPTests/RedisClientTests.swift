import Foundation
import NIOCore
import TestSupport
import Testing

@testable import RESP

/// Against a real redis-server started for the test run.
@Suite struct RedisClientTests {
    let redis: LocalRedis
    let prefix = "test:\(UUID().uuidString.prefix(8)):"

    init() throws {
        redis = try LocalRedis.shared.get()
    }

    /// Generous limits: the whole suite shares two cores with image builds and deploys, and a
    /// starved connect must not pass for a client bug. Tests of the limits set their own.
    private func client(_ change: (inout RedisConfiguration) -> Void = { _ in }) throws -> RedisClient {
        var configuration = try RedisConfiguration(url: redis.url)
        configuration.connectTimeout = .seconds(15)
        configuration.commandTimeout = .seconds(15)
        change(&configuration)
        return RedisClient(configuration: configuration)
    }

    @Test func setGetAndErrorsReplies() async throws {
        let client = try client()
        defer { Task { await client.shutdown() } }
        #expect(try await client.send(RESPCommand("SET", prefix + "a", "1")) == .simpleString("OK"))
        #expect(try await client.send(RESPCommand("GET", prefix + "a")).string == "1")
        #expect(try await client.send(RESPCommand("GET", prefix + "missing")) == .null)
        await #expect(throws: RedisClientError.self) { try await client.send(RESPCommand("INCR", prefix + "a", "extra")) }
    }

    @Test func pipelineAnswersInOrderWithErrorsInPlace() async throws {
        let client = try client()
        defer { Task { await client.shutdown() } }
        let replies = try await client.pipeline([
            RESPCommand("SET", prefix + "n", "10"),
            RESPCommand("INCRBY", prefix + "n", "5"),
            RESPCommand("LPUSH", prefix + "n", "x"),
            RESPCommand("GET", prefix + "n"),
        ])
        #expect(replies[0] == .simpleString("OK"))
        #expect(replies[1] == .integer(15))
        guard case .error(let message) = replies[2] else {
            Issue.record("expected WRONGTYPE, got \(replies[2])")
            return
        }
        #expect(message.hasPrefix("WRONGTYPE"))
        #expect(replies[3].string == "15")
    }

    /// Many tasks share few connections; every reply must reach the task that asked.
    @Test func concurrentCommandsGetTheirOwnReplies() async throws {
        let client = try client { $0.poolSize = 2 }
        defer { Task { await client.shutdown() } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    let key = prefix + "c\(index)"
                    _ = try await client.send(RESPCommand("SET", key, String(index)))
                    let value = try await client.send(RESPCommand("GET", key)).string
                    #expect(value == String(index))
                }
            }
            try await group.waitForAll()
        }
    }

    @Test func largeValuesRoundTrip() async throws {
        let client = try client()
        defer { Task { await client.shutdown() } }
        let big = String(repeating: "x", count: 1_000_000) + "é"
        _ = try await client.send(RESPCommand("SET", prefix + "big", big))
        #expect(try await client.send(RESPCommand("GET", prefix + "big")).string == big)
    }

    /// A command past its time limit fails, and its connection is replaced: the next command on
    /// the same one-connection pool works.
    @Test func slowCommandTimesOutAndTheNextCommandWorks() async throws {
        let client = try client { $0.poolSize = 1 }
        defer { Task { await client.shutdown() } }
        // Connect first, so the measurement below is of the command's limit alone.
        #expect(try await client.send(RESPCommand("PING")) == .simpleString("PONG"))
        let started = ContinuousClock.now
        await #expect(throws: RedisClientError.timeout(command: "BLPOP")) {
            try await client.send(RESPCommand("BLPOP", prefix + "never", "5"), timeout: .milliseconds(200))
        }
        // BLPOP itself would wait 5 s and answer null; failing sooner proves the client's timeout.
        #expect(ContinuousClock.now - started < .milliseconds(4500))
        #expect(try await client.send(RESPCommand("PING")) == .simpleString("PONG"))
    }

    @Test func passwordAndDatabaseFromTheURL() async throws {
        let secured = try LocalRedis(password: "s3cret-pass")
        defer { secured.stop() }
        var goodConfiguration = try RedisConfiguration(url: "redis://:s3cret-pass@127.0.0.1:\(secured.port)/3")
        goodConfiguration.connectTimeout = .seconds(15)
        goodConfiguration.commandTimeout = .seconds(15)
        let good = RedisClient(configuration: goodConfiguration)
        defer { Task { await good.shutdown() } }
        _ = try await good.send(RESPCommand("SET", "k", "v"))
        let reply = try await good.send(RESPCommand("CLIENT", "INFO")).string ?? ""
        #expect(reply.contains("db=3"))
        let bad = RedisClient(configuration: try RedisConfiguration(url: "redis://:wrong@127.0.0.1:\(secured.port)"))
        defer { Task { await bad.shutdown() } }
        await #expect(throws: RedisClientError.self) { try await bad.send(RESPCommand("PING")) }
    }

    /// When Redis goes away, calls fail quickly (no connect timeout per call), and the client
    /// reconnects by itself when Redis is back.
    @Test func downFailsFastAndReconnects() async throws {
        let own = try LocalRedis()
        let client = RedisClient(
            configuration: RedisConfiguration(port: own.port, poolSize: 1, maximumBackoff: .milliseconds(200)))
        defer { Task { await client.shutdown() } }
        #expect(try await client.send(RESPCommand("PING")) == .simpleString("PONG"))
        let port = own.port
        own.stop()
        var failures = 0
        let started = ContinuousClock.now
        for _ in 0..<20 {
            do {
                _ = try await client.send(RESPCommand("PING"))
            } catch {
                failures += 1
            }
        }
        #expect(failures == 20)
        // Waiting out a connect timeout (2 s) per call would take 40 s; failing fast takes well
        // under a second, and 10 s leaves room for a machine busy with other tests.
        #expect(ContinuousClock.now - started < .seconds(10))
        let restarted = try LocalProcess(
            name: "redis", command: LocalProcess.executable("redis-server") ?? "redis-server",
            arguments: ["--port", String(port), "--bind", "127.0.0.1", "--save", ""], logPath: NSTemporaryDirectory() + "redis-\(port).log")
        defer { restarted.stop() }
        #expect(LocalProcess.waitForPort(port))
        var answered = false
        for _ in 0..<40 where !answered {
            answered = (try? await client.send(RESPCommand("PING"))) == .simpleString("PONG")
            if !answered { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(answered)
    }
}
