import Histogram

/// What one run of the generator saw in its measured window (warm-up excluded).
struct LoadResult: Sendable {
    /// Microseconds from when each request was due (open loop) or sent (closed loop) to its answer.
    var latency = LoadResult.histogram()
    /// Microseconds from when each request was written to its answer: what a closed-loop tool
    /// reports, shown beside `latency` to make queueing visible.
    var serviceTime = LoadResult.histogram()
    /// Requests due in the window (open loop) or sent in it (closed loop).
    var intended = 0
    /// Requests written to a connection.
    var sent = 0
    /// Answers received, whatever their status.
    var answered = 0
    /// Requests that did not meet their scenario's expectation, by reason.
    var failures: [String: Int] = [:]
    var perScenario: [String: ScenarioCount] = [:]
    /// The most requests written and not yet answered at one time.
    var maxInFlight = 0
    var measuredSeconds = 0.0
    /// Microseconds from when the generator's timer got to each request to its answer: `latency`
    /// less the generator's own lag (waiting for a connection still counts). Where the two give
    /// different verdicts, the machine running verify decided, not the service.
    var latencyFromDispatch = LoadResult.histogram()
    /// How late the generator's own timer fired, in microseconds: large values mean the machine
    /// could not keep up with the rate, not that the server was slow.
    var schedulerLateness = LoadResult.histogram()
    /// CPU seconds the generator's thread used until the end of the window, against the wall
    /// time to then: near 1, the generator, not the server, set the pace.
    var cpuSeconds = 0.0
    var wallSeconds = 0.0

    struct ScenarioCount: Sendable, Codable, Equatable {
        var requests = 0
        var failed = 0
    }

    var failed: Int { failures.values.reduce(0, +) }
    var errorRate: Double { intended == 0 ? 0 : Double(failed) / Double(intended) }
    var throughput: Double { measuredSeconds > 0 ? Double(answered) / measuredSeconds : 0 }

    static func histogram() -> Histogram<UInt64> {
        // 1 µs to one hour, three significant digits, as wrk2 and k6 keep them.
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    }

    mutating func fail(_ scenario: String, _ reason: String) {
        failures[reason, default: 0] += 1
        perScenario[scenario, default: ScenarioCount()].failed += 1
    }
}
