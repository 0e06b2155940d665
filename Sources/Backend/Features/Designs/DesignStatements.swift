import Foundation
import NIOCore
import PostgresNIO

/// The hot read queries as prepared statements: each connection parses and plans them once,
/// not on every request.
enum DesignStatements {
    static let columns = "id, name, document::text, private_notes, created_at, updated_at"

    /// One row of `columns`, decoded column by column with concrete types: decoding the whole
    /// row as one tuple looked up generic metadata at run time for every row.
    struct Row: Sendable {
        var id: UUID
        var name: String
        var documentJSON: ByteBuffer
        var sealedNotes: String?
        var createdAt: PostgresTimestamp
        var updatedAt: PostgresTimestamp

        init(_ row: PostgresRow) throws {
            var cells = row.makeIterator()
            func next() throws -> PostgresCell {
                guard let cell = cells.next() else { throw PostgresDecodingError.Code.missingData }
                return cell
            }
            id = try next().decode(UUID.self)
            name = try next().decode(String.self)
            documentJSON = try next().decode(ByteBuffer.self)
            sealedNotes = try next().decode(String?.self)
            createdAt = try next().decode(PostgresTimestamp.self)
            updatedAt = try next().decode(PostgresTimestamp.self)
        }
    }

    struct FirstPage: PostgresPreparedStatement {
        static let name = "designs_first_page"
        static let sql = "SELECT \(columns) FROM saved_designs WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
        var user: String
        var limit: Int

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 2)
            bindings.append(user)
            bindings.append(limit)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try Row(row) }
    }

    struct NextPage: PostgresPreparedStatement {
        static let name = "designs_next_page"
        static let sql = """
            SELECT \(columns) FROM saved_designs
            WHERE user_id = $1 AND (created_at, id) < ($2, $3) ORDER BY created_at DESC, id DESC LIMIT $4
            """
        var user: String
        var createdAt: PostgresTimestamp
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

        func decodeRow(_ row: PostgresRow) throws -> Row { try Row(row) }
    }

    struct One: PostgresPreparedStatement {
        static let name = "designs_one"
        static let sql = "SELECT \(columns) FROM saved_designs WHERE id = $1 AND user_id = $2"
        var id: UUID
        var user: String

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 2)
            bindings.append(id)
            bindings.append(user)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try Row(row) }
    }
}
