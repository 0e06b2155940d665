import Logging
import PostgresNIO

/// Applies pending migrations under an advisory lock, so replicas starting together take turns
/// and each migration runs exactly once.
struct Migrator {
    /// `hashtext('pet-backend migrations')` would differ by server version; a fixed key does not.
    static let lockKey: Int64 = 0x7065_745F_6D69_6772

    let pools: DatabasePools
    let logger: Logger

    struct Status: Sendable {
        var applied: [(version: Int, name: String)]
        var pending: [Migration]
    }

    @discardableResult
    func migrate(_ migrations: [Migration] = Migrations.all) async throws -> [Migration] {
        try await pools.write(timeout: .seconds(3600)) { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))", logger: logger)
            do {
                try await ensureTable(connection)
                let applied = try await appliedVersions(connection)
                var ran: [Migration] = []
                for migration in migrations where !applied.contains(migration.version) {
                    try await connection.withTransaction(logger: logger) { transaction in
                        for statement in migration.statements {
                            try await transaction.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                        }
                        try await transaction.query(
                            "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))", logger: logger
                        )
                    }
                    logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                    ran.append(migration)
                }
                try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                return ran
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                throw error
            }
        }
    }

    func status(_ migrations: [Migration] = Migrations.all) async throws -> Status {
        try await pools.write { connection in
            try await ensureTable(connection)
            var applied: [(Int, String)] = []
            let rows = try await connection.query("SELECT version, name FROM schema_migrations ORDER BY version", logger: logger)
            for try await (version, name) in rows.decode((Int, String).self) {
                applied.append((version, name))
            }
            let versions = Set(applied.map(\.0))
            return Status(applied: applied, pending: migrations.filter { !versions.contains($0.version) })
        }
    }

    /// The newest applied version, for `/healthz/detailed`.
    func currentVersion() async throws -> Int {
        try await pools.read { connection in
            let rows = try await connection.query("SELECT coalesce(max(version), 0) FROM schema_migrations", logger: logger)
            for try await version in rows.decode(Int.self) { return version }
            return 0
        }
    }

    private func ensureTable(_ connection: PostgresConnection) async throws {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, logger: logger)
    }

    private func appliedVersions(_ connection: PostgresConnection) async throws -> Set<Int> {
        var versions: Set<Int> = []
        let rows = try await connection.query("SELECT version FROM schema_migrations", logger: logger)
        for try await version in rows.decode(Int.self) { versions.insert(version) }
        return versions
    }
}
