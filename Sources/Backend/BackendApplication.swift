import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import PostgresNIO
import RESP
import ServiceLifecycle

/// Wires the service together: pools, Redis, tokens, routes and middleware, and the background
/// services (database pools, the job worker, partition upkeep) that run beside the HTTP server.
struct BackendApplication: Sendable {
    let configuration: ServiceConfiguration
    let logger: Logger
    let pools: DatabasePools
    let redis: RedisClient?
    let metrics: ServiceMetrics
    let queue: JobQueue?
    let handlers: JobHandlers
    let responder: RouterResponder<AppRequestContext>
    /// Requests answered in the channel pipeline when they can be (see `EarlyAnswerHandler`).
    let earlyAnswerers: [EarlyAnswerHandler.Answerer]

    static func make(_ configuration: ServiceConfiguration, logger: Logger, httpClient: HTTPClient = .shared) async throws
        -> BackendApplication
    {
        let metrics = ServiceMetrics()
        let pools = DatabasePools(configuration: configuration, metrics: metrics, logger: logger)
        let redis = try configuration.redisURL.map { url in
            RedisClient(configuration: try RedisConfiguration(url: url.revealed))
        }
        let queue = configuration.enableQueue ? redis.map { JobQueue(redis: $0, prefix: configuration.redisPrefix) } : nil
        let audit = AuditLog(pools: pools, logger: logger)
        let analytics = AnalyticsStore(pools: pools, logger: logger)
        var shopify: ShopifyAdminClient?
        if let endpoint = configuration.shopifyAdminAPIEndpoint, let token = configuration.shopifyAdminAccessToken {
            shopify = ShopifyAdminClient(endpoint: endpoint, token: token, httpClient: httpClient)
        }
        let handlers = JobHandlers(pools: pools, analytics: analytics, shopify: shopify, logger: logger)
        let tokens = await TokenService.make(jwtSecret: configuration.jwtSecret, refreshSecret: configuration.refreshTokenSecret)
        let clerk = ClerkVerifier(
            jwksURL: configuration.clerkJWKSURL, secretKey: configuration.clerkSecretKey, allowedParties: Set(configuration.corsOrigins),
            httpClient: httpClient, logger: logger)
        let reporter = configuration.sentryDSN.flatMap { SentryDSN($0.revealed) }.map {
            ErrorReporter(
                dsn: $0, environment: configuration.runtime.rawValue, release: configuration.buildVersion, httpClient: httpClient,
                logger: logger)
        }

        let router = Router(context: AppRequestContext.self)
        let policy = ResponsePolicy(
            allowedOrigins: Set(configuration.corsOrigins), strictTransportSecurity: configuration.runtime == .production)
        router.add(middleware: RequestIdentityMiddleware(reporter: reporter, policy: policy))
        router.add(middleware: RequestMetricsMiddleware(metrics: metrics))
        router.add(middleware: ResponsePolicyMiddleware(policy: policy))
        HealthRoutes(
            pools: pools, redis: redis, redisRequired: false, queue: queue, migrator: Migrator(pools: pools, logger: logger),
            metrics: metrics,
            buildVersion: configuration.buildVersion
        ).register(on: router, withMetrics: configuration.metricsPort == nil)
        router.get("openapi.yaml") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
        }
        let limiter =
            configuration.enableRateLimiting
            ? redis.map {
                RateLimitMiddleware(
                    limiter: RateLimiter(
                        redis: $0, prefix: configuration.redisPrefix, limit: configuration.rateLimitPerMinute, period: .seconds(60)),
                    metrics: metrics, scope: .clientAddress, trustedClientIPHeader: configuration.trustedClientIPHeader,
                    trustedProxyHops: configuration.trustedProxyHops)
            } : nil
        let webhooks = router.group()
        if let limiter { webhooks.add(middleware: limiter) }
        ShopifyWebhookRoutes(
            secret: configuration.shopifyWebhookSecret, pools: pools, queue: queue, handlers: handlers, audit: audit, logger: logger,
            maxBodyBytes: configuration.maxBodyBytes
        ).register(on: webhooks)
        let verified = VerifiedTokens()
        let api = router.group("api")
        if let limiter { api.add(middleware: limiter) }
        api.add(middleware: AuthenticationMiddleware(tokens: tokens, clerk: clerk, verified: verified))
        if var perUser = limiter {
            perUser.scope = .user
            api.add(middleware: perUser)
        }
        let cache = DesignCache(
            redis: configuration.enableCache ? redis : nil, prefix: configuration.redisPrefix, ttlSeconds: configuration.redisTTLSeconds,
            near: configuration.nearCacheMilliseconds > 0 ? NearCache(lifetime: .milliseconds(configuration.nearCacheMilliseconds)) : nil,
            metrics: metrics, logger: logger)
        DesignRoutes(
            store: DesignStore(
                pools: pools,
                cipher: FieldCipher(currentKey: configuration.encryptionKey, previousKeys: configuration.previousEncryptionKeys),
                logger: logger),
            cache: cache, cursors: CursorSigner(secret: configuration.sessionSecret), audit: audit, metrics: metrics,
            maxBodyBytes: configuration.maxBodyBytes
        ).register(on: api)
        AnalyticsRoutes(store: analytics, queue: queue, maxBodyBytes: configuration.maxBodyBytes).register(on: api)
        AuthRoutes(tokens: tokens, pools: pools, audit: audit, logger: logger, maxBodyBytes: configuration.maxBodyBytes).register(on: api)

        var earlyAnswerers = [EarlyAnswerHandler.liveness]
        // A limited request needs Redis's verdict first, which the pipeline cannot wait for.
        if limiter == nil, cache.near != nil {
            let shortcut = CachedDesignShortcut(cache: cache, verified: verified, policy: policy, metrics: metrics, logger: logger)
            earlyAnswerers.append(shortcut.answer)
        }
        return BackendApplication(
            configuration: configuration, logger: logger, pools: pools, redis: redis, metrics: metrics, queue: queue, handlers: handlers,
            responder: router.buildResponder(), earlyAnswerers: earlyAnswerers)
    }

    /// The HTTP application, with `/healthz` (and near-cached designs) answered before any
    /// middleware: a liveness probe needs none of it, and it is the most frequent request a
    /// platform sends.
    func application(services extra: [any Service] = []) -> some ApplicationProtocol {
        var services: [any Service] = pools.clients
        services.append(PartitionUpkeep(partitions: Partitions(pools: pools, logger: logger), logger: logger))
        if pools.replica != nil { services.append(ReplicaMonitor(pools: pools, logger: logger)) }
        if let queue {
            services.append(JobWorker(queue: queue, handlers: handlers, metrics: metrics, logger: logger))
        }
        if let redis { services.append(RedisShutdown(redis: redis)) }
        if let metricsPort = configuration.metricsPort {
            services.append(metricsListener(port: metricsPort))
        }
        return Application(
            responder: LivenessShortcut(next: responder),
            server: .http1(
                configuration: .init(additionalChannelHandlers: [
                    EarlyAnswerHandler(
                        serverName: configuration.appName, idleTimeout: .seconds(Int64(configuration.httpIdleTimeoutSeconds)),
                        answerers: earlyAnswerers)
                ])),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: configuration.appName),
            services: services + extra,
            logger: logger)
    }
}

extension BackendApplication {
    /// `/metrics` alone, on a port the platform scrapes privately (Fly's `[metrics]`, a pod
    /// port the Service does not route); everything else there is a 404.
    func metricsListener(port: Int) -> some Service {
        let router = Router()
        HealthRoutes.registerMetrics(metrics, on: router)
        return Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: port), serverName: configuration.appName),
            logger: logger)
    }
}

/// Answers `GET /healthz` with a prepared response and hands everything else to the router;
/// in a live server `EarlyAnswerHandler` answers it earlier still, in the channel pipeline.
struct LivenessShortcut<Next: HTTPResponder>: HTTPResponder where Next.Context == AppRequestContext {
    let next: Next

    func respond(to request: Request, context: AppRequestContext) async throws -> Response {
        if request.uri.path == "/healthz", request.method == .get || request.method == .head {
            return HealthRoutes.liveness()
        }
        return try await next.respond(to: request, context: context)
    }
}

/// Keeps this month's and next month's partitions in place, daily.
struct PartitionUpkeep: Service {
    let partitions: Partitions
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await partitions.ensure()
                } catch {
                    logger.error("cannot create partitions; retrying in a minute", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(60))
                    continue
                }
                try? await Task.sleep(for: .seconds(24 * 3600))
            }
        }
    }
}

/// Keeps the replica's health current for read routing.
struct ReplicaMonitor: Service {
    let pools: DatabasePools
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown { await pools.monitorReplica(logger: logger) }
    }
}

/// Closes the Redis connections when the service stops.
struct RedisShutdown: Service {
    let redis: RedisClient

    func run() async throws {
        try? await gracefulShutdown()
        await redis.shutdown()
    }
}
