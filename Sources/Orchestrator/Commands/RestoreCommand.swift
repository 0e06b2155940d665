import ArgumentParser
import Backups
import Foundation
import Manifests

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore", abstract: "Restore a backup into a fresh database, check it, and switch to it only when asked.",
        discussion: """
            Downloads the backup, checks its SHA-256 against its manifest, restores it (pg_restore) into a new \
            database on the environment's server (or --into), and checks the schema version and every table's \
            rows against the manifest. The live database is never written: --replace swaps the restored one in \
            for it (keeping the old one, renamed), and needs --confirm with the live database's name. \
            --drill restores the newest backup into a scratch database, runs the checks and the service's reads, \
            reports the restore time and the backup's age, and drops it.
            """)

    @OptionGroup var given: DeployOptions

    @Option(help: "The backup's id (see `orchestrate backups`). Default: the newest.")
    var from: String?

    @Option(help: "Restore into this database (created when missing, refused when it has tables).")
    var into: String?

    @Option(name: .customLong("database-url"), help: "The environment's live database (default: the local target's, else DATABASE_URL).")
    var databaseURL: String?

    @Flag(help: "Swap the restored database in for the live one (the old one is kept, renamed).")
    var replace = false

    @Option(help: "With --replace: the live database's name, to show you mean it.")
    var confirm: String?

    @Flag(help: "Rehearse: restore into a scratch database, check it, report, and drop it.")
    var drill = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        if drill, replace { throw ValidationError("--drill and --replace do not go together: a drill never switches") }
        if confirm != nil, !replace { throw ValidationError("--confirm goes with --replace") }
    }

    func run() async throws {
        try await FailureReport.reporting {
            let spec = try given.loadSpec()
            let access = try BackupAccess(spec: spec, localSecrets: BackupAccess.localSecretsPath(given, spec: spec))
            let live = try? access.database(databaseURL)
            let plan = try RestorePlan(live: live, into: into.map(DatabaseURL.init), drill: drill, replace: replace, confirm: confirm)
            let (catalog, from) = (access.catalog, from)
            let report = try await Interruptible.run {
                try await BackupFailures.reported { try await plan.run(catalog: catalog, from: from) }
            }
            Terminal.out(json ? try JSONCoding.encode(report) : report.text())
        }
    }
}

/// Where a restore goes and what happens after, decided before anything is touched.
struct RestorePlan: Sendable {
    let live: DatabaseURL?
    let into: DatabaseURL?
    let drill: Bool
    let replace: Bool

    init(live: DatabaseURL?, into: DatabaseURL?, drill: Bool, replace: Bool, confirm: String?) throws {
        guard live != nil || into != nil else {
            throw DeployFailure(
                kind: .invalid,
                message: "nowhere to restore: pass --into DATABASE_URL, or --database-url / DATABASE_URL for the environment's server")
        }
        if replace {
            guard let live else {
                throw DeployFailure(kind: .invalid, message: "--replace needs the live database: --database-url or DATABASE_URL")
            }
            if let into, into.database == live.database, into.withoutPassword == live.withoutPassword {
                throw DeployFailure(kind: .invalid, message: "--into names the live database itself; a restore never writes over it")
            }
            // The swap renames databases, which only works within one server.
            if let into, into.naming("postgres").withoutPassword != live.naming("postgres").withoutPassword {
                throw DeployFailure(
                    kind: .invalid, message: "--replace restores beside the live database, on its server; --into names another server")
            }
            guard confirm == live.database else {
                throw DeployFailure(
                    kind: .invalid,
                    message: "--replace swaps out the live database \(live.database) (\(live)); to go ahead add --confirm \(live.database)")
            }
        }
        self.live = live
        self.into = into
        self.drill = drill
        self.replace = replace
    }

    func run(catalog: BackupCatalog, from: String?) async throws -> RestoreReport {
        let tools = try PostgresTools()
        let admin = DatabaseAdmin(tools: tools)
        let manifest = try await catalog.find(from)
        let stamp = BackupManifest.makeID(at: Date(), release: nil).lowercased()
        let server = into ?? live
        guard let server else { throw DeployFailure(kind: .invalid, message: "nowhere to restore") }
        let base = (live ?? server).database.replacingOccurrences(of: "-", with: "_")
        let name: String
        if drill {
            name = String("\(base.prefix(30))_drill_\(stamp)".prefix(63))
        } else if let into {
            name = into.database
        } else {
            name = String("\(base.prefix(30))_restore_\(stamp)".prefix(63))
        }
        try DatabaseAdmin.checkName(name)
        let maintenance = server.naming("postgres")
        let created = try await !admin.exists(name, on: maintenance)
        if created {
            try await admin.create(name, on: maintenance)
        } else if drill {
            throw DeployFailure(kind: .invalid, message: "the scratch database \(name) already exists; drop it first")
        }
        let target = server.naming(name)
        let started = ContinuousClock.now
        do {
            let restored = try await BackupRunner(catalog: catalog, tools: tools).restore(manifest, into: target)
            let seconds = Double(Durations.seconds(ContinuousClock.now - started)) ?? 0
            let migrations = try await RestoredDatabaseChecks.migrations(target, tools: tools)
            let reads = drill ? try await RestoredDatabaseChecks.reads(target, tools: tools) : []
            var switched: String?
            if replace, let live {
                let kept = String("\(live.database.prefix(30))_before_restore_\(stamp)".prefix(63))
                try await admin.swap(live: live.database, restored: name, keptAs: kept, on: maintenance)
                switched = "\(live.database) is now the restored data; the previous one is kept as \(kept) (drop it once you are sure)"
            }
            if drill { try await admin.drop(name, on: maintenance) }
            return RestoreReport(
                backup: manifest.id, environment: catalog.environment, database: replace ? (live?.database ?? name) : name,
                backupAgeSeconds: Date().timeIntervalSince(manifest.createdAt), size: manifest.size, downloadAndRestoreSeconds: seconds,
                schemaVersion: restored.schemaVersion, tableRows: restored.tableRows, migrationsApplied: migrations.count,
                latestMigration: migrations.latest, reads: reads, switched: switched, droppedAfterDrill: drill)
        } catch {
            // A failed restore or drill drops the database it made, and only that one.
            if created { try? await admin.drop(name, on: maintenance) }
            throw error
        }
    }
}
