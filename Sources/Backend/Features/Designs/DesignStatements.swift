import Foundation
import PostgresNIO

/// The hot read queries as prepared statements: each connection parses and plans them once,
/// not on every request.
enum DesignStatements {
    typealias Row = (UUID, String, String, String?, Date, String, String)

    static let columns = """
        id, name, document::text, private_notes, created_at,
        to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
        """

    struct FirstPage: PostgresPreparedStatement {
        static let sql = "SELECT \(columns) FROM saved_designs WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
        var user: String
        var limit: Int

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 2)
            bindings.append(user)
            bindings.append(limit)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    struct NextPage: PostgresPreparedStatement {
        static let sql = """
            SELECT \(columns) FROM saved_designs
            WHERE user_id = $1 AND (created_at, id) < ($2, $3) ORDER BY created_at DESC, id DESC LIMIT $4
            """
        var user: String
        var createdAt: Date
        var id: UUID
        var limit: Int

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 4)
            bindings.append(user)
            bindings.append(createdAt)
            bindings.append(id)
            bindings.append(limit)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    struct One: PostgresPreparedStatement {
        static let sql = "SELECT \(columns) FROM saved_designs WHERE id = $1 AND user_id = $2"
        var id: UUID
        var user: String

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 2)
            bindings.append(id)
            bindings.append(user)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }
}
