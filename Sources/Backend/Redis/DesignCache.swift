import Logging
import NIOCore
import RESP
import Synchronization

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
        guard let redis else { return nil }
        let key = key(user: user, design: design)
        if let copy = near?.get(key) {
            metrics.cacheHits.increment()
            return copy
        }
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

/// A bounded in-process map of recent cache entries that expire after a fixed time.
final class NearCache: Sendable {
    static let capacity = 10_000
    private let lifetime: Duration
    private let entries = Mutex<[String: (body: ByteBuffer, expires: ContinuousClock.Instant)]>([:])

    init(lifetime: Duration) {
        self.lifetime = lifetime
    }

    func get(_ key: String) -> ByteBuffer? {
        let now = ContinuousClock.now
        return entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            guard entry.expires > now else {
                entries[key] = nil
                return nil
            }
            return entry.body
        }
    }

    func set(_ key: String, _ body: ByteBuffer) {
        let expires = ContinuousClock.now + lifetime
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = (body, expires)
        }
    }

    func remove(_ key: String) {
        _ = entries.withLock { $0.removeValue(forKey: key) }
    }
}
