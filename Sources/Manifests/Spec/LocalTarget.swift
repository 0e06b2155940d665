/// `targets.local:` — this machine: PostgreSQL, Redis and the instances as local processes on
/// loopback ports counted from `basePort` (PostgreSQL, Redis, then one port per instance).
public struct LocalTarget: Sendable, Equatable {
    public var basePort: Int

    public var postgresPort: Int { basePort }
    public var redisPort: Int { basePort + 1 }
    /// Instances take ports from here on, reusing those their predecessors freed.
    public var firstInstancePort: Int { basePort + 10 }
}

extension LocalTarget: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> LocalTarget? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let basePort = map.optional("basePort", default: 15400, in: 1024...64_000)
        map.finish()
        return LocalTarget(basePort: basePort)
    }
}
