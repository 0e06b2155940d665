import Foundation
import Logging
import PostgresNIO

/// Creates the monthly partitions of the partitioned tables: this month's and next month's,
/// at start-up and daily, so an insert never lands on a month without a partition.
struct Partitions {
    static let tables = ["analytics_events", "webhook_logs"]

    let pools: DatabasePools
    let logger: Logger

    /// Returns the partition names it ensured.
    @discardableResult
    func ensure(now: Date = Date()) async throws -> [String] {
        var names: [String] = []
        for monthStart in [Self.monthStart(of: now, offset: 0), Self.monthStart(of: now, offset: 1)] {
            let next = Self.monthStart(of: monthStart, offset: 1)
            for table in Self.tables {
                let name = "\(table)_\(Self.suffix(monthStart))"
                // Names and dates come from this code, never from input; DDL cannot take binds.
                let sql = """
                    CREATE TABLE IF NOT EXISTS \(name) PARTITION OF \(table)
                    FOR VALUES FROM ('\(Self.day(monthStart))') TO ('\(Self.day(next))')
                    """
                try await pools.write { connection in
                    try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
                }
                names.append(name)
            }
        }
        return names
    }

    static var utcCalendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        return calendar
    }

    static func monthStart(of date: Date, offset: Int) -> Date {
        let calendar = utcCalendar
        let components = calendar.dateComponents([.year, .month], from: date)
        let start = calendar.date(from: components) ?? date
        return calendar.date(byAdding: .month, value: offset, to: start) ?? start
    }

    static func suffix(_ date: Date) -> String {
        let parts = utcCalendar.dateComponents([.year, .month], from: date)
        return String(format: "%04d_%02d", parts.year ?? 0, parts.month ?? 0)
    }

    static func day(_ date: Date) -> String {
        let parts = utcCalendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }
}
