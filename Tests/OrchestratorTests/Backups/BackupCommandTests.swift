import Backups
import Foundation
import ProcessSupport
import TestSupport
import Testing

/// `backup`, `backups`, `restore` and the backup before a release, on the local target with its
/// own PostgreSQL and a bucket in moto.
@Suite(.serialized) struct BackupCommandTests {
    let s3: LocalS3

    init() async throws {
        s3 = try await OffPool.run { try LocalS3.shared.get() }
    }

    func createBucket(_ name: String) async throws {
        let s3 = s3
        try await OffPool.run { try s3.createBucket(name) }
    }

    func deployment(bucket: String, endpoint: String? = nil, beforeRelease: Bool) async throws -> LocalDeployment {
        try await createBucket(bucket)
        let deployment = try LocalDeployment(
            replicas: 1, extra: Self.backups(endpoint: endpoint ?? s3.endpoint, bucket: bucket, beforeRelease: beforeRelease))
        deployment.environment = ["BACKUP_S3_ACCESS_KEY_ID": s3.accessKeyID, "BACKUP_S3_SECRET_ACCESS_KEY": s3.secretAccessKey]
        return deployment
    }

    static func backups(endpoint: String, bucket: String, beforeRelease: Bool) -> String {
        """
        secrets:
          BACKUP_S3_ACCESS_KEY_ID: { minLength: 16 }
          BACKUP_S3_SECRET_ACCESS_KEY: { minLength: 16 }
        backups:
          schedule: "0 2 * * *"
          retention: 7d
          storage: { endpoint: "\(endpoint)", bucket: \(bucket) }
          beforeRelease: \(beforeRelease)
        """
    }

    func catalog(bucket: String, environment: String) throws -> BackupCatalog {
        let location = BucketLocation(endpoint: try #require(URL(string: s3.endpoint)), bucket: bucket, region: "us-east-1")
        let credentials = S3Credentials(accessKeyID: s3.accessKeyID, secretAccessKey: s3.secretAccessKey)
        return BackupCatalog(
            store: ObjectStore(location: location, credentials: credentials), prefix: "pet-backend", environment: environment)
    }

    /// The environment's own database, as its secrets file names it.
    func database(_ deployment: LocalDeployment) throws -> DatabaseURL {
        let text = try String(contentsOfFile: deployment.stateDirectory + "/test/secrets.env", encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("DATABASE_URL=") })
        return try DatabaseURL(String(line.dropFirst("DATABASE_URL=".count)))
    }

    func databases(_ live: DatabaseURL, tools: PostgresTools) async throws -> [String] {
        try await tools.query(live, "SELECT datname FROM pg_database WHERE datname LIKE 'pet_backend%' ORDER BY 1").map { $0[0] }
    }

    @Test func backupListDrillRestoreAndReplace() async throws {
        let deployment = try await deployment(bucket: "local-commands", beforeRelease: false)
        _ = try await deployment.firstApply()
        let tools = try PostgresTools()
        let live = try database(deployment)
        _ = try await tools.query(
            live,
            "INSERT INTO saved_designs (id, user_id, name, document) SELECT gen_random_uuid(), 'user-' || (i % 7), 'Design ' || i, "
                + "jsonb_build_object('n', i) FROM generate_series(1, 500) i")

        let backup = try await deployment.orchestrate(["backup", "--json"])
        #expect(backup.status == 0, "\(backup.stderr)")
        let manifest = try BackupManifest.decode(Data(backup.stdout.utf8))
        #expect(manifest.tableRows["saved_designs"] == 500)
        #expect(manifest.release == "v1")
        #expect(!backup.stdout.contains(s3.secretAccessKey) && !backup.stderr.contains(s3.secretAccessKey))

        let listed = try await deployment.orchestrate(["backups"])
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.contains(manifest.id) && listed.stdout.contains(String(manifest.sha256.prefix(12))), "\(listed.stdout)")

        let drill = try await deployment.orchestrate(["restore", "--drill"])
        #expect(drill.status == 0, "\(drill.stderr)")
        #expect(drill.stdout.contains("rows match the backup") && drill.stdout.contains("saved_designs 500"), "\(drill.stdout)")
        #expect(drill.stdout.contains("dropped"), "\(drill.stdout)")
        #expect(try await databases(live, tools: tools) == ["pet_backend"], "a drill leaves no database behind")

        let restored = try await deployment.orchestrate(["restore", "--from", manifest.id])
        #expect(restored.status == 0, "\(restored.stderr)")
        let copies = try await databases(live, tools: tools).filter { $0.hasPrefix("pet_backend_restore_") }
        #expect(copies.count == 1)
        if let copy = copies.first {
            #expect(try await tools.query(live.naming(copy), "SELECT count(*) FROM saved_designs") == [["500"]])
        }

        // The disaster: the data is gone from the live database.
        _ = try await tools.query(live, "DELETE FROM saved_designs")
        let unconfirmed = try await deployment.orchestrate(["restore", "--replace"])
        #expect(unconfirmed.status == 1)
        #expect(unconfirmed.stderr.contains("--confirm pet_backend"), "\(unconfirmed.stderr)")
        #expect(try await tools.query(live, "SELECT count(*) FROM saved_designs") == [["0"]])

        let replaced = try await deployment.orchestrate(["restore", "--replace", "--confirm", "pet_backend"])
        #expect(replaced.status == 0, "\(replaced.stdout)\(replaced.stderr)")
        #expect(try await tools.query(live, "SELECT count(*) FROM saved_designs") == [["500"]])
        #expect(try await databases(live, tools: tools).contains { $0.hasPrefix("pet_backend_before_restore_") })
        // The service reconnects to the swapped-in database by itself.
        try await deployment.expectServing(release: 1, instances: 1)
        _ = try await deployment.orchestrate(["down"])
    }

    /// What the CronJob and the Fly schedule run: `pet-backend backup`, set up only by its
    /// environment, as the rendered objects set it.
    @Test func theScheduledBackupRunsFromItsEnvironment() async throws {
        try await createBucket("scheduled")
        let tools = try PostgresTools()
        let admin = try DatabaseURL(try await OffPool.run { try LocalPostgres.shared.get() }.url())
        _ = try await tools.query(admin, "DROP DATABASE IF EXISTS scheduled_source WITH (FORCE)")
        _ = try await tools.query(admin, "CREATE DATABASE scheduled_source")
        let source = admin.naming("scheduled_source")
        _ = try await tools.query(
            source, "CREATE TABLE saved_designs (id int PRIMARY KEY); INSERT INTO saved_designs SELECT generate_series(1, 42)")
        let backend = URL(fileURLWithPath: CommandRunner.executable).deletingLastPathComponent().appendingPathComponent("pet-backend").path
        var environment = [
            "BACKUP_S3_ENDPOINT": s3.endpoint, "BACKUP_S3_BUCKET": "scheduled", "BACKUP_S3_PREFIX": "pet-backend",
            "BACKUP_S3_REGION": "us-east-1", "BACKUP_ENVIRONMENT": "prod", "BACKUP_RETENTION_DAYS": "30",
            "BACKUP_S3_ACCESS_KEY_ID": s3.accessKeyID, "BACKUP_S3_SECRET_ACCESS_KEY": s3.secretAccessKey,
            "DATABASE_URL": source.withoutPassword, "BUILD_VERSION": "sha256:0123456789abcdef",
        ]
        let ran = try await LocalProcessRun.run(backend, ["backup"], environment: environment)
        #expect(ran.status == 0, "\(ran.output)")
        #expect(ran.output.contains("42 rows in 1 tables"), "\(ran.output)")
        #expect(!ran.output.contains(s3.secretAccessKey))
        let catalog = try catalog(bucket: "scheduled", environment: "prod")
        let backup = try #require(try await catalog.list().backups.first)
        #expect(backup.reason == "scheduled" && backup.release == "sha256:0123456789ab")

        environment["BACKUP_S3_BUCKET"] = nil
        let refused = try await LocalProcessRun.run(backend, ["backup"], environment: environment)
        #expect(refused.status == 1)
        #expect(refused.output.contains("the backup is missing BACKUP_S3_BUCKET"), "\(refused.output)")
        #expect(!refused.output.contains(s3.secretAccessKey))
    }

    /// `kill -9` of `orchestrate backup` at points from the snapshot to the manifest: whatever
    /// lists as a backup is whole (its checksum holds), what does not finish never lists, and the
    /// next backup and its restore go through.
    @Test func aBackupKilledAnywhereLeavesNoBrokenBackup() async throws {
        try await createBucket("killed")
        let base = try String(contentsOfFile: CommandRunner.repositoryRoot + "/environments/base.yaml", encoding: .utf8)
        let project = try ScratchProject(environments: [
            "base.yaml": base, "test.yaml": "extends: base\n" + Self.backups(endpoint: s3.endpoint, bucket: "killed", beforeRelease: false),
        ])
        let tools = try PostgresTools()
        let admin = try DatabaseURL(try await OffPool.run { try LocalPostgres.shared.get() }.url())
        _ = try await tools.query(admin, "DROP DATABASE IF EXISTS killed_source WITH (FORCE)")
        _ = try await tools.query(admin, "CREATE DATABASE killed_source")
        let source = admin.naming("killed_source")
        _ = try await tools.query(
            source,
            "CREATE TABLE saved_designs (id uuid PRIMARY KEY, name text, document jsonb); "
                + "INSERT INTO saved_designs SELECT md5(i::text)::uuid, 'Design ' || i || repeat('x', 200), "
                + "jsonb_build_object('n', i, 'c', md5(i::text)) FROM generate_series(1, 300000) i")
        let environment = ["BACKUP_S3_ACCESS_KEY_ID": s3.accessKeyID, "BACKUP_S3_SECRET_ACCESS_KEY": s3.secretAccessKey]
        // Kill points spread over a whole run, the most near its end, where the uploads are.
        let started = ContinuousClock.now
        let whole = try await CommandRunner.run(
            ["backup", "test", "--database-url", source.withoutPassword], in: project.path, environment: environment)
        #expect(whole.status == 0, "\(whole.stderr)")
        let length = ContinuousClock.now - started
        for fraction in [0.2, 0.5, 0.8, 0.9, 0.95, 0.98, 1.0, 1.03] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CommandRunner.executable)
            process.arguments = ["backup", "test", "--database-url", source.withoutPassword]
            process.currentDirectoryURL = URL(fileURLWithPath: project.path)
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            try await Task.sleep(for: length * fraction)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        let catalog = try catalog(bucket: "killed", environment: "test")
        let runner = BackupRunner(catalog: catalog, tools: tools)
        let listing = try await catalog.list()
        #expect(listing.backups.count < 9, "the kills came before the manifests of some backups")
        print("killed backups: \(listing.backups.count) complete, \(listing.incomplete.count) incomplete uploads")
        for backup in listing.backups {
            let path = try await runner.fetch(backup)
            try? FileManager.default.removeItem(atPath: path)
        }
        let after = try await CommandRunner.run(
            ["backup", "test", "--database-url", source.withoutPassword, "--json"], in: project.path, environment: environment)
        #expect(after.status == 0, "\(after.stderr)")
        let manifest = try BackupManifest.decode(Data(after.stdout.utf8))
        _ = try await tools.query(admin, "DROP DATABASE IF EXISTS killed_target WITH (FORCE)")
        let restored = try await CommandRunner.run(
            ["restore", "test", "--from", manifest.id, "--into", admin.naming("killed_target").withoutPassword], in: project.path,
            environment: environment)
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(try await tools.query(admin.naming("killed_target"), "SELECT count(*) FROM saved_designs") == [["300000"]])
    }

    @Test func aBackupBeforeTheReleaseThatFailsStopsTheMigration() async throws {
        let deployment = try await deployment(bucket: "before-release", beforeRelease: true)
        _ = try await deployment.firstApply()
        let second = try await deployment.orchestrate(["apply", "--binary", try deployment.newBuild("v2")])
        #expect(second.status == 0, "\(second.stderr)")
        #expect((second.stdout + second.stderr).contains("backing up the database before v2"), "\(second.stdout)\(second.stderr)")
        let listed = try await deployment.orchestrate(["backups", "--json"])
        #expect(listed.stdout.contains("\"reason\" : \"before v2\""), "\(listed.stdout)")

        // The bucket unreachable: nothing is migrated, v2 keeps serving.
        let specPath = deployment.root + "/environments/test.yaml"
        let spec = try String(contentsOfFile: specPath, encoding: .utf8)
        try Data(spec.replacingOccurrences(of: s3.endpoint, with: "http://127.0.0.1:\(LocalProcess.freePort())").utf8)
            .write(to: URL(fileURLWithPath: specPath))
        let third = try await deployment.orchestrate(["apply", "--binary", try deployment.newBuild("v3")])
        #expect(third.status == 3, "\(third.stdout)\(third.stderr)")
        #expect(third.stderr.contains("the backup before it failed"), "\(third.stderr)")
        #expect(!(third.stdout + third.stderr).contains("release command:"), "the migration never ran: \(third.stdout)\(third.stderr)")
        try await deployment.expectServing(release: 2, instances: 1)
        _ = try await deployment.orchestrate(["down"])
    }
}

/// Runs a program to its end with only the given environment (and PATH), output and errors together.
enum LocalProcessRun {
    static func run(_ program: String, _ arguments: [String], environment: [String: String]) async throws -> (status: Int32, output: String)
    {
        let process = Process()
        let pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.environment = environment.merging(["PATH": "/usr/bin:/bin"]) { first, _ in first }
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = try await OffPool.run {
            let data = try pipe.fileHandleForReading.readAllRetryingInterrupts()
            process.waitUntilExit()
            return data
        }
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
