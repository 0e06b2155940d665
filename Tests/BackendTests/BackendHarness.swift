import Configuration
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import RESP
import TestSupport

@testable import Backend

/// A backend wired to the real PostgreSQL and Redis the tests start: a database and a Redis key
/// prefix of its own per harness, so suites run side by side.
struct BackendHarness {
    static let jwtSecret = "test-jwt-secret-0123456789abcdefghijkl"
    static let encryptionKey = "0123456789abcdef0123456789abcdef"
    static let webhookSecret = "shopify-test-secret"

    let postgres: LocalPostgres
    let redis: LocalRedis
    let database: String
    var environment: [String: String]

    init(_ overrides: [String: String] = [:]) async throws {
        postgres = try LocalPostgres.shared.get()
        redis = try LocalRedis.shared.get()
        database = "test_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        let status = try await LocalPostgres.run(
            "/usr/bin/psql", ["-h", "127.0.0.1", "-p", String(postgres.port), "-U", "postgres", "-q", "-c", "CREATE DATABASE \(database)"])
        guard status == 0 else { throw MissingServer(description: "psql could not create \(database)") }
        environment = [
            "NODE_ENV": "development",
            "DATABASE_URL": postgres.url(database: database),
            "REDIS_URL": redis.url,
            "REDIS_PREFIX": "\(database):",
            "JWT_SECRET": Self.jwtSecret,
            "REFRESH_TOKEN_SECRET": "test-refresh-secret-0123456789abcdefgh",
            "SESSION_SECRET": "test-session-secret-0123456789abcdefgh",
            "ENCRYPTION_KEY": Self.encryptionKey,
            "CLERK_SECRET_KEY": "sk_test_local",
            "CLERK_JWKS_URL": "http://127.0.0.1:9/jwks",
            "SHOPIFY_WEBHOOK_SECRET": Self.webhookSecret,
            "CORS_ORIGIN": "https://harnesshe.ro",
            "LOG_LEVEL": "error",
            "ENABLE_QUEUE": "false",
        ]
        environment.merge(overrides) { $1 }
    }

    func configuration() throws -> ServiceConfiguration {
        try ServiceConfiguration.load(from: ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: environment))).get()
    }

    static var quietLogger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }

    /// Migrates the harness's database, then runs `test` against the application with its
    /// background services (pools, worker) running: through the router, or with `.live` a real
    /// server on a port (the channel pipeline exists only there).
    func withApp<T: Sendable>(
        migrate: Bool = true, on setup: TestingSetup = .router,
        _ test: @escaping @Sendable (any TestClientProtocol, BackendApplication) async throws -> T
    ) async throws -> T {
        if migrate { try await migrateDatabase() }
        let backend = try await BackendApplication.make(try configuration(), logger: Self.quietLogger)
        return try await backend.application().test(setup) { client in try await test(client, backend) }
    }

    /// Migrates with pools of its own: a PostgresClient runs once, and the app's run as a service.
    func migrateDatabase() async throws {
        let pools = DatabasePools(configuration: try configuration(), metrics: ServiceMetrics(), logger: Self.quietLogger)
        _ = try await withDatabase(pools) {
            try await Migrator(pools: pools, logger: Self.quietLogger).migrate()
            return try await Partitions(pools: pools, logger: Self.quietLogger).ensure().count
        }
    }

    /// Runs SQL on the harness's database and returns the first column of each row as text.
    func query(_ sql: String) async throws -> [String] {
        let output = NSTemporaryDirectory() + "psql-\(UUID().uuidString).txt"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let status = try await LocalPostgres.run(
            "/usr/bin/psql",
            ["-h", "127.0.0.1", "-p", String(postgres.port), "-U", "postgres", "-d", database, "-At", "-c", sql, "-o", output])
        guard status == 0 else { throw MissingServer(description: "psql failed: \(sql)") }
        return ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    static func accessToken(for user: String, secret: String = jwtSecret, now: Date = Date()) async throws -> String {
        let tokens = await TokenService.make(
            jwtSecret: Sensitive(secret), refreshSecret: Sensitive("test-refresh-secret-0123456789abcdefgh"))
        return try await tokens.accessToken(for: user, now: now)
    }
}

extension HTTPFields {
    static func bearer(_ token: String, json: Bool = true) -> HTTPFields {
        var fields: HTTPFields = [.authorization: "Bearer \(token)"]
        if json { fields[.contentType] = "application/json" }
        return fields
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    func json() throws -> [String: Any] {
        (try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]) ?? [:]
    }
}
