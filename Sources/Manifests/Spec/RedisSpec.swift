/// `redis:` — cache and queue settings, and the server's memory policy.
public struct RedisSpec: Sendable, Equatable {
    public enum EvictionPolicy: String, SpecEnum, Sendable {
        case noeviction = "noeviction"
        case allKeysLRU = "allkeys-lru"
        case allKeysLFU = "allkeys-lfu"
        case allKeysRandom = "allkeys-random"
        case volatileLRU = "volatile-lru"
        case volatileLFU = "volatile-lfu"
        case volatileRandom = "volatile-random"
        case volatileTTL = "volatile-ttl"
    }

    /// `REDIS_TTL`: how long a cached read lives.
    public var ttl: SpecDuration
    /// `REDIS_PREFIX`: every key the service writes starts with it.
    public var keyPrefix: String
    public var maxMemory: RedisMemory
    public var evictionPolicy: EvictionPolicy
    public var appendOnly: Bool
}

extension RedisSpec: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> RedisSpec? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let ttl = map.required("ttl", as: SpecDuration.self)
        let prefix = map.required("keyPrefix", as: String.self)
        let maxMemory = map.required("maxMemory", as: RedisMemory.self)
        let policy = map.required("evictionPolicy", as: EvictionPolicy.self)
        let appendOnly = map.optional("appendOnly", default: false)
        map.finish()
        guard let ttl, let prefix, let maxMemory, let policy else { return nil }
        return RedisSpec(ttl: ttl, keyPrefix: prefix, maxMemory: maxMemory, evictionPolicy: policy, appendOnly: appendOnly)
    }
}
