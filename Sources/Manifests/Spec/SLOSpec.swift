/// `slo:` — the service-level objectives a rollout is gated on.
public struct SLOSpec: Sendable, Equatable {
    public var p95Latency: SpecDuration
    public var p99Latency: SpecDuration
    public var errorRate: Percentage
    /// The most requests the service may hold at once under verify's load (queueing shows here
    /// before it shows in the percentiles).
    public var maxInFlight: Int? = nil
    /// The fewest answered requests per second verify must see.
    public var minThroughput: Int? = nil
}

extension SLOSpec: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> SLOSpec? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let p95 = map.required("p95Latency", as: SpecDuration.self)
        let p99 = map.required("p99Latency", as: SpecDuration.self)
        let errorRate = map.required("errorRate", in: Percentage(0)...Percentage(100))
        let maxInFlight = map.optional("maxInFlight", in: 1...1_000_000)
        let minThroughput = map.optional("minThroughput", in: 1...1_000_000)
        map.finish()
        guard let p95, let p99, let errorRate else { return nil }
        if p95 > p99 {
            context.error(
                "the p95 objective (\(p95)) is above the p99 objective (\(p99)); a 95th percentile can never exceed the 99th",
                at: context.locations[childPath(path, "p95Latency")], path: childPath(path, "p95Latency"),
                fix: "make p95Latency at most \(p99)")
            return nil
        }
        return SLOSpec(
            p95Latency: p95, p99Latency: p99, errorRate: errorRate, maxInFlight: maxInFlight, minThroughput: minThroughput)
    }
}
