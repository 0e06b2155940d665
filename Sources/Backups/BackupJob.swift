import Foundation
import Manifests

/// A backup as the scheduled job runs it (`pet-backend backup` on Kubernetes and Fly): every
/// setting from the environment that `BackupJobEnvironment` names, then the dump, then retention.
public struct BackupJob: Sendable {
    public let catalog: BackupCatalog
    public let database: DatabaseURL
    public let retentionDays: Int

    public init(environment values: [String: String]) throws {
        typealias Names = BackupJobEnvironment
        let missing = [Names.endpoint, Names.bucket, Names.environment, Names.accessKeyID, Names.secretAccessKey, Names.databaseURL]
            .filter { (values[$0] ?? "").isEmpty }
        guard missing.isEmpty else {
            throw BackupError(
                "the backup is missing \(missing.joined(separator: ", "))",
                fix: "run it from the rendered CronJob or Fly schedule, which set them from the spec and its secrets")
        }
        guard let endpoint = URL(string: values[Names.endpoint] ?? "") else { throw BackupError("\(Names.endpoint) is not a URL") }
        let location = BucketLocation(endpoint: endpoint, bucket: values[Names.bucket] ?? "", region: values[Names.region] ?? "us-east-1")
        let credentials = S3Credentials(accessKeyID: values[Names.accessKeyID] ?? "", secretAccessKey: values[Names.secretAccessKey] ?? "")
        catalog = BackupCatalog(
            store: ObjectStore(location: location, credentials: credentials), prefix: values[Names.prefix] ?? "",
            environment: values[Names.environment] ?? "")
        database = try DatabaseURL(values[Names.databaseURL] ?? "")
        retentionDays = values[Names.retentionDays].flatMap { Int($0) }.map { max($0, 1) } ?? 30
    }

    /// Takes the backup, then deletes what retention no longer keeps; returns lines to print.
    public func run(release: String?, tools: PostgresTools) async throws -> [String] {
        let runner = BackupRunner(catalog: catalog, tools: tools)
        let manifest = try await runner.take(database, release: release, reason: "scheduled")
        let pruned = try await catalog.prune(retention: TimeInterval(retentionDays) * 86_400)
        return [
            "backup \(manifest.id): \(manifest.size) bytes, sha256 \(manifest.sha256), schema version \(manifest.schemaVersion), "
                + "\(manifest.tableRows.values.reduce(0, +)) rows in \(manifest.tableRows.count) tables, in \(catalog.store.location.description)",
            pruned.isEmpty
                ? "retention \(retentionDays)d: nothing to delete"
                : "retention \(retentionDays)d: deleted \(pruned.joined(separator: ", "))",
        ]
    }
}
