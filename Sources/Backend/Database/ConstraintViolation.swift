import PostgresNIO

/// A write the database refused for breaking one of its rules (a CHECK, NOT NULL, UNIQUE or
/// foreign key: SQLSTATE class 23). That is the request's fault, never a 500; the service's own
/// validation should have caught it first, so it is also logged as a gap.
enum ConstraintViolation {
    /// The constraint's name, when `error` is such a refusal.
    static func constraint(in error: any Error) -> String? {
        guard let error = error as? PSQLError, let state = error.serverInfo?[.sqlState], state.hasPrefix("23") else { return nil }
        return error.serverInfo?[.constraintName] ?? state
    }
}
