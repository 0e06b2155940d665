import ArgumentParser
import Backups
import Foundation
import Manifests

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Dump an environment's database to its backup bucket now, then apply retention.",
        discussion: """
            The dump (pg_dump, custom format) is taken inside one snapshot whose schema version and row counts \
            go in a manifest uploaded after the dump: a cut-short upload never lists as a backup. The bucket's \
            keys come from the environment variables the spec's backups.storage names (or the local target's \
            secrets); the database is the local target's own, --database-url, or DATABASE_URL.
            """)

    @OptionGroup var given: DeployOptions

    @Option(name: .customLong("database-url"), help: "The database to dump (default: the local target's, else DATABASE_URL).")
    var databaseURL: String?

    @Option(help: "Why it was taken, kept in its manifest.")
    var reason = "manual"

    @Flag(help: "Print the backup's manifest as JSON.")
    var json = false

    func run() async throws {
        try await FailureReport.reporting {
            let spec = try given.loadSpec()
            let access = try BackupAccess(spec: spec, localSecrets: BackupAccess.localSecretsPath(given, spec: spec))
            let database = try access.database(databaseURL)
            let release = await BackupReleases.current(given, spec: spec)
            let (catalog, retention, reason) = (access.catalog, access.backups.retention, reason)
            let started = ContinuousClock.now
            let (manifest, pruned) = try await Interruptible.run {
                try await BackupFailures.reported {
                    let manifest = try await BackupRunner(catalog: catalog, tools: try PostgresTools()).take(
                        database, release: release, reason: reason)
                    let pruned = try await catalog.prune(retention: TimeInterval(retention.milliseconds / 1000))
                    return (manifest, pruned)
                }
            }
            if json {
                Terminal.out(String(decoding: try manifest.encoded(), as: UTF8.self))
                return
            }
            Terminal.out(
                "backup \(manifest.id) of \(spec.name): \(ByteFormat.text(manifest.size)), \(manifest.tableRows.values.reduce(0, +)) rows in "
                    + "\(manifest.tableRows.count) tables, schema version \(manifest.schemaVersion), "
                    + "in \(Durations.seconds(ContinuousClock.now - started)) s\n  \(catalog.store.location.description)/\(manifest.dumpKey)"
                    + "\n  sha256 \(manifest.sha256)")
            if !pruned.isEmpty { Terminal.out("retention \(access.backups.retentionDays)d: deleted \(pruned.joined(separator: ", "))") }
        }
    }
}

struct BackupsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backups", abstract: "List an environment's backups: age, size, release, checksum; and uploads that never finished.")

    @OptionGroup var given: DeployOptions

    @Flag(help: "Print them as JSON.")
    var json = false

    func run() async throws {
        try await FailureReport.reporting {
            let spec = try given.loadSpec()
            let access = try BackupAccess(spec: spec, localSecrets: BackupAccess.localSecretsPath(given, spec: spec))
            let listing = try await BackupFailures.reported { try await access.catalog.list() }
            if json {
                Terminal.out(try JSONCoding.encode(listing.backups))
                return
            }
            Terminal.out(BackupListing.text(listing, in: access.catalog, now: Date()))
        }
    }
}

enum BackupListing {
    static func text(_ listing: BackupCatalog.Listing, in catalog: BackupCatalog, now: Date) -> String {
        var lines = ["\(catalog.environment) in \(catalog.store.location.description) (\(catalog.folder))"]
        if listing.backups.isEmpty { lines.append("  no complete backup") }
        let rows = listing.backups.map { backup in
            [
                backup.id, Durations.age(now.timeIntervalSince(backup.createdAt)), ByteFormat.text(backup.size), backup.release ?? "-",
                backup.reason, "v\(backup.schemaVersion)", String(backup.sha256.prefix(12)),
            ]
        }
        if !rows.isEmpty {
            let header = ["ID", "AGE", "SIZE", "RELEASE", "REASON", "SCHEMA", "SHA256"]
            let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
            for row in [header] + rows {
                lines.append(
                    "  " + row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  "))
            }
        }
        for leftover in listing.incomplete {
            lines.append("  incomplete (not a backup): \(leftover.key), \(ByteFormat.text(leftover.size))")
        }
        return lines.joined(separator: "\n")
    }
}

enum ByteFormat {
    static func text(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}

enum Durations {
    static func seconds(_ duration: Duration) -> String {
        String(format: "%.2f", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }

    static func age(_ seconds: TimeInterval) -> String {
        switch seconds {
        case ..<120: return "\(Int(max(seconds, 0)))s"
        case ..<7200: return "\(Int(seconds / 60))m"
        case ..<172_800: return "\(Int(seconds / 3600))h"
        default: return "\(Int(seconds / 86_400))d"
        }
    }
}

/// The release a backup holds, when the target can say without more than its own state.
enum BackupReleases {
    static func current(_ given: DeployOptions, spec: EnvironmentSpec) async -> String? {
        guard given.chosenTarget(for: spec) == .local, let target = try? given.deployTarget(for: spec) else { return nil }
        return try? await DeployTargets.using(target) { try await $0.currentRelease()?.name }
    }
}
