import Foundation
import PostgresNIO

/// A parsed `postgresql://user:password@host:port/database?sslmode=…`. Its description hides
/// the password. As with libpq, `?host=/a/folder` (or a host that is a percent-encoded folder)
/// connects through the Unix socket `<folder>/.s.PGSQL.<port>` instead of TCP: for a PostgreSQL
/// on the same machine, that costs both sides markedly less per query than loopback TCP.
struct DatabaseURL: Sendable, CustomStringConvertible {
    enum TLSMode: String, Sendable {
        case disable, prefer, require
    }

    /// A host name or address, or (starting with `/`) the folder holding PostgreSQL's socket.
    var host: String
    var port: Int
    var username: String
    var password: Sensitive?
    var database: String
    var tls: TLSMode

    static let placeholder = DatabaseURL(
        host: "127.0.0.1", port: 5432, username: "postgres", password: nil, database: "postgres", tls: .disable)

    struct ParseError: Error {
        var rule: String
    }

    static func parse(_ text: String) -> Result<DatabaseURL, ParseError> {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            ["postgres", "postgresql"].contains(scheme)
        else {
            return .failure(ParseError(rule: "must be a postgresql://user:password@host:port/database URL"))
        }
        let hostParameter = components.queryItems?.first(where: { $0.name == "host" })?.value
        let host = hostParameter ?? components.host.map { $0.removingPercentEncoding ?? $0 } ?? ""
        guard !host.isEmpty else {
            return .failure(ParseError(rule: "must name a host (or a socket folder: ?host=/var/run/postgresql)"))
        }
        var port = components.port ?? 5432
        if let portParameter = components.queryItems?.first(where: { $0.name == "port" })?.value {
            guard let number = Int(portParameter), (1...65535).contains(number) else {
                return .failure(ParseError(rule: "has a `port` parameter that is not a port number"))
            }
            port = number
        }
        if hostParameter != nil, !host.hasPrefix("/") {
            return .failure(ParseError(rule: "has a `host` parameter that is not a folder (write the host before the port instead)"))
        }
        guard let user = components.user, !user.isEmpty else {
            return .failure(ParseError(rule: "must name a user"))
        }
        let database = String(components.path.drop { $0 == "/" })
        var mode = TLSMode.prefer
        if let sslmode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value {
            switch sslmode {
            case "disable": mode = .disable
            case "allow", "prefer": mode = .prefer
            case "require", "verify-ca", "verify-full": mode = .require
            default: return .failure(ParseError(rule: "has an unknown sslmode (use disable, prefer or require)"))
            }
        }
        return .success(
            DatabaseURL(
                host: host, port: port, username: user.removingPercentEncoding ?? user,
                password: components.password.map { Sensitive($0.removingPercentEncoding ?? $0) },
                database: database.isEmpty ? user : database, tls: mode))
    }

    func clientConfiguration(poolMin: Int, poolMax: Int) -> PostgresClient.Configuration {
        let tlsConfiguration: PostgresClient.Configuration.TLS
        switch tls {
        case .disable: tlsConfiguration = .disable
        case .prefer: tlsConfiguration = .prefer(.makeClientConfiguration())
        case .require: tlsConfiguration = .require(.makeClientConfiguration())
        }
        var configuration =
            if let socketFolder {
                PostgresClient.Configuration(
                    unixSocketPath: "\(socketFolder)/.s.PGSQL.\(port)", username: username, password: password?.revealed, database: database
                )
            } else {
                PostgresClient.Configuration(
                    host: host, port: port, username: username, password: password?.revealed, database: database, tls: tlsConfiguration)
            }
        configuration.options.minimumConnections = poolMin
        configuration.options.maximumConnections = poolMax
        configuration.options.connectTimeout = .seconds(3)
        return configuration
    }

    /// The folder holding PostgreSQL's socket, when connecting through it.
    var socketFolder: String? { host.hasPrefix("/") ? host : nil }

    var description: String {
        if let socketFolder { return "postgresql://\(username)@/\(database)?host=\(socketFolder)&port=\(port)" }
        return "postgresql://\(username)@\(host):\(port)/\(database)"
    }
}
