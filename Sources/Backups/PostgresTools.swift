import Foundation
import ProcessSupport

/// pg_dump, pg_restore and psql of this machine (the newest installed major version, which reads
/// every older server), run with the password in the environment.
public struct PostgresTools: Sendable {
    public let binaries: String

    public init(binaries: String? = nil) throws {
        if let binaries {
            self.binaries = binaries
        } else if let found = Self.newestInstalled() {
            self.binaries = found
        } else {
            throw BackupError("pg_dump is not installed here", fix: "install it with `apt-get install postgresql-client`")
        }
    }

    static func newestInstalled() -> String? {
        if let explicit = ProcessInfo.processInfo.environment["PG_BIN"], !explicit.isEmpty { return explicit }
        if let newest = newestPackagedBinaries(), FileManager.default.isExecutableFile(atPath: newest + "/pg_dump") { return newest }
        return ProcessLauncher.executable("pg_dump").map { ($0 as NSString).deletingLastPathComponent }
    }

    /// `/usr/lib/postgresql/N/bin` of the newest N installed, as Debian lays PostgreSQL out.
    public static func newestPackagedBinaries() -> String? {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        return versions.last.map { "\(root)/\($0)/bin" }
    }

    /// A dump in the custom format (compressed, restorable table by table, in parallel).
    public func dump(_ url: DatabaseURL, to path: String, snapshot: String? = nil, timeout: Duration = .seconds(6 * 3600)) async throws {
        let held = snapshot.map { ["--snapshot=\($0)"] } ?? []
        _ = try await run(
            "pg_dump",
            ["--no-password", "--format=custom", "--no-owner", "--no-privileges", "--file", path] + held + [
                "--dbname", url.withoutPassword,
            ],
            url: url, timeout: timeout, doing: "pg_dump of \(url.database)")
    }

    /// Restores into an existing, empty database, stopping at the first error.
    public func restore(_ path: String, into url: DatabaseURL, jobs: Int = 1, timeout: Duration = .seconds(6 * 3600)) async throws {
        _ = try await run(
            "pg_restore",
            [
                "--no-password", "--no-owner", "--no-privileges", "--exit-on-error", "--jobs=\(max(jobs, 1))", "--dbname",
                url.withoutPassword, path,
            ],
            url: url, timeout: timeout, doing: "pg_restore into \(url.database)")
    }

    /// One statement's rows, fields separated by a tab.
    public func query(_ url: DatabaseURL, _ sql: String) async throws -> [[String]] {
        let output = try await run(
            "psql", ["-X", "-w", "-A", "-t", "-q", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql, "--dbname", url.withoutPassword],
            url: url,
            timeout: .seconds(600), doing: "psql on \(url.database)")
        return output.split(separator: "\n", omittingEmptySubsequences: true).map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
    }

    private func run(_ tool: String, _ arguments: [String], url: DatabaseURL, timeout: Duration, doing: String) async throws -> String {
        let log = NSTemporaryDirectory() + "orchestrate-\(tool)-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        let status = try await ProcessLauncher.run(
            "\(binaries)/\(tool)", arguments: arguments, environment: url.environment, logPath: log, timeout: timeout)
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        guard let status else { throw BackupError("\(doing) did not finish within \(timeout)") }
        guard status == 0 else {
            throw BackupError("\(doing) failed (exit \(status)): \(output.suffix(800).trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return output
    }
}
