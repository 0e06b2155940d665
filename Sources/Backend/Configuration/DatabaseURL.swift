import Foundation
import PostgresNIO

/// A parsed `postgresql://user:password@host:port/database?sslmode=…`. Its description hides
/// the password.
struct DatabaseURL: Sendable, CustomStringConvertible {
    enum TLSMode: String, Sendable {
        case disable, prefer, require
    }

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
        guard let host = components.host, !host.isEmpty else {
            return .failure(ParseError(rule: "must name a host"))
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
                host: host, port: components.port ?? 5432, username: user.removingPercentEncoding ?? user,
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
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password?.revealed, database: database, tls: tlsConfiguration)
        configuration.options.minimumConnections = poolMin
        configuration.options.maximumConnections = poolMax
        configuration.options.connectTimeout = .seconds(3)
        return configuration
    }

    var description: String { "postgresql://\(username)@\(host):\(port)/\(database)" }
}
