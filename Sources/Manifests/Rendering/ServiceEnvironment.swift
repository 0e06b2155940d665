/// The plain (non-secret) environment variables of `pet-backend`, by the names its runbook uses.
/// Fly's `[env]`, the Kubernetes ConfigMap and the local platform all set exactly these.
public enum ServiceEnvironment {
    public static func variables(for spec: EnvironmentSpec) -> [(name: String, value: String)] {
        var variables: [(name: String, value: String)] = [
            ("NODE_ENV", spec.app.runtime.rawValue),
            ("APP_NAME", spec.app.name),
            ("PORT", String(spec.app.port)),
            ("HOST", spec.app.host),
        ]
        if let metricsPort = spec.health.metricsPort {
            variables.append(("METRICS_PORT", String(metricsPort)))
        }
        variables += [
            ("LOG_LEVEL", spec.app.logLevel.rawValue),
            ("DATABASE_POOL_MIN", String(spec.database.pool.min)),
            ("DATABASE_POOL_MAX", String(spec.database.pool.max)),
        ]
        if let replica = spec.database.readReplica {
            variables.append(("DATABASE_REPLICA_POOL_MAX", String(replica.poolMax)))
        }
        variables += [
            ("REDIS_TTL", String(spec.redis.ttl.seconds)),
            ("REDIS_PREFIX", spec.redis.keyPrefix),
            ("CORS_ORIGIN", spec.cors.origins.joined(separator: ",")),
            ("ENABLE_QUEUE", String(spec.features.queue)),
            ("ENABLE_CACHE", String(spec.features.cache)),
            ("ENABLE_RATE_LIMITING", String(spec.features.rateLimiting)),
            ("ENABLE_PERFORMANCE_MONITORING", String(spec.features.performanceMonitoring)),
        ]
        if let endpoint = spec.integrations.shopifyAdminAPIEndpoint {
            variables.append(("SHOPIFY_ADMIN_API_ENDPOINT", endpoint))
        }
        return variables
    }
}
