import Foundation
import Logging
import PostgresNIO

/// Saved designs in PostgreSQL, always scoped to their owner: another user's design is simply
/// not found. Lists read from the replica; single reads use the primary so a client sees its own
/// write at once (replication lag would otherwise 404 a design just created).
struct DesignStore: Sendable {
    let pools: DatabasePools
    let cipher: FieldCipher
    let logger: Logger

    private static let columns = DesignStatements.columns

    func list(user: String, after position: CursorSigner.Position?, limit: Int) async throws -> [Design] {
        let rows = try await pools.read { connection in
            var rows: [DesignStatements.Row] = []
            if let position {
                let statement = DesignStatements.NextPage(user: user, createdAt: position.createdAt, id: position.id, limit: limit)
                for try await row in try await connection.execute(statement, logger: logger) { rows.append(row) }
            } else {
                for try await row in try await connection.execute(DesignStatements.FirstPage(user: user, limit: limit), logger: logger) {
                    rows.append(row)
                }
            }
            return rows
        }
        return rows.map(design)
    }

    func get(user: String, id: UUID) async throws -> Design? {
        let rows = try await pools.write { connection in
            var rows: [DesignStatements.Row] = []
            for try await row in try await connection.execute(DesignStatements.One(id: id, user: user), logger: logger) { rows.append(row) }
            return rows
        }
        return rows.first.map(design)
    }

    func create(user: String, input: DesignInput) async throws -> Design {
        let notes = try input.privateNotes.map(cipher.seal)
        let document = try documentText(input.document)
        return try await pools.write { connection in
            let rows = try await connection.query(
                """
                INSERT INTO saved_designs (id, user_id, name, document, private_notes)
                VALUES (\(UUID()), \(user), \(input.name), \(document)::jsonb, \(notes))
                RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            guard let design = try await decode(rows).first else {
                throw APIError(.internalServerError, code: "internal_error", "insert returned nothing")
            }
            return design
        }
    }

    func replace(user: String, id: UUID, input: DesignInput) async throws -> Design? {
        let notes = try input.privateNotes.map(cipher.seal)
        let document = try documentText(input.document)
        return try await pools.write { connection in
            let rows = try await connection.query(
                """
                UPDATE saved_designs SET name = \(input.name), document = \(document)::jsonb, private_notes = \(notes), updated_at = now()
                WHERE id = \(id) AND user_id = \(user)
                RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            return try await decode(rows).first
        }
    }

    func delete(user: String, id: UUID) async throws -> Bool {
        try await pools.write { connection in
            let rows = try await connection.query(
                "DELETE FROM saved_designs WHERE id = \(id) AND user_id = \(user) RETURNING id", logger: logger)
            for try await _ in rows.decode(UUID.self) { return true }
            return false
        }
    }

    private func documentText(_ document: JSONValue) throws -> String {
        String(decoding: try APIJSON.encoder.encode(document), as: UTF8.self)
    }

    private func decode(_ rows: PostgresRowSequence) async throws -> [Design] {
        var designs: [Design] = []
        for try await row in rows { designs.append(design(try DesignStatements.Row(row))) }
        return designs
    }

    private func design(_ row: DesignStatements.Row) -> Design {
        var notes: String?
        if let sealedNotes = row.sealedNotes {
            do {
                notes = try cipher.open(sealedNotes)
            } catch {
                // Unreadable notes (a retired key) must not hide the rest of the design.
                logger.error("cannot decrypt private notes", metadata: ["design": .string(row.id.uuidString), "reason": "\(error)"])
            }
        }
        return Design(
            id: row.id, name: row.name, documentJSON: row.documentJSON, privateNotes: notes, createdAt: row.createdAt,
            updatedAt: row.updatedAt)
    }
}
