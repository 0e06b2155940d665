import Foundation
import Logging
import RESP

/// A durable job queue on a Redis stream with a consumer group. A job stays in the group's
/// pending list until it is acknowledged, so a consumer that dies mid-job loses nothing: after
/// `claimIdle`, another consumer takes it over with XAUTOCLAIM. Processed entries are deleted,
/// so the stream's length is the work outstanding.
struct JobQueue: Sendable {
    struct Job: Sendable, Equatable {
        var id: String
        var kind: String
        var payload: String
    }

    struct Stats: Sendable {
        var depth: Int
        var pending: Int
        var oldestAgeSeconds: Double?
    }

    static let group = "workers"
    /// After this many deliveries a job goes to the dead-letter stream instead of failing forever.
    static let maximumAttempts = 5

    let redis: RedisClient
    let prefix: String

    var stream: String { "\(prefix)jobs" }
    var deadLetters: String { "\(prefix)jobs:dead" }
    var attempts: String { "\(prefix)jobs:attempts" }

    func enqueue(kind: String, payload: String) async throws -> String {
        try await redis.send(RESPCommand("XADD", stream, "MAXLEN", "~", 1_000_000, "*", "kind", kind, "payload", payload)).string ?? ""
    }

    func createGroup() async throws {
        do {
            try await redis.send(RESPCommand("XGROUP", "CREATE", stream, Self.group, "0", "MKSTREAM"))
        } catch RedisClientError.server(let message) where message.hasPrefix("BUSYGROUP") {
            return
        }
    }

    /// New jobs for this consumer, waiting up to `block` on a connection of its own.
    func read(consumer: String, count: Int, block: Duration, on connection: RESPConnection) async throws -> [Job] {
        let milliseconds = block.wholeMilliseconds
        let reply = try await connection.send(
            RESPCommand("XREADGROUP", "GROUP", Self.group, consumer, "COUNT", count, "BLOCK", milliseconds, "STREAMS", stream, ">"),
            timeout: .milliseconds(Int64(milliseconds) + 5000))
        guard let streams = reply.array, let first = streams.first?.array, first.count == 2 else { return [] }
        return Self.jobs(from: first[1])
    }

    /// Jobs other consumers took but have not acknowledged for `minimumIdle`.
    func claimAbandoned(consumer: String, minimumIdle: Duration, count: Int) async throws -> [Job] {
        let idle = minimumIdle.wholeMilliseconds
        let reply = try await redis.send(RESPCommand("XAUTOCLAIM", stream, Self.group, consumer, idle, "0-0", "COUNT", count))
        guard let parts = reply.array, parts.count >= 2 else { return [] }
        return Self.jobs(from: parts[1])
    }

    func acknowledge(_ job: Job) async throws {
        _ = try await redis.pipeline([
            RESPCommand("XACK", stream, Self.group, job.id), RESPCommand("XDEL", stream, job.id), RESPCommand("HDEL", attempts, job.id),
        ])
    }

    /// Counts a failed delivery; returns true when the job was moved to the dead-letter stream.
    func recordFailure(_ job: Job, reason: String) async throws -> Bool {
        let count = try await redis.send(RESPCommand("HINCRBY", attempts, job.id, 1)).int ?? 1
        guard count >= Self.maximumAttempts else { return false }
        _ = try await redis.pipeline([
            RESPCommand(
                "XADD", deadLetters, "*", "kind", job.kind, "payload", job.payload, "reason", String(reason.prefix(500)), "job", job.id)
        ])
        try await acknowledge(job)
        return true
    }

    func stats() async throws -> Stats {
        let replies = try await redis.pipeline([
            RESPCommand("XLEN", stream), RESPCommand("XPENDING", stream, Self.group), RESPCommand("XRANGE", stream, "-", "+", "COUNT", 1),
        ])
        let depth = replies[0].int ?? 0
        let pending = replies[1].array?.first?.int ?? 0
        var oldest: Double?
        if let first = replies[2].array?.first?.array?.first?.string,
            let milliseconds = first.split(separator: "-").first.flatMap({ Double($0) })
        {
            oldest = max(0, Date().timeIntervalSince1970 - milliseconds / 1000)
        }
        return Stats(depth: depth, pending: pending, oldestAgeSeconds: oldest)
    }

    static func jobs(from value: RESPValue) -> [Job] {
        (value.array ?? []).compactMap { entry in
            guard let parts = entry.array, parts.count == 2, let id = parts[0].string, let fields = parts[1].array else { return nil }
            var kind = ""
            var payload = ""
            var index = 0
            while index + 1 < fields.count {
                switch fields[index].string {
                case "kind": kind = fields[index + 1].string ?? ""
                case "payload": payload = fields[index + 1].string ?? ""
                default: break
                }
                index += 2
            }
            return Job(id: id, kind: kind, payload: payload)
        }
    }
}
