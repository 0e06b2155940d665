import FlyFake
import Foundation
import Testing

/// Figures for `scripts/bench-fly`, not a check: a rolling deploy of N machines against the fake
/// Fly with a fixed latency per call, its API calls per machine and its time beside the floor
/// `ceil(N / maxUnavailable) × (update + healthy)`. Runs only when ORCHESTRATE_BENCH is set;
/// RUNS sets the number of runs (default 5).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["ORCHESTRATE_BENCH"] != nil))
struct FlyBenchmarks {
    static let runs = Int(ProcessInfo.processInfo.environment["RUNS"] ?? "") ?? 5
    static let latency = Duration.milliseconds(50)
    static let start = Duration.milliseconds(500)
    static let checks = Duration.milliseconds(500)

    @Test(arguments: [2, 4, 8])
    func rollingDeployOfNMachines(machines: Int) async throws {
        let fly = try await FlyHarness(
            "bench-\(machines)", deploy: "maxSurge: 0\n  maxUnavailable: 1",
            overrides: "scaling: { replicas: { min: \(machines), max: \(machines) } }\ndatabase: { pool: { min: 1, max: 10 } }",
            latency: Self.latency)
        fly.fly.timings(start: Self.start, checks: Self.checks)
        #expect(try await fly.orchestrate(["apply", "--image", FlyHarness.image("a")]).status == 0)
        var times: [Duration] = []
        var calls: [Int] = []
        var byOperation: [String: Int] = [:]
        for run in 0..<Self.runs {
            // Each run is a process of its own, pacing its own calls: the last one's spent the app's burst.
            try await Task.sleep(for: .seconds(3))
            let image = FlyHarness.image(run % 2 == 0 ? "b" : "a")
            let before = fly.fly.calls.count
            let clock = ContinuousClock()
            let started = clock.now
            let apply = try await fly.orchestrate(["apply", "--image", image])
            times.append(clock.now - started)
            #expect(apply.status == 0, "\(apply.stderr)")
            let made = fly.fly.calls.dropFirst(before)
            calls.append(made.count)
            if run == 0 { for call in made { byOperation[call.operation, default: 0] += 1 } }
        }
        let floor = (Self.start + Self.checks) * machines
        let median = Figures.median(times)
        let perMachine = Double(calls.sorted()[calls.count / 2]) / Double(machines)
        print(
            "bench: fly rolling deploy, \(machines) machines, maxUnavailable 1, \(Self.latency) per call: median \(Figures.seconds(median)) s"
                + " over \(Self.runs) runs, floor \(Figures.seconds(floor)) s (ratio \(String(format: "%.2f", Figures.value(median) / Figures.value(floor)))),"
                + " \(String(format: "%.1f", perMachine)) API calls per machine")
        print(
            "bench:   calls of one apply by operation: "
                + byOperation.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        #expect(fly.fly.rateLimited.isEmpty, "\(fly.fly.rateLimited)")
    }
}
