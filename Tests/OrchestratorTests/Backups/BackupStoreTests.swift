import Backups
import Foundation
import TestSupport
import Testing

/// Backups against a real PostgreSQL and an S3 server that checks signatures (moto).
@Suite(.serialized) struct BackupStoreTests {
    let postgres: LocalPostgres
    let s3: LocalS3
    let tools: PostgresTools

    init() async throws {
        postgres = try await OffPool.run { try LocalPostgres.shared.get() }
        s3 = try await OffPool.run { try LocalS3.shared.get() }
        tools = try PostgresTools()
    }

    func catalog(_ environment: String, bucket: String) async throws -> BackupCatalog {
        let s3 = s3
        try? await OffPool.run { try s3.createBucket(bucket) }
        let location = BucketLocation(endpoint: try #require(URL(string: s3.endpoint)), bucket: bucket, region: "us-east-1")
        let store = ObjectStore(
            location: location, credentials: S3Credentials(accessKeyID: s3.accessKeyID, secretAccessKey: s3.secretAccessKey))
        return BackupCatalog(store: store, prefix: "pet-backend", environment: environment)
    }

    /// A database shaped like the service's: migrations, designs with JSON and text of every kind.
    func sourceDatabase(_ name: String, rows: Int) async throws -> DatabaseURL {
        let admin = try DatabaseURL(postgres.url())
        _ = try await tools.query(admin, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        _ = try await tools.query(admin, "CREATE DATABASE \(name)")
        let url = admin.naming(name)
        _ = try await tools.query(
            url,
            """
            CREATE TABLE schema_migrations (version bigint PRIMARY KEY, name text NOT NULL);
            INSERT INTO schema_migrations VALUES (1, 'designs'), (2, 'audit');
            CREATE TABLE saved_designs (id uuid PRIMARY KEY, user_id text NOT NULL, name text NOT NULL, document jsonb NOT NULL,
              created_at timestamptz NOT NULL DEFAULT now());
            INSERT INTO saved_designs SELECT md5(i::text)::uuid, 'user-' || (i % 17), 'Design ' || i || ' é🐕 "q" \\t',
              jsonb_build_object('size', i % 5, 'tags', jsonb_build_array('a', i)), now() - i * interval '1 minute'
              FROM generate_series(1, \(rows)) i;
            CREATE TABLE audit_log (id bigserial PRIMARY KEY, action text);
            INSERT INTO audit_log (action) SELECT 'created ' || i FROM generate_series(1, 10) i;
            """)
        return url
    }

    @Test func signatureMatchesTheAWSExample() {
        let signature = S3Signature(
            credentials: S3Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1")
        let headers = signature.headers(
            method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt", query: [], headers: ["Range": "bytes=0-9"],
            payloadHash: S3Signature.emptyPayloadHash, date: Date(timeIntervalSince1970: 1_369_353_600))
        #expect(
            headers["authorization"]
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )
    }

    @Test func aBackupRestoresRowByRow() async throws {
        let source = try await sourceDatabase("backup_source", rows: 3_000)
        let catalog = try await catalog("roundtrip", bucket: "roundtrip")
        let runner = BackupRunner(catalog: catalog, tools: tools)
        let manifest = try await runner.take(source, release: "v7", reason: "manual")
        #expect(manifest.tableRows == ["saved_designs": 3_000, "schema_migrations": 2, "audit_log": 10])
        #expect(manifest.schemaVersion == 2)
        #expect(manifest.id.hasSuffix("-v7"))
        #expect(try await catalog.list().backups.map(\.id) == [manifest.id])

        let admin = try DatabaseURL(postgres.url())
        _ = try await tools.query(admin, "DROP DATABASE IF EXISTS backup_target WITH (FORCE)")
        _ = try await tools.query(admin, "CREATE DATABASE backup_target")
        let target = admin.naming("backup_target")
        let restored = try await runner.restore(manifest, into: target)
        #expect(restored.tableRows == manifest.tableRows)
        for table in ["saved_designs", "schema_migrations", "audit_log"] {
            let sql = "SELECT t::text FROM \(table) t ORDER BY 1"
            let before = try await tools.query(source, sql)
            let after = try await tools.query(target, sql)
            #expect(before.count > 0)
            #expect(before == after, "\(table) differs after the restore")
        }
    }

    @Test func aDumpWithoutItsManifestIsNotABackup() async throws {
        let catalog = try await catalog("partial", bucket: "partial")
        let file = NSTemporaryDirectory() + "partial-\(UUID().uuidString).dump"
        try Data(repeating: 7, count: 4096).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        // What an upload killed between the dump and the manifest leaves.
        let sha = SHA256Hex.of(Data(repeating: 7, count: 4096))
        try await catalog.store.put(catalog.dumpKey("20261201T020000Z-v3"), file: file, sha256: sha, size: 4096)
        let listing = try await catalog.list()
        #expect(listing.backups.isEmpty)
        #expect(listing.incomplete.map(\.key) == [catalog.dumpKey("20261201T020000Z-v3")])
        await #expect(throws: BackupError.self) { _ = try await catalog.find(nil) }
    }

    @Test func aDamagedDumpIsRefusedByItsChecksum() async throws {
        let source = try await sourceDatabase("backup_damaged", rows: 200)
        let catalog = try await catalog("damaged", bucket: "damaged")
        let runner = BackupRunner(catalog: catalog, tools: tools)
        let manifest = try await runner.take(source, release: "v1", reason: "manual")
        // Same size, other bytes: only the checksum can tell.
        let file = NSTemporaryDirectory() + "damaged-\(UUID().uuidString).dump"
        let bytes = Data(repeating: 0x41, count: Int(manifest.size))
        try bytes.write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        try await catalog.store.put(manifest.dumpKey, file: file, sha256: SHA256Hex.of(bytes), size: manifest.size)
        let error = await #expect(throws: BackupError.self) { _ = try await runner.fetch(manifest) }
        #expect(error?.message.contains("is damaged") == true)
    }

    @Test func retentionDeletesOnlyWhatIsOld() async throws {
        let catalog = try await catalog("retention", bucket: "retention")
        let now = Date()
        let file = NSTemporaryDirectory() + "retention-\(UUID().uuidString).dump"
        let bytes = Data("dump".utf8)
        try bytes.write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        var ids: [String] = []
        for days in [40.0, 20, 5, 1] {
            let at = now - days * 86_400
            let id = BackupManifest.makeID(at: at, release: "v\(Int(days))")
            ids.append(id)
            let manifest = BackupManifest(
                id: id, environment: "retention", release: nil, createdAt: at, reason: "scheduled", dumpKey: catalog.dumpKey(id),
                size: Int64(bytes.count), sha256: SHA256Hex.of(bytes), serverVersion: nil, schemaVersion: 1, tableRows: [:])
            try await catalog.upload(dump: file, manifest: manifest)
        }
        let deleted = try await catalog.prune(retention: 14 * 86_400, now: now)
        #expect(Set(deleted) == Set(ids.prefix(2)))
        #expect(Set(try await catalog.list().backups.map(\.id)) == Set(ids.suffix(2)))
        // Everything past retention: the newest stays, a restore always has something.
        #expect(try await catalog.prune(retention: 86_400 / 2, now: now).count == 1)
        #expect(try await catalog.list().backups.map(\.id) == [ids[3]])
    }

    @Test func aRestoreNeverWritesOverTables() async throws {
        let source = try await sourceDatabase("backup_live", rows: 50)
        let catalog = try await catalog("live", bucket: "live")
        let runner = BackupRunner(catalog: catalog, tools: tools)
        let manifest = try await runner.take(source, release: nil, reason: "manual")
        let error = await #expect(throws: BackupError.self) { _ = try await runner.restore(manifest, into: source) }
        #expect(error?.description.contains("already has tables") == true)
        #expect(try await tools.query(source, "SELECT count(*) FROM saved_designs") == [["50"]])
    }

    @Test func wrongCredentialsAreRefusedByTheStore() async throws {
        let s3 = s3
        try? await OffPool.run { try s3.createBucket("credentials") }
        let location = BucketLocation(endpoint: try #require(URL(string: s3.endpoint)), bucket: "credentials", region: "us-east-1")
        let store = ObjectStore(location: location, credentials: S3Credentials(accessKeyID: s3.accessKeyID, secretAccessKey: "wrong"))
        let error = await #expect(throws: ObjectStoreError.self) { try await store.put("k", data: Data("x".utf8)) }
        #expect(error?.status == 403)
    }
}

enum SHA256Hex {
    static func of(_ data: Data) -> String { BackupRunner.sha256(of: data) }
}
