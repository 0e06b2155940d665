import Logging
import PostgresNIO

/// A row per sensitive operation: who did what to which subject, under which request.
struct AuditLog: Sendable {
    let pools: DatabasePools
    let logger: Logger

    func record(actor: String, action: String, subject: String?, requestID: String?, details: String = "{}") async {
        do {
            try await pools.write { connection in
                try await connection.query(
                    """
                    INSERT INTO audit_log (actor, action, subject, request_id, details)
                    VALUES (\(actor), \(action), \(subject), \(requestID), \(details)::jsonb)
                    """, logger: logger)
            }
        } catch {
            logger.error(
                "cannot write the audit log", metadata: ["action": .string(action), "error": "\(String(reflecting: type(of: error)))"])
        }
    }
}
