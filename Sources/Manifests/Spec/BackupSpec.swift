/// `backups:` — when the database is dumped, where the dumps go, how long they are kept.
public struct BackupSpec: Sendable, Equatable {
    /// Five-field cron schedule, evaluated in UTC.
    public var schedule: String
    public var retention: SpecDuration
    public var storage: BackupStorage
    /// Whether `apply` takes a backup before the release command; nil means the default: on in
    /// production, off elsewhere.
    public var beforeRelease: Bool?

    public var retentionDays: Int64 { retention.milliseconds / 86_400_000 }

    public func takesBackupBeforeRelease(production: Bool) -> Bool { beforeRelease ?? production }
}

/// An S3-compatible bucket, the same for every target, so that a backup taken on one platform
/// restores on another. Credentials are secrets named here, never values.
public struct BackupStorage: Sendable, Equatable {
    public var endpoint: String
    public var bucket: String
    public var prefix: String
    public var region: String
    public var accessKeyIdSecret: String
    public var secretAccessKeySecret: String

    public static let defaultAccessKeyIdSecret = "BACKUP_S3_ACCESS_KEY_ID"
    public static let defaultSecretAccessKeySecret = "BACKUP_S3_SECRET_ACCESS_KEY"
}

extension BackupSpec: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> BackupSpec? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let schedule = map.required("schedule", as: String.self).flatMap { text -> String? in
            if let problem = CronSchedule.problem(with: text) {
                context.error(
                    problem.message, at: context.locations[childPath(path, "schedule")], path: childPath(path, "schedule"), fix: problem.fix
                )
                return nil
            }
            return text
        }
        let retention = map.required("retention", as: SpecDuration.self)
        let storage = map.required("storage", as: BackupStorage.self)
        let beforeRelease = map.optional("beforeRelease", as: Bool.self)
        map.finish()
        guard let schedule, let retention, let storage else { return nil }
        guard retention.milliseconds >= 86_400_000, retention.milliseconds % 86_400_000 == 0 else {
            context.error(
                "retention \(retention) is not a whole number of days", at: context.locations[childPath(path, "retention")],
                path: childPath(path, "retention"), fix: "write days, such as 14d")
            return nil
        }
        return BackupSpec(schedule: schedule, retention: retention, storage: storage, beforeRelease: beforeRelease)
    }
}

extension BackupStorage: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> BackupStorage? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let endpoint = map.required("endpoint", as: String.self).flatMap { checkEndpoint($0, at: childPath(path, "endpoint"), in: context) }
        let bucket = map.required("bucket", as: String.self).flatMap { checkBucket($0, at: childPath(path, "bucket"), in: context) }
        let prefix = map.optional("prefix", as: String.self).flatMap { checkPrefix($0, at: childPath(path, "prefix"), in: context) }
        let region = map.optional("region", default: "us-east-1")
        let accessKey = map.optional("accessKeyIdSecret", default: defaultAccessKeyIdSecret)
        let secretKey = map.optional("secretAccessKeySecret", default: defaultSecretAccessKeySecret)
        map.finish()
        guard let endpoint, let bucket else { return nil }
        return BackupStorage(
            endpoint: endpoint, bucket: bucket, prefix: prefix ?? "", region: region, accessKeyIdSecret: accessKey,
            secretAccessKeySecret: secretKey)
    }

    /// https, or http to this machine only (a local S3 server): keys are not sent in the clear.
    static func checkEndpoint(_ text: String, at path: String, in context: ReadContext) -> String? {
        let trimmed = text.hasSuffix("/") ? String(text.dropLast()) : text
        let host = trimmed.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first.map {
            $0.split(separator: ":").first ?? ""
        }
        let loopback = host.map { $0 == "127.0.0.1" || $0 == "localhost" || $0 == "[::1]" } ?? false
        let validShape =
            (trimmed.hasPrefix("https://") || trimmed.hasPrefix("http://")) && host.map { !$0.isEmpty } == true
            && trimmed.split(separator: "/").count == 2 && !trimmed.contains(" ")
        guard validShape else {
            context.error(
                "endpoint `\(text.prefix(80))` is not a base URL", at: context.locations[path], path: path,
                fix: "write the store's URL without a path, such as https://s3.us-east-1.amazonaws.com")
            return nil
        }
        guard trimmed.hasPrefix("https://") || loopback else {
            context.error(
                "endpoint `\(text.prefix(80))` would send the store's keys unencrypted", at: context.locations[path], path: path,
                fix: "use https (http is accepted for 127.0.0.1 and localhost only)")
            return nil
        }
        return trimmed
    }

    /// S3's bucket name rules: 3 to 63 lowercase letters, digits, dots and hyphens.
    static func checkBucket(_ text: String, at path: String, in context: ReadContext) -> String? {
        let allowed = text.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "." || $0 == "-" }
        let ends = [text.first, text.last].allSatisfy { $0.map { $0.isLetter || $0.isNumber } ?? false }
        guard (3...63).contains(text.count), allowed, ends, !text.contains("..") else {
            context.error(
                "bucket `\(text.prefix(80))` is not a valid bucket name", at: context.locations[path], path: path,
                fix: "use 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit")
            return nil
        }
        return text
    }

    static func checkPrefix(_ text: String, at path: String, in context: ReadContext) -> String? {
        let allowed = text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_./".contains($0)) }
        guard allowed, text.count <= 200, !text.hasPrefix("/"), !text.contains("//"), !text.split(separator: "/").contains("..") else {
            context.error(
                "prefix `\(text.prefix(80))` is not a folder path in a bucket", at: context.locations[path], path: path,
                fix: "use letters, digits, `-`, `_`, `.` and `/` between names, such as backups/pet-backend")
            return nil
        }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }
}

/// Checks a five-field cron expression the way Kubernetes CronJobs read it.
enum CronSchedule {
    static let fields: [(name: String, range: ClosedRange<Int>)] = [
        ("minute", 0...59), ("hour", 0...23), ("day of month", 1...31), ("month", 1...12), ("day of week", 0...7),
    ]

    static func problem(with text: String) -> UnitError? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 5 else {
            return UnitError(
                "`\(text)` has \(parts.count) fields; a schedule has 5 (minute hour day-of-month month day-of-week)",
                fix: "for daily at 02:00 UTC write \"0 2 * * *\"")
        }
        for (part, field) in zip(parts, fields) {
            for item in part.split(separator: ",") {
                let base = item.split(separator: "/", maxSplits: 1)
                if base.count == 2, Int(base[1]) == nil || Int(base[1]) == 0 {
                    return UnitError("the \(field.name) step in `\(item)` is not a positive number", fix: "write e.g. */5")
                }
                guard let range = base.first, range != "*" else { continue }
                for bound in range.split(separator: "-", maxSplits: 1) {
                    guard let value = Int(bound), field.range.contains(value) else {
                        return UnitError(
                            "the \(field.name) `\(bound)` is outside \(field.range.lowerBound)-\(field.range.upperBound)",
                            fix: "use a number from \(field.range.lowerBound) to \(field.range.upperBound), or *")
                    }
                }
            }
        }
        return nil
    }
}
