import Foundation

/// What a backup is, written beside its dump and only after the dump is whole in the bucket: a
/// dump without its manifest is an upload that never finished, and never lists as a backup.
public struct BackupManifest: Codable, Sendable, Equatable {
    public var id: String
    public var environment: String
    /// The release serving when it was taken, when known.
    public var release: String?
    public var createdAt: Date
    /// `scheduled`, `manual`, `before-release` and the like.
    public var reason: String
    public var dumpKey: String
    public var size: Int64
    public var sha256: String
    public var format = "pg_dump-custom"
    public var serverVersion: String?
    /// The highest migration applied (`schema_migrations`), 0 when there is none.
    public var schemaVersion: Int64
    /// Rows per table, counted inside the dump's own snapshot, compared after a restore.
    public var tableRows: [String: Int64]

    public init(
        id: String, environment: String, release: String?, createdAt: Date, reason: String, dumpKey: String, size: Int64,
        sha256: String, serverVersion: String?, schemaVersion: Int64, tableRows: [String: Int64]
    ) {
        self.id = id
        self.environment = environment
        self.release = release
        self.createdAt = createdAt
        self.reason = reason
        self.dumpKey = dumpKey
        self.size = size
        self.sha256 = sha256
        self.serverVersion = serverVersion
        self.schemaVersion = schemaVersion
        self.tableRows = tableRows
    }

    /// `20261203T020000Z-v41`: sorts by time, says which release it holds.
    public static func makeID(at date: Date, release: String?) -> String {
        let time = S3Signature.timestamp(date)
        guard let release, !release.isEmpty else { return time }
        let safe = String(release.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" }.prefix(40))
        return "\(time)-\(safe)"
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self)
    }

    public static func decode(_ data: Data) throws -> BackupManifest {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(BackupManifest.self, from: data)
    }
}
