/// What a backup is checked by: the schema version and the rows of every table, each in one
/// statement so that it reads one snapshot.
public struct DatabaseFacts: Sendable, Equatable {
    public var schemaVersion: Int64
    public var tableRows: [String: Int64]

    public init(schemaVersion: Int64, tableRows: [String: Int64]) {
        self.schemaVersion = schemaVersion
        self.tableRows = tableRows
    }

    static let schemaVersionSQL = """
        SELECT CASE WHEN to_regclass('public.schema_migrations') IS NULL THEN 0 ELSE (xpath('/row/v/text()', \
        query_to_xml('SELECT coalesce(max(version), 0) AS v FROM public.schema_migrations', false, true, '')))[1]::text::bigint END
        """

    /// Top-level tables only: a partitioned table counts its partitions' rows once.
    static let tableRowsSQL = """
        SELECT c.relname, (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), \
        false, true, '')))[1]::text::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1
        """

    static func parse(version: [[String]], rows: [[String]]) -> DatabaseFacts {
        let schema = version.first?.first.flatMap { Int64($0) } ?? 0
        var counts: [String: Int64] = [:]
        for row in rows where row.count == 2 { counts[row[0]] = Int64(row[1]) ?? -1 }
        return DatabaseFacts(schemaVersion: schema, tableRows: counts)
    }

    public static func read(_ url: DatabaseURL, tools: PostgresTools) async throws -> DatabaseFacts {
        parse(version: try await tools.query(url, schemaVersionSQL), rows: try await tools.query(url, tableRowsSQL))
    }

    /// How `restored` differs from what the backup said it held, one line a difference.
    public func differences(from restored: DatabaseFacts) -> [String] {
        var lines: [String] = []
        if restored.schemaVersion != schemaVersion {
            lines.append("schema version \(restored.schemaVersion), the backup says \(schemaVersion)")
        }
        for table in Set(tableRows.keys).union(restored.tableRows.keys).sorted() where tableRows[table] != restored.tableRows[table] {
            lines.append(
                "\(table): \(restored.tableRows[table].map(String.init) ?? "missing") rows, the backup says \(tableRows[table].map(String.init) ?? "none")"
            )
        }
        return lines
    }
}
