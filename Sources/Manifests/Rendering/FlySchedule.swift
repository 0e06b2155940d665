/// Fly starts a scheduled machine hourly, daily, weekly or monthly, at a time it chooses; a cron
/// schedule maps to one of these when it has that shape.
public enum FlySchedule {
    /// The Fly schedule for a five-field cron expression, nil when it has none of Fly's shapes.
    public static func from(cron: String) -> String? {
        let fields = cron.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count == 5 else { return nil }
        let fixed = fields.map { Int($0) != nil }
        let any = fields.map { $0 == "*" }
        switch (fixed[0], fixed[1], any[2] ? "*" : fixed[2] ? "n" : "?", any[3], any[4] ? "*" : fixed[4] ? "n" : "?") {
        case (true, false, "*", true, "*") where any[1]: return "hourly"
        case (true, true, "*", true, "*"): return "daily"
        case (true, true, "*", true, "n"): return "weekly"
        case (true, true, "n", true, "*"): return "monthly"
        default: return nil
        }
    }
}
