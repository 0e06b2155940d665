/// The environment of a scheduled backup (`pet-backend backup`): the same names on Kubernetes,
/// on Fly and for `orchestrate backup`, so each reads its settings one way.
public enum BackupJobEnvironment {
    public static let endpoint = "BACKUP_S3_ENDPOINT"
    public static let bucket = "BACKUP_S3_BUCKET"
    public static let prefix = "BACKUP_S3_PREFIX"
    public static let region = "BACKUP_S3_REGION"
    public static let accessKeyID = "BACKUP_S3_ACCESS_KEY_ID"
    public static let secretAccessKey = "BACKUP_S3_SECRET_ACCESS_KEY"
    public static let environment = "BACKUP_ENVIRONMENT"
    public static let retentionDays = "BACKUP_RETENTION_DAYS"
    public static let databaseURL = "DATABASE_URL"

    /// Plain settings, safe to show.
    public static func settings(_ spec: EnvironmentSpec, backups: BackupSpec) -> [(name: String, value: String)] {
        [
            (endpoint, backups.storage.endpoint), (bucket, backups.storage.bucket), (prefix, backups.storage.folder(app: spec.app.name)),
            (region, backups.storage.region), (environment, spec.name), (retentionDays, String(backups.retentionDays)),
        ]
    }

    /// Variables whose values are secrets, and the secret each comes from.
    public static func secrets(_ backups: BackupSpec) -> [(name: String, secret: String)] {
        [
            (databaseURL, databaseURL), (accessKeyID, backups.storage.accessKeyIdSecret),
            (secretAccessKey, backups.storage.secretAccessKeySecret),
        ]
    }
}

extension BackupStorage {
    /// The bucket folder of an app's backups: `prefix`, or the app's name.
    public func folder(app: String) -> String { prefix.isEmpty ? app : prefix }
}

extension EnvironmentSpec {
    /// Secrets that only the backup needs, kept out of the service's own environment.
    public var backupOnlySecrets: Set<String> {
        guard let storage = backups?.storage else { return [] }
        return [storage.accessKeyIdSecret, storage.secretAccessKeySecret]
    }
}
