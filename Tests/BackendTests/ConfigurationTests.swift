import Configuration
import Testing

@testable import Backend

@Suite struct ConfigurationTests {
    private func problems(_ environment: [String: String]) -> [String] {
        switch ServiceConfiguration.load(from: ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: environment))) {
        case .success: return []
        case .failure(let failure): return failure.problems
        }
    }

    @Test func everyProblemIsListedWithoutValues() {
        let secretValues = ["short-jwt", "not-32-chars", "sk_test_leak", "p4ssw0rd"]
        let listed = problems([
            "NODE_ENV": "production",
            "DATABASE_URL": "mysql://root:p4ssw0rd@db/app",
            "DATABASE_POOL_MIN": "20", "DATABASE_POOL_MAX": "10",
            "JWT_SECRET": "short-jwt",
            "ENCRYPTION_KEY": "not-32-chars",
            "CLERK_SECRET_KEY": "sk_test_leak",
            "PORT": "http",
            "CORS_ORIGIN": "*",
            "ENABLE_QUEUE": "maybe",
        ])
        #expect(
            listed == [
                "PORT must be a whole number",
                "DATABASE_URL must be a postgresql://user:password@host:port/database URL",
                "JWT_SECRET must be at least 32 characters (it has 9)",
                "REFRESH_TOKEN_SECRET is required",
                "SESSION_SECRET is required",
                "ENCRYPTION_KEY must be exactly 32 characters (it has 12)",
                "CLERK_SECRET_KEY must start with `sk_live_`",
                "ENABLE_QUEUE must be true or false",
                "DATABASE_POOL_MIN must be at most DATABASE_POOL_MAX (20 > 10)",
                "REDIS_URL is required while ENABLE_QUEUE, ENABLE_CACHE or ENABLE_RATE_LIMITING is true",
                "CORS_ORIGIN must list exact https origins in production",
            ])
        for value in secretValues {
            #expect(!listed.joined().contains(value))
        }
    }

    @Test func theMetricsPortMustBeAPortOfItsOwn() {
        let listed = problems(["PORT": "3001", "METRICS_PORT": "3001"]) + problems(["METRICS_PORT": "99999"])
        #expect(listed.contains("METRICS_PORT must differ from PORT (both are 3001); unset it to serve /metrics on PORT"))
        #expect(listed.contains("METRICS_PORT must be between 1 and 65535 (it is 99999)"))
    }

    @Test func aCompleteDevelopmentEnvironmentLoads() throws {
        let configuration = try ServiceConfiguration.load(
            from: ConfigReader(
                provider: EnvironmentVariablesProvider(environmentVariables: [
                    "DATABASE_URL": "postgresql://app:secret@db.internal:5433/pets?sslmode=require",
                    "REDIS_URL": "redis://cache:6379", "JWT_SECRET": String(repeating: "j", count: 32),
                    "REFRESH_TOKEN_SECRET": String(repeating: "r", count: 32), "SESSION_SECRET": String(repeating: "s", count: 32),
                    "ENCRYPTION_KEY": String(repeating: "e", count: 32), "CLERK_SECRET_KEY": "sk_test_x",
                    "CORS_ORIGIN": "https://a.example, https://b.example",
                ]))
        ).get()
        #expect(
            configuration.database.host == "db.internal" && configuration.database.port == 5433 && configuration.database.tls == .require)
        #expect("\(configuration.database)" == "postgresql://app@db.internal:5433/pets")
        #expect("\(configuration.jwtSecret)" == "(sensitive)")
        #expect(configuration.corsOrigins == ["https://a.example", "https://b.example"])
        #expect(configuration.port == 3001 && configuration.poolMax == 10 && configuration.redisPrefix == "pet:")
    }

    @Test func aDatabaseURLMayNameASocketFolderAsLibpqDoes() throws {
        let viaParameter = try DatabaseURL.parse("postgresql://app:pw@/pets?host=/var/run/postgresql&port=5433").get()
        #expect(viaParameter.socketFolder == "/var/run/postgresql" && viaParameter.port == 5433 && viaParameter.database == "pets")
        #expect("\(viaParameter)" == "postgresql://app@/pets?host=/var/run/postgresql&port=5433")
        let viaHost = try DatabaseURL.parse("postgresql://app@%2Ftmp%2Fpg/pets").get()
        #expect(viaHost.socketFolder == "/tmp/pg" && viaHost.port == 5432)
        let overTCP = try DatabaseURL.parse("postgresql://app@db.internal/pets").get()
        #expect(overTCP.socketFolder == nil && overTCP.host == "db.internal")

        for (text, rule) in [
            ("postgresql://app@/pets", "must name a host (or a socket folder: ?host=/var/run/postgresql)"),
            (
                "postgresql://app@/pets?host=db.internal",
                "has a `host` parameter that is not a folder (write the host before the port instead)"
            ),
            ("postgresql://app@/pets?host=/tmp&port=x", "has a `port` parameter that is not a port number"),
        ] {
            guard case .failure(let error) = DatabaseURL.parse(text) else {
                Issue.record("\(text) parsed")
                continue
            }
            #expect(error.rule == rule)
        }
    }
}
