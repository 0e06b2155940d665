import Foundation

/// The backups of one environment in the bucket: `PREFIX/ENV/ID.dump` and `PREFIX/ENV/ID.json`.
public struct BackupCatalog: Sendable {
    public let store: ObjectStore
    public let prefix: String
    public let environment: String

    public init(store: ObjectStore, prefix: String, environment: String) {
        self.store = store
        self.prefix = prefix.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        self.environment = environment
    }

    public var folder: String { (prefix.isEmpty ? "" : prefix + "/") + environment + "/" }
    public func dumpKey(_ id: String) -> String { folder + id + ".dump" }
    public func manifestKey(_ id: String) -> String { folder + id + ".json" }

    /// What the bucket holds, complete backups (newest first) apart from what is not one.
    public struct Listing: Sendable {
        public var backups: [BackupManifest]
        /// Dumps with no manifest (an upload cut short, or one in progress), and manifests whose
        /// dump is missing or of another size.
        public var incomplete: [(key: String, size: Int64, lastModified: Date?)]
    }

    public func list() async throws -> Listing {
        let objects = try await store.list(prefix: folder)
        let byKey = Dictionary(objects.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var backups: [BackupManifest] = []
        var incomplete: [(key: String, size: Int64, lastModified: Date?)] = []
        var described = Set<String>()
        for object in objects where object.key.hasSuffix(".json") {
            guard let data = try await store.get(object.key), let manifest = try? BackupManifest.decode(data) else {
                incomplete.append((object.key, object.size, object.lastModified))
                continue
            }
            described.insert(manifest.dumpKey)
            if byKey[manifest.dumpKey]?.size == manifest.size {
                backups.append(manifest)
            } else {
                incomplete.append((object.key, object.size, object.lastModified))
            }
        }
        for object in objects where object.key.hasSuffix(".dump") && !described.contains(object.key) {
            incomplete.append((object.key, object.size, object.lastModified))
        }
        return Listing(backups: backups.sorted { $0.createdAt > $1.createdAt }, incomplete: incomplete)
    }

    /// A complete backup by id, or the newest when `id` is nil or `latest`.
    public func find(_ id: String?) async throws -> BackupManifest {
        let listing = try await list()
        if id == nil || id == "latest" {
            guard let newest = listing.backups.first else {
                throw BackupError(
                    "\(environment) has no complete backup in \(store.location.description)",
                    fix: "take one with `orchestrate backup \(environment)`")
            }
            return newest
        }
        guard let found = listing.backups.first(where: { $0.id == id }) else {
            let known = listing.backups.prefix(5).map(\.id).joined(separator: ", ")
            throw BackupError(
                "no complete backup \(id ?? "") of \(environment) in \(store.location.description)",
                fix: known.isEmpty ? "list them with `orchestrate backups \(environment)`" : "the newest are: \(known)")
        }
        return found
    }

    /// The dump first, its manifest last: until the manifest lands, nothing lists it as a backup.
    public func upload(dump path: String, manifest: BackupManifest) async throws {
        try await store.put(manifest.dumpKey, file: path, sha256: manifest.sha256, size: manifest.size)
        try await store.put(manifestKey(manifest.id), data: try manifest.encoded())
    }

    /// Deletes backups older than `retention` (never the newest complete one), and uploads that
    /// never finished once they are a day old (a younger one may still be going).
    public func prune(retention: TimeInterval, now: Date = Date()) async throws -> [String] {
        let listing = try await list()
        var deleted: [String] = []
        for manifest in listing.backups.dropFirst() where now.timeIntervalSince(manifest.createdAt) > retention {
            try await store.delete(manifestKey(manifest.id))
            try await store.delete(manifest.dumpKey)
            deleted.append(manifest.id)
        }
        for leftover in listing.incomplete {
            guard let modified = leftover.lastModified, now.timeIntervalSince(modified) > 86_400 else { continue }
            try await store.delete(leftover.key)
            deleted.append(leftover.key)
        }
        return deleted
    }
}

/// A backup or restore that cannot go on: what happened and what to do.
public struct BackupError: Error, CustomStringConvertible {
    public var message: String
    public var fix: String?

    public init(_ message: String, fix: String? = nil) {
        self.message = message
        self.fix = fix
    }

    public var description: String { fix.map { "\(message)\n  fix: \($0)" } ?? message }
}
