import Backups
import Foundation
import Manifests

/// The bucket and database of one environment's backups, as this machine reaches them: the
/// store's keys and the database URL from this process's environment (named as the spec names
/// the secrets, as CI provides them) or, on the local target, from its own secrets file.
struct BackupAccess: Sendable {
    let spec: EnvironmentSpec
    let backups: BackupSpec
    let catalog: BackupCatalog
    private let secretValues: [String: String]

    init(spec: EnvironmentSpec, localSecrets: String?) throws {
        guard let backups = spec.backups else {
            throw DeployFailure(
                kind: .invalid,
                message:
                    "\(spec.name) has no `backups:` in \(spec.files.last ?? "its spec"); add schedule, retention and storage (docs/spec.md)"
            )
        }
        var values = (localSecrets.flatMap { try? LocalSecrets.load($0) })?.values ?? [:]
        values.merge(ProcessInfo.processInfo.environment) { _, process in process }
        let storage = backups.storage
        let missing = [storage.accessKeyIdSecret, storage.secretAccessKeySecret].filter { (values[$0] ?? "").isEmpty }
        guard missing.isEmpty else {
            throw DeployFailure(
                kind: .invalid,
                message: "the backup bucket's keys are not here: set \(missing.joined(separator: " and ")) in the environment"
                    + (localSecrets == nil ? "" : " or with `orchestrate secrets set \(spec.name) \(missing.joined(separator: " "))`"))
        }
        guard let endpoint = URL(string: storage.endpoint) else {
            throw DeployFailure(kind: .invalid, message: "backups.storage.endpoint is not a URL")
        }
        let store = ObjectStore(
            location: BucketLocation(endpoint: endpoint, bucket: storage.bucket, region: storage.region),
            credentials: S3Credentials(
                accessKeyID: values[storage.accessKeyIdSecret] ?? "", secretAccessKey: values[storage.secretAccessKeySecret] ?? ""))
        self.spec = spec
        self.backups = backups
        self.catalog = BackupCatalog(store: store, prefix: storage.folder(app: spec.app.name), environment: spec.name)
        self.secretValues = values
    }

    /// The environment's database: `--database-url`, else DATABASE_URL here (the local target's
    /// own, or one exported for a tunnel such as `fly proxy` or `kubectl port-forward`).
    func database(_ given: String?) throws -> DatabaseURL {
        guard let text = given ?? secretValues[BackupJobEnvironment.databaseURL], !text.isEmpty else {
            throw DeployFailure(
                kind: .invalid,
                message:
                    "no database to reach for \(spec.name): pass --database-url (through `fly proxy` or `kubectl port-forward`) or set DATABASE_URL"
            )
        }
        return try DatabaseURL(text)
    }

    static func localSecretsPath(_ given: DeployOptions, spec: EnvironmentSpec) -> String? {
        guard given.chosenTarget(for: spec) == .local else { return nil }
        let state =
            given.stateDirectory.hasPrefix("/")
            ? given.stateDirectory : FileManager.default.currentDirectoryPath + "/" + given.stateDirectory
        return LocalPaths(stateDirectory: state, environment: spec.name).secrets
    }
}

extension BackupError {
    var asFailure: DeployFailure { DeployFailure(kind: .invalid, message: description) }
}

extension ObjectStoreError {
    var asFailure: DeployFailure { DeployFailure(kind: .invalid, message: description) }
}

/// Runs a backup or restore step, turning its errors into the command's clear failure.
enum BackupFailures {
    static func reported<Value>(_ body: () async throws -> Value) async throws -> Value {
        do {
            return try await body()
        } catch let error as BackupError {
            throw error.asFailure
        } catch let error as ObjectStoreError {
            throw error.asFailure
        }
    }
}
