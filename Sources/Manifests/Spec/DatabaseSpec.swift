/// `database:` — the PostgreSQL pools the service opens and the servers they connect to.
public struct DatabaseSpec: Sendable, Equatable {
    public struct Pool: Sendable, Equatable {
        public var min: Int
        public var max: Int
    }

    public struct Server: Sendable, Equatable {
        public var cpus: Int
        public var memory: ByteSize
        public var maxConnections: Int
        /// Connections kept free for superusers, migrations and an operator's psql.
        public var reservedConnections: Int
        /// Extra or overriding `ALTER SYSTEM` settings, by PostgreSQL's own names.
        public var settings: [DatabaseSpec.PostgresSetting]

        /// Connections the application may hold on this server.
        public var connectionBudget: Int { maxConnections - reservedConnections }
    }

    public struct PostgresSetting: Sendable, Equatable {
        public var name: String
        public var value: String
    }

    public struct ReadReplica: Sendable, Equatable {
        public var poolMax: Int
        public var server: Server
    }

    public var pool: Pool
    public var server: Server
    public var readReplica: ReadReplica?
}

extension DatabaseSpec: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> DatabaseSpec? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let pool = map.required("pool", as: Pool.self)
        let server = map.required("server", as: Server.self)
        let replica = map.entry("readReplica").flatMap { entry in
            ReadReplica.read(entry.value, at: childPath(path, "readReplica"), in: context, primary: server)
        }
        let replicaFailed = map.keys.contains("readReplica") && replica == nil
        map.finish()
        guard let pool, let server, !replicaFailed else { return nil }
        return DatabaseSpec(pool: pool, server: server, readReplica: replica)
    }
}

extension DatabaseSpec.Pool: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> Self? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let min = map.required("min", in: 0...10_000)
        let max = map.required("max", in: 1...10_000)
        map.finish()
        guard let min, let max else { return nil }
        return Self(min: min, max: max)
    }
}

extension DatabaseSpec.Server: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> Self? {
        read(node, at: path, in: context, inheriting: nil)
    }

    /// A replica's server inherits what it does not say from the primary's.
    static func read(_ node: SpecNode, at path: String, in context: ReadContext, inheriting primary: Self?) -> Self? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let cpus = primary.map { map.optional("cpus", default: $0.cpus, in: 1...512) } ?? map.required("cpus", in: 1...512)
        let memory = primary.map { map.optional("memory", default: $0.memory) } ?? map.required("memory", as: ByteSize.self)
        let maxConnections =
            primary.map { map.optional("maxConnections", default: $0.maxConnections, in: 1...100_000) }
            ?? map.required("maxConnections", in: 1...100_000)
        let reserved = map.optional("reservedConnections", default: primary?.reservedConnections ?? 10, in: 0...1_000)
        let settings = map.entry("settings").flatMap { readSettings($0.value, at: childPath(path, "settings"), in: context) }
        map.finish()
        guard let cpus, let memory, let maxConnections else { return nil }
        return Self(
            cpus: cpus, memory: memory, maxConnections: maxConnections, reservedConnections: reserved,
            settings: settings ?? primary?.settings ?? [])
    }

    private static func readSettings(_ node: SpecNode, at path: String, in context: ReadContext) -> [DatabaseSpec.PostgresSetting]? {
        guard let entries = node.entries else {
            context.typeMismatch(node, path: path, expected: "a map of PostgreSQL settings", example: "{ work_mem: 16MB }")
            return nil
        }
        var settings: [DatabaseSpec.PostgresSetting] = []
        for entry in entries {
            let settingPath = childPath(path, entry.key)
            guard entry.key.allSatisfy({ ($0.isASCII && $0.isLowercase) || $0.isNumber || $0 == "_" || $0 == "." }) else {
                context.error(
                    "`\(entry.key)` is not a PostgreSQL setting name", at: entry.keyLocation, path: settingPath,
                    fix: "use the name as `SHOW` prints it, such as work_mem")
                continue
            }
            switch entry.value.value {
            case .string(let text): settings.append(DatabaseSpec.PostgresSetting(name: entry.key, value: text))
            case .integer(let number): settings.append(DatabaseSpec.PostgresSetting(name: entry.key, value: String(number)))
            case .number(let number): settings.append(DatabaseSpec.PostgresSetting(name: entry.key, value: String(number)))
            case .boolean(let flag): settings.append(DatabaseSpec.PostgresSetting(name: entry.key, value: flag ? "on" : "off"))
            default:
                context.typeMismatch(entry.value, path: settingPath, expected: "a setting value", example: "16MB")
            }
        }
        return settings
    }
}

extension DatabaseSpec.ReadReplica {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext, primary: DatabaseSpec.Server?) -> Self? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let poolMax = map.required("poolMax", in: 1...10_000)
        let server =
            map.entry("server").map {
                DatabaseSpec.Server.read($0.value, at: childPath(path, "server"), in: context, inheriting: primary)
            } ?? primary
        map.finish()
        guard let poolMax, let server else { return nil }
        return Self(poolMax: poolMax, server: server)
    }
}
