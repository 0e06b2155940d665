import Prometheus

/// The service's Prometheus metrics, in a registry of its own (not the global MetricsSystem),
/// so every application instance, including each test's, counts for itself.
final class ServiceMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let cacheHits: Counter
    let cacheMisses: Counter
    let rateLimitRejections: Counter
    let replicaFallbacks: Counter
    let queueDepth: Gauge
    let designRequests: Counter

    static let latencyBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(200), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5),
    ]

    init() {
        cacheHits = registry.makeCounter(name: "cache_hits_total", help: "Design reads answered from Redis.")
        cacheMisses = registry.makeCounter(name: "cache_misses_total", help: "Design reads that went to PostgreSQL.")
        rateLimitRejections = registry.makeCounter(name: "rate_limit_rejections_total", help: "Requests refused with 429.")
        replicaFallbacks = registry.makeCounter(
            name: "db_replica_fallbacks_total", help: "Reads sent to the primary because the replica failed.")
        queueDepth = registry.makeGauge(name: "queue_depth", help: "Jobs in the Redis stream, as last measured.")
        designRequests = registry.makeCounter(name: "designs_api_requests_total", help: "Requests to the designs API.")
    }

    func requests(method: String, route: String, status: Int) -> Counter {
        registry.makeCounter(
            name: "http_requests_total", labels: [("method", method), ("route", route), ("status", String(status))],
            help: "HTTP requests by route, method and status.")
    }

    func latency(method: String, route: String) -> DurationHistogram {
        registry.makeDurationHistogram(
            name: "http_request_duration_seconds", labels: [("method", method), ("route", route)], buckets: Self.latencyBuckets,
            help: "HTTP request latency.")
    }

    func poolInUse(role: String) -> Gauge {
        registry.makeGauge(name: "db_pool_connections_in_use", labels: [("pool", role)], help: "Connections lent out of the pool.")
    }

    func poolCapacity(role: String) -> Gauge {
        registry.makeGauge(name: "db_pool_connections_max", labels: [("pool", role)], help: "The pool's maximum size.")
    }

    func designRequests(operation: String) -> Counter {
        registry.makeCounter(
            name: "designs_api_operations_total", labels: [("operation", operation)], help: "Designs API calls by operation.")
    }

    func jobs(kind: String, outcome: String) -> Counter {
        registry.makeCounter(
            name: "queue_jobs_total", labels: [("kind", kind), ("outcome", outcome)], help: "Jobs processed by kind and outcome.")
    }

    func render() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(8192)
        registry.emit(into: &buffer)
        return buffer
    }
}
