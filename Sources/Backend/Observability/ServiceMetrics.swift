import Prometheus
import Synchronization

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
    /// Labelled handles by their labels: the registry's lookup (a lock, a dictionary of label
    /// arrays) was several per cent of a cached read.
    private let counters = Mutex<[String: Counter]>([:])
    private let histograms = Mutex<[String: DurationHistogram]>([:])

    static let latencyBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(200), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5),
    ]

    init() {
        cacheHits = registry.makeCounter(
            descriptor: .init(metricName: "cache_hits", unitName: "total", helpText: "Design reads answered from Redis."))
        cacheMisses = registry.makeCounter(
            descriptor: .init(metricName: "cache_misses", unitName: "total", helpText: "Design reads that went to PostgreSQL."))
        rateLimitRejections = registry.makeCounter(
            descriptor: .init(metricName: "rate_limit_rejections", unitName: "total", helpText: "Requests refused with 429."))
        replicaFallbacks = registry.makeCounter(
            descriptor: .init(
                metricName: "db_replica_fallbacks", unitName: "total", helpText: "Reads sent to the primary because the replica failed."))
        queueDepth = registry.makeGauge(
            descriptor: .init(metricName: "queue", unitName: "depth", helpText: "Jobs in the Redis stream, as last measured."))
        designRequests = registry.makeCounter(
            descriptor: .init(metricName: "designs_api_requests", unitName: "total", helpText: "Requests to the designs API."))
    }

    func requests(method: String, route: String, status: Int) -> Counter {
        counter("requests \(method) \(route) \(status)") {
            registry.makeCounter(
                descriptor: .init(metricName: "http_requests", unitName: "total", helpText: "HTTP requests by route, method and status."),
                labels: [("method", method), ("route", route), ("status", String(status))])
        }
    }

    /// A designs API call, in total and by operation.
    func countDesignRequest(_ operation: String) {
        designRequests.increment()
        designRequests(operation: operation).increment()
    }

    /// One request's count and latency, whichever path answered it.
    func recordRequest(method: String, route: String, status: Int, since started: ContinuousClock.Instant) {
        requests(method: method, route: route, status: status).increment()
        latency(method: method, route: route).record(ContinuousClock.now - started)
    }

    func latency(method: String, route: String) -> DurationHistogram {
        let key = "\(method) \(route)"
        if let known = histograms.withLock({ $0[key] }) { return known }
        let made = registry.makeDurationHistogram(
            descriptor: .init(metricName: "http_request_duration", unitName: "seconds", helpText: "HTTP request latency."),
            labels: [("method", method), ("route", route)], buckets: Self.latencyBuckets)
        histograms.withLock { $0[key] = made }
        return made
    }

    private func counter(_ key: String, make: () -> Counter) -> Counter {
        if let known = counters.withLock({ $0[key] }) { return known }
        let made = make()
        counters.withLock { $0[key] = made }
        return made
    }

    func poolInUse(role: String) -> Gauge {
        registry.makeGauge(
            descriptor: .init(metricName: "db_pool_connections", unitName: "in_use", helpText: "Connections lent out of the pool."),
            labels: [("pool", role)])
    }

    func poolCapacity(role: String) -> Gauge {
        registry.makeGauge(
            descriptor: .init(metricName: "db_pool_connections", unitName: "max", helpText: "The pool's maximum size."),
            labels: [("pool", role)])
    }

    func designRequests(operation: String) -> Counter {
        counter("designs \(operation)") {
            registry.makeCounter(
                descriptor: .init(metricName: "designs_api_operations", unitName: "total", helpText: "Designs API calls by operation."),
                labels: [("operation", operation)])
        }
    }

    func jobs(kind: String, outcome: String) -> Counter {
        registry.makeCounter(
            descriptor: .init(metricName: "queue_jobs", unitName: "total", helpText: "Jobs processed by kind and outcome."),
            labels: [("kind", kind), ("outcome", outcome)])
    }

    func render() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(8192)
        registry.emit(into: &buffer)
        return buffer
    }
}
