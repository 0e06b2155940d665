/// `backups:` — when the database is dumped and how long dumps are kept.
public struct BackupSpec: Sendable, Equatable {
    /// Five-field cron schedule, evaluated in UTC.
    public var schedule: String
    public var retention: SpecDuration
    /// An image that has `pg_dump` of the server's major version.
    public var image: String
    /// The PersistentVolumeClaim the dumps are written to on Kubernetes.
    public var volumeClaim: String

    public var retentionDays: Int64 { retention.milliseconds / 86_400_000 }
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
        let image = map.optional("image", default: "postgres:15")
        let claim = map.optional("volumeClaim", as: String.self).flatMap {
            Names.checkDNSLabel($0, path: childPath(path, "volumeClaim"), map: map)
        }
        map.finish()
        guard let schedule, let retention else { return nil }
        guard retention.milliseconds >= 86_400_000, retention.milliseconds % 86_400_000 == 0 else {
            context.error(
                "retention \(retention) is not a whole number of days", at: context.locations[childPath(path, "retention")],
                path: childPath(path, "retention"), fix: "write days, such as 14d")
            return nil
        }
        return BackupSpec(schedule: schedule, retention: retention, image: image, volumeClaim: claim ?? "database-backups")
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
