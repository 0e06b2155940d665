import Logging
import NIOCore
import RESP

/// Cached design reads in Redis under REDIS_PREFIX with REDIS_TTL. Redis being down is not an
/// error: reads go to PostgreSQL, writes skip the cache, and `/healthz/detailed` says so.
struct DesignCache: Sendable {
    let redis: RedisClient?
    let prefix: String
    let ttlSeconds: Int
    let metrics: ServiceMetrics
    let logger: Logger

    func key(user: String, design: String) -> String { "\(prefix)design:\(user):\(design)" }

    func get(user: String, design: String) async -> ByteBuffer? {
        guard let redis else { return nil }
        do {
            let reply = try await redis.send(RESPCommand("GET", key(user: user, design: design)))
            if case .bulkString(let bytes) = reply {
                metrics.cacheHits.increment()
                return bytes
            }
        } catch {
            logger.debug("cache unavailable, reading from the database", metadata: ["error": "\(error)"])
        }
        metrics.cacheMisses.increment()
        return nil
    }

    func set(user: String, design: String, body: ByteBuffer) async {
        guard let redis else { return }
        _ = try? await redis.send(RESPCommand("SET", key(user: user, design: design), body, "EX", ttlSeconds))
    }

    func invalidate(user: String, design: String) async {
        guard let redis else { return }
        _ = try? await redis.send(RESPCommand("DEL", key(user: user, design: design)))
    }
}
