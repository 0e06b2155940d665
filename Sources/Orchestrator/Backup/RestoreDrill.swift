import Backups
import Foundation

/// What a restore or drill found, for the terminal and `--json`.
struct RestoreReport: Codable, Sendable {
    var backup: String
    var environment: String
    var database: String
    var backupAgeSeconds: Double
    var size: Int64
    var downloadAndRestoreSeconds: Double
    var schemaVersion: Int64
    var tableRows: [String: Int64]
    /// The service's migrations as the restored database records them (`schema_migrations`).
    var migrationsApplied: Int
    var latestMigration: String?
    /// Reads the designs API makes, run against the restored data.
    var reads: [String]
    var switched: String?
    var droppedAfterDrill: Bool

    func text() -> String {
        var lines = [
            "restored \(backup) of \(environment) into \(database) in \(String(format: "%.2f", downloadAndRestoreSeconds)) s "
                + "(\(ByteFormat.text(size)); the backup was \(Durations.age(backupAgeSeconds)) old)",
            "  checksum ok; schema version \(schemaVersion); "
                + "\(migrationsApplied) migration(s) applied, the latest \(latestMigration ?? "none")",
            "  rows match the backup: "
                + tableRows.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "),
        ]
        lines += reads.map { "  read: \($0)" }
        if let switched { lines.append("  \(switched)") }
        if droppedAfterDrill { lines.append("  drill: \(database) dropped") }
        return lines.joined(separator: "\n")
    }
}

/// The checks a drill runs on a restored database besides the manifest's: the migrations table as
/// `pet-backend migrate --status` reads it, and the designs API's own reads.
enum RestoredDatabaseChecks {
    static func migrations(_ url: DatabaseURL, tools: PostgresTools) async throws -> (count: Int, latest: String?) {
        guard try await tools.query(url, "SELECT to_regclass('public.schema_migrations') IS NOT NULL") == [["t"]] else { return (0, nil) }
        let rows = try await tools.query(url, "SELECT version, name FROM schema_migrations ORDER BY version")
        return (rows.count, rows.last.map { $0.joined(separator: " ") })
    }

    static func reads(_ url: DatabaseURL, tools: PostgresTools) async throws -> [String] {
        guard try await tools.query(url, "SELECT to_regclass('public.saved_designs') IS NOT NULL") == [["t"]] else {
            return ["no saved_designs table: nothing to read"]
        }
        let started = ContinuousClock.now
        let newest = try await tools.query(url, "SELECT id, user_id FROM saved_designs ORDER BY created_at DESC, id LIMIT 5")
        var lines = ["the 5 newest designs: \(newest.count) rows"]
        if let user = newest.first?.dropFirst().first {
            let quoted = user.replacingOccurrences(of: "'", with: "''")
            let count = try await tools.query(url, "SELECT count(*) FROM saved_designs WHERE user_id = '\(quoted)'")
            lines.append("the designs of one user (as GET /api/designs lists them): \(count.first?.first ?? "?") rows")
        }
        lines.append("in \(Durations.seconds(ContinuousClock.now - started)) s")
        return lines
    }
}
