import Foundation
import Hummingbird
import Logging
import RESP

/// `/healthz` (cheap liveness), `/healthz/detailed` (every dependency, 503 naming what failed)
/// and `/metrics` (Prometheus text).
struct HealthRoutes: Sendable {
    let pools: DatabasePools
    let redis: RedisClient?
    let redisRequired: Bool
    let queue: JobQueue?
    let migrator: Migrator
    let metrics: ServiceMetrics
    let buildVersion: String

    /// The liveness answer is a constant: prepared once, not encoded per request.
    static let livenessBody = ByteBuffer(string: "{\"status\":\"ok\"}")

    /// Answered before any middleware runs (in the pipeline or ahead of the router), so it
    /// carries the security headers itself.
    static func liveness() -> Response {
        var headers: HTTPFields = [.contentType: "application/json", .cacheControl: "no-store"]
        ResponsePolicy.applySecurityHeaders(to: &headers)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: livenessBody))
    }

    /// `withMetrics` false: the metrics have a listener of their own (`metricsRouter`).
    func register(on router: Router<AppRequestContext>, withMetrics: Bool) {
        router.get("healthz/detailed", use: detailed)
        if withMetrics { Self.registerMetrics(metrics, on: router) }
    }

    static func registerMetrics<Context: RequestContext>(_ metrics: ServiceMetrics, on router: Router<Context>) {
        router.get("metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.render())))
        }
    }

    struct Check: Encodable, Sendable {
        var status: String
        var latencyMs: Double?
        var error: String?
        var required: Bool
    }

    @Sendable func detailed(_ request: Request, context: AppRequestContext) async throws -> Response {
        async let database = timed(required: true) { _ = try await pools.write { try await $0.query("SELECT 1", logger: context.logger) } }
        async let replica = replicaCheck(context)
        async let cache = redisCheck()
        async let migration = try? migrator.currentVersion()
        async let queueStats = queueStats()
        let checks = await ["database": database, "replica": replica, "redis": cache]
        let version = await migration
        let stats = await queueStats
        var failing = checks.filter { $0.value.required && $0.value.status == "down" }.map(\.key).sorted()
        if let version, version < Migrations.latestVersion { failing.append("migrations") }
        var body: [String: Any] = [
            "status": !failing.isEmpty ? "failing" : checks.values.contains { $0.status == "down" } ? "degraded" : "ok",
            "checks": checks.mapValues { check -> [String: Any] in
                var entry: [String: Any] = ["status": check.status, "required": check.required]
                if let latency = check.latencyMs { entry["latencyMs"] = latency }
                if let error = check.error { entry["error"] = error }
                return entry
            },
            "migrations": ["current": version as Any, "expected": Migrations.latestVersion],
            "build": ["version": buildVersion],
        ]
        if let stats {
            body["queue"] = ["depth": stats.depth, "pending": stats.pending, "oldestAgeSeconds": stats.oldestAgeSeconds as Any]
        } else {
            body["queue"] = ["status": queue == nil ? "disabled (direct processing)" : "unavailable"]
        }
        if !failing.isEmpty { body["failing"] = failing }
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])
        return Response(
            status: failing.isEmpty ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(data: data)))
    }

    private func queueStats() async -> JobQueue.Stats? {
        guard let queue else { return nil }
        return try? await queue.stats()
    }

    private func replicaCheck(_ context: AppRequestContext) async -> Check {
        guard let replica = pools.replica else { return Check(status: "not configured", required: false) }
        return await timed(required: false) {
            _ = try await replica.withConnection { try await $0.query("SELECT 1", logger: context.logger) }
        }
    }

    private func redisCheck() async -> Check {
        guard let redis else { return Check(status: "not configured", required: false) }
        return await timed(required: redisRequired) { _ = try await redis.send(RESPCommand("PING")) }
    }

    /// Runs one check with a 2-second limit, so one hung dependency cannot hang the probe.
    private func timed(required: Bool, _ body: @escaping @Sendable () async throws -> Void) async -> Check {
        let started = ContinuousClock.now
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await body() }
                group.addTask {
                    try await Task.sleep(for: .seconds(2))
                    throw CancellationError()
                }
                try await group.next()
                group.cancelAll()
            }
            let elapsed = ContinuousClock.now - started
            return Check(
                status: "up", latencyMs: elapsed.milliseconds,
                required: required)
        } catch is CancellationError {
            return Check(status: "down", error: "no answer within 2 s", required: required)
        } catch {
            return Check(status: "down", error: String(describing: error).prefix(200).description, required: required)
        }
    }
}
