import Backups
import Foundation

/// The few statements a restore needs on the database server: create a fresh database, drop a
/// scratch one, and swap a restored database in for the live one.
struct DatabaseAdmin: Sendable {
    let tools: PostgresTools

    /// Database names orchestrate makes or is given are kept to what needs no quoting rules.
    static func checkName(_ name: String) throws {
        guard !name.isEmpty, name.count <= 63, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
        else {
            throw DeployFailure(
                kind: .invalid,
                message: "database name `\(name.prefix(80))` is not one orchestrate restores into; use letters, digits, _ and -")
        }
    }

    func exists(_ name: String, on server: DatabaseURL) async throws -> Bool {
        try Self.checkName(name)
        return try await tools.query(server, "SELECT 1 FROM pg_database WHERE datname = '\(name)'") == [["1"]]
    }

    func create(_ name: String, on server: DatabaseURL) async throws {
        try Self.checkName(name)
        _ = try await tools.query(server, "CREATE DATABASE \"\(name)\"")
    }

    func drop(_ name: String, on server: DatabaseURL) async throws {
        try Self.checkName(name)
        _ = try await tools.query(server, "DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)")
    }

    /// Puts `restored` in the place of `live`, keeping the old one as `keptAs`: new connections to
    /// the live one are refused, the open ones ended, and both renames happen in one transaction,
    /// so the live name always names a whole database. A failure lets connections in again.
    func swap(live: String, restored: String, keptAs: String, on server: DatabaseURL) async throws {
        for name in [live, restored, keptAs] { try Self.checkName(name) }
        _ = try await tools.query(server, "ALTER DATABASE \"\(live)\" WITH ALLOW_CONNECTIONS false")
        do {
            var attempt = 0
            while true {
                _ = try await tools.query(
                    server, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(live)' AND pid <> pg_backend_pid()")
                do {
                    _ = try await tools.query(
                        server, "ALTER DATABASE \"\(live)\" RENAME TO \"\(keptAs)\"; ALTER DATABASE \"\(restored)\" RENAME TO \"\(live)\"")
                    break
                } catch let error as BackupError where error.message.contains("being accessed by other users") && attempt < 50 {
                    attempt += 1
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
        } catch {
            _ = try? await tools.query(server, "ALTER DATABASE \"\(live)\" WITH ALLOW_CONNECTIONS true")
            throw error
        }
        _ = try await tools.query(server, "ALTER DATABASE \"\(keptAs)\" WITH ALLOW_CONNECTIONS true")
    }
}
