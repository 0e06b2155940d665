import Foundation

/// A `postgres://` URL taken apart so that its password goes to libpq through `PGPASSWORD`, never
/// on a command line that `ps` shows, and so that the same server's other databases can be named.
public struct DatabaseURL: Sendable, CustomStringConvertible {
    private var components: URLComponents

    public init(_ text: String) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            ["postgres", "postgresql"].contains(scheme), components.host?.isEmpty == false
        else {
            throw BackupError(
                "the database URL is not a postgres:// URL with a host", fix: "write postgres://USER:PASSWORD@HOST:PORT/DATABASE")
        }
        self.components = components
    }

    public var database: String {
        let name = String(components.path.drop(while: { $0 == "/" }))
        return name.isEmpty ? (components.user ?? "postgres") : name
    }

    public var password: String? { components.password.map { $0.removingPercentEncoding ?? $0 } }

    /// The URL without its password, for command lines and messages.
    public var withoutPassword: String {
        var copy = components
        copy.password = nil
        return copy.string ?? ""
    }

    public var description: String { withoutPassword }

    /// The same server and user, another database.
    public func naming(_ database: String) -> DatabaseURL {
        var copy = self
        copy.components.path = "/" + database
        return copy
    }

    /// libpq's environment for this URL: the password, and nothing read from ~/.pgpass.
    var environment: [String: String] {
        var values = ["PATH": "/usr/bin:/bin", "PGCONNECT_TIMEOUT": "10", "PGPASSFILE": "/nonexistent/pgpass"]
        if let password { values["PGPASSWORD"] = password }
        return values
    }
}
