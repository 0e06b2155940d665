import Crypto
import Foundation

/// Takes backups into a catalog and restores them, each step checked.
public struct BackupRunner: Sendable {
    public let catalog: BackupCatalog
    public let tools: PostgresTools
    /// Where dumps are written on their way to and from the bucket.
    public let workFolder: String

    public init(catalog: BackupCatalog, tools: PostgresTools, workFolder: String = NSTemporaryDirectory()) {
        self.catalog = catalog
        self.tools = tools
        self.workFolder = workFolder
    }

    /// Dumps `url` inside one snapshot, uploads the dump, then its manifest.
    public func take(_ url: DatabaseURL, release: String?, reason: String, now: Date = Date()) async throws -> BackupManifest {
        let id = BackupManifest.makeID(at: now, release: release)
        let path = workFolder + "/orchestrate-backup-\(id)-\(UUID().uuidString.prefix(8)).dump"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let session = try SnapshotSession(url, tools: tools)
        let facts: DatabaseFacts
        do {
            let (snapshot, counted) = try await session.open()
            facts = counted
            try await tools.dump(url, to: path, snapshot: snapshot)
            session.close()
        } catch {
            session.close()
            throw error
        }
        let (sha256, size) = try Self.digest(of: path)
        let server = try? await tools.query(url, "SHOW server_version").first?.first
        let manifest = BackupManifest(
            id: id, environment: catalog.environment, release: release, createdAt: now, reason: reason, dumpKey: catalog.dumpKey(id),
            size: size, sha256: sha256, serverVersion: server, schemaVersion: facts.schemaVersion, tableRows: facts.tableRows)
        try await catalog.upload(dump: path, manifest: manifest)
        return manifest
    }

    /// Downloads a backup and checks its checksum and size against its manifest.
    public func fetch(_ manifest: BackupManifest) async throws -> String {
        let path = workFolder + "/orchestrate-restore-\(manifest.id)-\(UUID().uuidString.prefix(8)).dump"
        let received = try await catalog.store.download(manifest.dumpKey, to: path)
        guard received.sha256 == manifest.sha256, received.size == manifest.size else {
            try? FileManager.default.removeItem(atPath: path)
            throw BackupError(
                "backup \(manifest.id) is damaged: its dump has SHA-256 \(received.sha256.prefix(12)) and \(received.size) bytes, the manifest says \(manifest.sha256.prefix(12)) and \(manifest.size)",
                fix: "restore an earlier backup (`orchestrate backups \(catalog.environment)` lists them)")
        }
        return path
    }

    /// Restores into `target`, which must exist and be empty, and checks the result against the
    /// manifest: schema version and every table's rows.
    public func restore(_ manifest: BackupManifest, into target: DatabaseURL, jobs: Int = 2) async throws -> DatabaseFacts {
        let path = try await fetch(manifest)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let existing = try await tools.query(target, DatabaseFacts.tableRowsSQL)
        guard existing.isEmpty else {
            throw BackupError(
                "\(target.database) already has tables (\(existing.prefix(3).map { $0[0] }.joined(separator: ", ")))",
                fix: "restore into a new database; replacing a live one needs --replace")
        }
        try await tools.restore(path, into: target, jobs: jobs)
        let restored = try await DatabaseFacts.read(target, tools: tools)
        let differences = DatabaseFacts(schemaVersion: manifest.schemaVersion, tableRows: manifest.tableRows).differences(from: restored)
        guard differences.isEmpty else {
            throw BackupError(
                "the restore of \(manifest.id) into \(target.database) differs from the backup: \(differences.joined(separator: "; "))")
        }
        return restored
    }

    static func digest(of path: String) throws -> (String, Int64) {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw BackupError("cannot read \(path)") }
        defer { try? handle.close() }
        var hash = SHA256()
        var size: Int64 = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hash.update(data: chunk)
            size += Int64(chunk.count)
        }
        return (hash.finalize().hexString, size)
    }
}

extension BackupRunner {
    public static func sha256(of data: Data) -> String { SHA256.hash(data: data).hexString }
}
