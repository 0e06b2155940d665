/// `features:` — the service's `ENABLE_*` switches.
public struct FeatureFlags: Sendable, Equatable {
    public var queue: Bool
    public var cache: Bool
    public var rateLimiting: Bool
    public var performanceMonitoring: Bool
}

extension FeatureFlags: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> FeatureFlags? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let flags = FeatureFlags(
            queue: map.optional("queue", default: true),
            cache: map.optional("cache", default: true),
            rateLimiting: map.optional("rateLimiting", default: true),
            performanceMonitoring: map.optional("performanceMonitoring", default: false))
        map.finish()
        return flags
    }
}
