import Configuration
import HTTPTypes

/// Everything the service reads from its environment, by the runbook's variable names.
struct ServiceConfiguration: Sendable {
    enum Runtime: String, Sendable, CaseIterable {
        case development, staging, production
    }

    var runtime: Runtime
    var appName: String
    var host: String
    var port: Int
    /// When set, `/metrics` is served only on this port (a second listener), not on `port`.
    var metricsPort: Int?
    var database: DatabaseURL
    var poolMin: Int
    var poolMax: Int
    var replica: DatabaseURL?
    var replicaPoolMax: Int
    var redisURL: Sensitive?
    var redisTTLSeconds: Int
    var redisPrefix: String
    var jwtSecret: Sensitive
    var refreshTokenSecret: Sensitive
    var sessionSecret: Sensitive
    var encryptionKey: Sensitive
    /// Older keys still accepted for decryption while values are re-encrypted after a rotation.
    var previousEncryptionKeys: [Sensitive]
    var clerkSecretKey: Sensitive
    var clerkJWKSURL: String
    var corsOrigins: [String]
    var shopifyAdminAccessToken: Sensitive?
    var shopifyAdminAPIEndpoint: String?
    var shopifyWebhookSecret: Sensitive?
    var sentryDSN: Sensitive?
    var logLevel: String
    var enableQueue: Bool
    var enableCache: Bool
    /// How long an instance keeps its own copy of a cached design (0: never); bounds how stale a
    /// read on another instance can be after a write.
    var nearCacheMilliseconds: Int
    var enableRateLimiting: Bool
    var enablePerformanceMonitoring: Bool
    /// Requests per minute allowed per client IP, and per signed-in user.
    var rateLimitPerMinute: Int
    var maxBodyBytes: Int
    /// A keep-alive connection with no request for this long is closed (longer than the idle
    /// timeouts of the load balancers in front, so that they, not we, close first).
    var httpIdleTimeoutSeconds: Int
    var buildVersion: String
    /// A header a proxy in front sets to the client's address (Fly-Client-IP, X-Forwarded-For).
    var trustedClientIPHeader: HTTPField.Name?
    /// How many proxies append to a list header (X-Forwarded-For): the client is the entry that
    /// many from the end.
    var trustedProxyHops: Int

    /// Reads and checks every variable, reporting all problems at once without any value.
    static func load(from reader: ConfigReader) -> Result<ServiceConfiguration, ConfigurationProblems> {
        var check = ConfigurationCheck(reader: reader)
        let runtime = check.choice("NODE_ENV", key: "node.env", default: Runtime.development)
        let production = runtime == .production
        let minimumSecret = production ? 32 : 1

        let configuration = ServiceConfiguration(
            runtime: runtime,
            appName: check.string("APP_NAME", key: "app.name", default: "pet-backend"),
            host: check.string("HOST", key: "host", default: "0.0.0.0"),
            port: check.int("PORT", key: "port", default: 3001, in: 1...65535),
            metricsPort: check.optionalInt("METRICS_PORT", key: "metrics.port", in: 1...65535),
            database: check.databaseURL("DATABASE_URL", key: "database.url", required: true)
                ?? DatabaseURL.placeholder,
            poolMin: check.int("DATABASE_POOL_MIN", key: "database.pool.min", default: 2, in: 0...1000),
            poolMax: check.int("DATABASE_POOL_MAX", key: "database.pool.max", default: 10, in: 1...1000),
            replica: check.databaseURL("DATABASE_REPLICA_URL", key: "database.replica.url", required: false),
            replicaPoolMax: check.int("DATABASE_REPLICA_POOL_MAX", key: "database.replica.pool.max", default: 10, in: 1...1000),
            redisURL: check.secret("REDIS_URL", key: "redis.url", required: false, rule: .redisURL),
            redisTTLSeconds: check.int("REDIS_TTL", key: "redis.ttl", default: 3600, in: 1...2_592_000),
            redisPrefix: check.string("REDIS_PREFIX", key: "redis.prefix", default: "pet:"),
            jwtSecret: check.secret("JWT_SECRET", key: "jwt.secret", rule: .minimumLength(max(32, minimumSecret)))
                ?? Sensitive(""),
            refreshTokenSecret: check.secret(
                "REFRESH_TOKEN_SECRET", key: "refresh.token.secret", rule: .minimumLength(max(32, minimumSecret)))
                ?? Sensitive(""),
            sessionSecret: check.secret("SESSION_SECRET", key: "session.secret", rule: .minimumLength(max(32, minimumSecret)))
                ?? Sensitive(""),
            encryptionKey: check.secret("ENCRYPTION_KEY", key: "encryption.key", rule: .exactLength(32)) ?? Sensitive(""),
            previousEncryptionKeys: check.secretList("ENCRYPTION_KEY_PREVIOUS", key: "encryption.key.previous", rule: .exactLength(32)),
            clerkSecretKey: check.secret("CLERK_SECRET_KEY", key: "clerk.secret.key", rule: .prefix(production ? "sk_live_" : "sk_"))
                ?? Sensitive(""),
            clerkJWKSURL: check.string("CLERK_JWKS_URL", key: "clerk.jwks.url", default: "https://api.clerk.com/v1/jwks"),
            corsOrigins: check.list("CORS_ORIGIN", key: "cors.origin"),
            shopifyAdminAccessToken: check.secret(
                "SHOPIFY_ADMIN_ACCESS_TOKEN", key: "shopify.admin.access.token", required: false, rule: .any),
            shopifyAdminAPIEndpoint: check.optionalString("SHOPIFY_ADMIN_API_ENDPOINT", key: "shopify.admin.api.endpoint"),
            shopifyWebhookSecret: check.secret(
                "SHOPIFY_WEBHOOK_SECRET", key: "shopify.webhook.secret", required: false, rule: .minimumLength(8)),
            sentryDSN: check.secret("SENTRY_DSN", key: "sentry.dsn", required: false, rule: .sentryDSN),
            logLevel: check.choice("LOG_LEVEL", key: "log.level", default: LogLevelName.info).rawValue,
            enableQueue: check.bool("ENABLE_QUEUE", key: "enable.queue", default: true),
            enableCache: check.bool("ENABLE_CACHE", key: "enable.cache", default: true),
            nearCacheMilliseconds: check.int("CACHE_LOCAL_TTL_MS", key: "cache.local.ttl.ms", default: 1000, in: 0...60_000),
            enableRateLimiting: check.bool("ENABLE_RATE_LIMITING", key: "enable.rate.limiting", default: true),
            enablePerformanceMonitoring: check.bool("ENABLE_PERFORMANCE_MONITORING", key: "enable.performance.monitoring", default: false),
            rateLimitPerMinute: check.int("RATE_LIMIT_PER_MINUTE", key: "rate.limit.per.minute", default: 600, in: 1...1_000_000),
            maxBodyBytes: check.int("MAX_BODY_BYTES", key: "max.body.bytes", default: 1_048_576, in: 1024...104_857_600),
            httpIdleTimeoutSeconds: check.int("HTTP_IDLE_TIMEOUT_SECONDS", key: "http.idle.timeout.seconds", default: 75, in: 1...3600),
            buildVersion: check.string("BUILD_VERSION", key: "build.version", default: "dev"),
            trustedClientIPHeader: check.headerName("TRUSTED_CLIENT_IP_HEADER", key: "trusted.client.ip.header"),
            trustedProxyHops: check.int("TRUSTED_PROXY_HOPS", key: "trusted.proxy.hops", default: 1, in: 1...10))

        if let metricsPort = configuration.metricsPort, metricsPort == configuration.port {
            check.problem("METRICS_PORT", "must differ from PORT (both are \(metricsPort)); unset it to serve /metrics on PORT")
        }
        if configuration.poolMin > configuration.poolMax {
            check.problem("DATABASE_POOL_MIN", "must be at most DATABASE_POOL_MAX (\(configuration.poolMin) > \(configuration.poolMax))")
        }
        if configuration.redisURL == nil && (configuration.enableQueue || configuration.enableCache || configuration.enableRateLimiting) {
            check.problem("REDIS_URL", "is required while ENABLE_QUEUE, ENABLE_CACHE or ENABLE_RATE_LIMITING is true")
        }
        if production && configuration.corsOrigins.contains(where: { $0 == "*" || $0.hasPrefix("http://") }) {
            check.problem("CORS_ORIGIN", "must list exact https origins in production")
        }
        if let endpoint = configuration.shopifyAdminAPIEndpoint, !(endpoint.hasPrefix("https://") || endpoint.hasPrefix("http://")) {
            check.problem("SHOPIFY_ADMIN_API_ENDPOINT", "must be an http(s) URL")
        }
        guard check.problems.isEmpty else { return .failure(ConfigurationProblems(problems: check.problems)) }
        return .success(configuration)
    }
}

enum LogLevelName: String, CaseIterable, Sendable {
    case trace, debug, info, warn, error, fatal
}

/// Every configuration problem found at start-up, each naming the variable and the rule.
struct ConfigurationProblems: Error, CustomStringConvertible {
    var problems: [String]

    var description: String {
        "invalid configuration:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}
