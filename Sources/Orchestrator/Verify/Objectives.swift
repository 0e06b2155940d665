import Manifests

/// One threshold of the spec's `slo`, as measured.
struct ObjectiveResult: Codable, Equatable, Sendable {
    var name: String
    /// The spec's limit and the measured value, as a person reads them (`500ms`, `1%`).
    var limit: String
    var measured: String
    var passed: Bool
    /// How far past the limit, when it failed (`112ms`, `0.4 points`).
    var over: String?

    var sentence: String {
        passed
            ? "\(name) \(measured) within \(limit)"
            : "\(name) \(measured) misses \(limit)\(over.map { " by \($0)" } ?? "")"
    }
}

/// The spec's objectives checked against a load run, k6-style: each a threshold that holds or not.
enum Objectives {
    static func evaluate(_ result: LoadResult, against slo: SLOSpec) -> [ObjectiveResult] {
        var results = [
            latency("p95 latency", percentile: 95, of: result, limit: slo.p95Latency),
            latency("p99 latency", percentile: 99, of: result, limit: slo.p99Latency),
        ]
        let rate = result.errorRate * 100
        results.append(
            ObjectiveResult(
                name: "error rate", limit: "≤ \(slo.errorRate)", measured: Format.percent(rate), passed: rate <= slo.errorRate.value,
                over: rate <= slo.errorRate.value ? nil : "\(Format.number(rate - slo.errorRate.value)) points"))
        if let most = slo.maxInFlight {
            results.append(
                ObjectiveResult(
                    name: "requests in flight", limit: "≤ \(most)", measured: String(result.maxInFlight),
                    passed: result.maxInFlight <= most, over: result.maxInFlight <= most ? nil : String(result.maxInFlight - most)))
        }
        if let least = slo.minThroughput {
            let throughput = result.throughput
            let passed = throughput >= Double(least)
            results.append(
                ObjectiveResult(
                    name: "throughput", limit: "≥ \(least)/s", measured: "\(Format.number(throughput))/s", passed: passed,
                    over: passed ? nil : "\(Format.number(Double(least) - throughput))/s short"))
        }
        return results
    }

    private static func latency(_ name: String, percentile: Double, of result: LoadResult, limit: SpecDuration) -> ObjectiveResult {
        let limitMicroseconds = UInt64(limit.milliseconds) * 1000
        guard result.answered > 0 else {
            return ObjectiveResult(name: name, limit: "≤ \(limit)", measured: "no answers", passed: false, over: nil)
        }
        let measured = result.latency.valueAtPercentile(percentile)
        let passed = measured <= limitMicroseconds
        return ObjectiveResult(
            name: name, limit: "≤ \(limit)", measured: Format.latency(measured), passed: passed,
            over: passed ? nil : Format.latency(measured - limitMicroseconds))
    }
}

/// Numbers as the verify report prints them.
enum Format {
    /// Microseconds as `850µs`, `12.3ms` or `1.52s`.
    static func latency(_ microseconds: UInt64) -> String {
        if microseconds < 1000 { return "\(microseconds)µs" }
        if microseconds < 1_000_000 { return "\(number(Double(microseconds) / 1000))ms" }
        return "\(number(Double(microseconds) / 1_000_000, digits: 2))s"
    }

    static func percent(_ value: Double) -> String {
        "\(number(value, digits: 2))%"
    }

    /// At most `digits` decimals, trailing zeros dropped.
    static func number(_ value: Double, digits: Int = 1) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        if rounded == rounded.rounded(), abs(rounded) < 1e15 { return String(Int64(rounded)) }
        var text = String(rounded)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }
}
