/// The state folder of one environment on this machine (`.orchestrate/dev/`): the data of its
/// PostgreSQL and Redis, its secrets, releases with the builds they ran, instances and their logs.
struct LocalPaths: Sendable {
    let root: String

    init(stateDirectory: String, environment: String) {
        root = "\(stateDirectory)/\(environment)"
    }

    /// PostgreSQL's folder, or a link to it (see `LocalPostgres.folder`).
    var postgres: String { root + "/postgres" }
    var redis: String { root + "/redis" }
    var redisConfig: String { redis + "/redis.conf" }
    var redisPidFile: String { redis + "/redis.pid" }
    var redisLog: String { redis + "/redis.log" }
    var secrets: String { root + "/secrets.env" }
    var releases: String { root + "/releases" }
    var current: String { root + "/current.json" }
    var artifacts: String { root + "/artifacts" }
    var instances: String { root + "/instances" }

    func release(_ id: Int) -> String { "\(releases)/\(id).json" }
    func releaseCommandLog(_ id: Int) -> String { "\(releases)/\(id).release-command.log" }
    /// Builds are kept by digest, so a rollback after a rebuild still has the old binary.
    func artifact(_ digest: String) -> String {
        "\(artifacts)/\(digest.replacingOccurrences(of: "sha256:", with: ""))/pet-backend"
    }
    func instance(_ name: String) -> String { "\(instances)/\(name).json" }
    func instanceState(_ name: String) -> String { "\(instances)/\(name).state.json" }
    func instanceLog(_ name: String) -> String { "\(instances)/\(name).log" }
}
