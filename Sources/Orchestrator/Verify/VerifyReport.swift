import Foundation

/// One verify run as the command prints it: a table of percentiles and a histogram on a
/// terminal, plain lines in CI, JSON for scripts.
struct VerifyReport: Codable, Sendable {
    struct Percentile: Codable, Sendable {
        var percentile: Double
        var latencyMilliseconds: Double
        var serviceTimeMilliseconds: Double
    }

    struct Bucket: Codable, Sendable {
        var upToMilliseconds: Double?
        var count: UInt64
    }

    var environment: String
    var target: String
    var release: String?
    var endpoints: [String]
    var load: String
    var passed: Bool
    var objectives: [ObjectiveResult]
    var intended: Int
    var sent: Int
    var answered: Int
    var failed: Int
    var failures: [String: Int]
    var scenarios: [String: LoadResult.ScenarioCount]
    var throughput: Double
    var maxInFlight: Int
    var percentiles: [Percentile]
    var histogram: [Bucket]
    var generatorCPUPercent: Double

    static let shownPercentiles = [50.0, 90, 95, 99, 99.9, 100]
    /// Bucket edges in microseconds: roughly three per decade, as people read latencies.
    static let bucketEdges: [UInt64] = [
        1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000,
    ]

    init(
        environment: String, target: String, release: String?, endpoints: [String], load: String, result: LoadResult,
        objectives: [ObjectiveResult]
    ) {
        self.environment = environment
        self.target = target
        self.release = release
        self.endpoints = endpoints
        self.load = load
        self.objectives = objectives
        passed = objectives.allSatisfy(\.passed)
        intended = result.intended
        sent = result.sent
        answered = result.answered
        failed = result.failed
        failures = result.failures
        scenarios = result.perScenario
        throughput = result.throughput
        maxInFlight = result.maxInFlight
        percentiles = Self.shownPercentiles.map { percentile in
            Percentile(
                percentile: percentile,
                latencyMilliseconds: result.answered == 0 ? 0 : Double(result.latency.valueAtPercentile(percentile)) / 1000,
                serviceTimeMilliseconds: result.answered == 0 ? 0 : Double(result.serviceTime.valueAtPercentile(percentile)) / 1000)
        }
        var buckets: [Bucket] = []
        var lower: UInt64 = 0
        for edge in Self.bucketEdges + [UInt64.max] {
            let count = result.answered == 0 ? 0 : result.latency.count(within: lower...(edge == .max ? edge : edge - 1))
            buckets.append(Bucket(upToMilliseconds: edge == .max ? nil : Double(edge) / 1000, count: count))
            lower = edge
        }
        // Empty buckets past the last one used say nothing.
        while let last = buckets.last, last.count == 0, buckets.count > 1 { buckets.removeLast() }
        histogram = buckets
        generatorCPUPercent = result.wallSeconds > 0 ? result.cpuSeconds / result.wallSeconds * 100 : 0
    }

    func text(styled: Bool) -> String {
        var lines = [
            "verify \(environment) on \(target)\(release.map { ": \($0)" } ?? ""), \(load)",
            "  endpoints: \(endpoints.joined(separator: " "))",
            "  requests: \(intended) due, \(sent) sent, \(answered) answered, \(failed) failed "
                + "(\(Format.percent(intended == 0 ? 0 : Double(failed) / Double(intended) * 100))); "
                + "throughput \(Format.number(throughput))/s; most in flight \(maxInFlight)",
        ]
        for (reason, count) in failures.sorted(by: { $0.value > $1.value }) {
            lines.append("    \(count) × \(reason)")
        }
        var rows = [["", "p50", "p90", "p95", "p99", "p99.9", "max"]]
        rows.append(["latency"] + percentiles.map { Format.latency(UInt64($0.latencyMilliseconds * 1000)) })
        rows.append(["service time"] + percentiles.map { Format.latency(UInt64($0.serviceTimeMilliseconds * 1000)) })
        lines.append(Table.render(rows).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        lines.append("  (latency counts from when each request was due; service time from when it was written)")
        if styled, answered > 0 {
            let most = histogram.map(\.count).max() ?? 1
            for bucket in histogram {
                let label = bucket.upToMilliseconds.map { "< \(Format.latency(UInt64($0 * 1000)))" } ?? "longer"
                let bar = String(repeating: "█", count: Int((Double(bucket.count) / Double(max(most, 1)) * 40).rounded(.up)))
                lines.append("  \(label.padding(toLength: 8, withPad: " ", startingAt: 0)) \(bar) \(bucket.count)")
            }
        }
        for objective in objectives {
            let mark = styled ? (objective.passed ? "\u{1B}[32m✓\u{1B}[0m" : "\u{1B}[31m✗\u{1B}[0m") : (objective.passed ? "PASS" : "FAIL")
            lines.append("  \(mark) \(objective.sentence)")
        }
        lines.append(
            passed
                ? "\(environment): every objective holds" : "\(environment): \(objectives.filter { !$0.passed }.count) objective(s) missed")
        return lines.joined(separator: "\n")
    }

    func record(by actor: String) -> VerificationRecord {
        func milliseconds(_ percentile: Double) -> Double {
            percentiles.first { $0.percentile == percentile }?.latencyMilliseconds ?? 0
        }
        return VerificationRecord(
            verifiedAt: Date(), verifiedBy: actor, passed: passed, load: load, requests: intended, p50Milliseconds: milliseconds(50),
            p95Milliseconds: milliseconds(95), p99Milliseconds: milliseconds(99),
            errorRate: intended == 0 ? 0 : Double(failed) / Double(intended) * 100, throughput: throughput,
            missed: objectives.filter { !$0.passed }.map(\.sentence))
    }
}
