import Logging
import NIOCore
import RESP

/// Cached design reads in Redis under REDIS_PREFIX with REDIS_TTL, fronted by a near cache: each
/// instance keeps what it read for `CACHE_LOCAL_TTL_MS` (1 s), so a hot design costs no Redis
/// round trip. A write invalidates both here; on other instances a copy lives out its second.
/// Redis being down is not an error: reads go to PostgreSQL, writes skip the cache, and
/// `/healthz/detailed` says so.
struct DesignCache: Sendable {
    let redis: RedisClient?
    let prefix: String
    let ttlSeconds: Int
    let near: NearCache?
    let metrics: ServiceMetrics
    let logger: Logger

    func key(user: String, design: String) -> String { "\(prefix)design:\(user):\(design)" }

    func get(user: String, design: String) async -> ByteBuffer? {
        if let copy = nearCopy(user: user, design: design) { return copy }
        guard let redis else { return nil }
        let key = key(user: user, design: design)
        do {
            let reply = try await redis.send(RESPCommand("GET", key))
            if case .bulkString(let bytes) = reply {
                metrics.cacheHits.increment()
                near?.set(key, bytes)
                return bytes
            }
        } catch {
            logger.debug("cache unavailable, reading from the database", metadata: ["error": "\(error)"])
        }
        metrics.cacheMisses.increment()
        return nil
    }

    /// The instance's own copy, counted as a hit when there is one; nil (and no miss counted)
    /// otherwise, as the caller then goes the usual way.
    func nearCopy(user: String, design: String) -> ByteBuffer? {
        guard redis != nil, let copy = near?.get(key(user: user, design: design)) else { return nil }
        metrics.cacheHits.increment()
        return copy
    }

    func set(user: String, design: String, body: ByteBuffer) async {
        guard let redis else { return }
        let key = key(user: user, design: design)
        _ = try? await redis.send(RESPCommand("SET", key, body, "EX", ttlSeconds))
        near?.set(key, body)
    }

    func invalidate(user: String, design: String) async {
        guard let redis else { return }
        let key = key(user: user, design: design)
        near?.remove(key)
        _ = try? await redis.send(RESPCommand("DEL", key))
    }
}

/// Recent cache entries kept in the instance for a fixed lifetime.
final class NearCache: Sendable {
    static let capacity = 10_000
    private let lifetime: Duration
    private let entries = ExpiringMap<ByteBuffer>(capacity: capacity)

    init(lifetime: Duration) {
        self.lifetime = lifetime
    }

    func get(_ key: String) -> ByteBuffer? { entries.get(key) }
    func set(_ key: String, _ body: ByteBuffer) { entries.set(key, body, expires: .now + lifetime) }
    func remove(_ key: String) { entries.remove(key) }
}
