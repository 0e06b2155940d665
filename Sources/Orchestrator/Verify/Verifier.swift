import AsyncHTTPClient
import Foundation
import Manifests

/// How much load, of which kind, for how long: the spec's `verify` with the command line's
/// overrides.
struct VerifySettings: Sendable {
    var mode: LoadPlan.Mode
    var warmup: Duration
    var duration: Duration
    var timeout: Duration
    var maxConnections: Int

    init(spec: VerifySpec, rate: Int? = nil, connections: Int? = nil, duration: Duration? = nil, warmup: Duration? = nil) {
        mode = connections.map { .closedLoop(connections: $0) } ?? .openLoop(rate: rate ?? spec.rate)
        self.duration = duration ?? .milliseconds(spec.duration.milliseconds)
        self.warmup = warmup ?? .milliseconds(spec.warmup.milliseconds)
        timeout = .milliseconds(spec.timeout.milliseconds)
        maxConnections = connections ?? spec.connections
    }

    var description: String {
        let seconds = Format.number(Double(LoadRun.nanoseconds(duration)) / 1e9)
        let warm = Format.number(Double(LoadRun.nanoseconds(warmup)) / 1e9)
        switch mode {
        case .openLoop(let rate): return "\(rate)/s open loop for \(seconds)s after \(warm)s warm-up"
        case .closedLoop(let connections): return "\(connections) connection(s) closed loop for \(seconds)s after \(warm)s warm-up"
        }
    }
}

/// Offers an environment its spec's load and checks the result against its `slo`: what
/// `verify` runs, and what `promote` runs as its gates.
struct Verifier: Sendable {
    let spec: EnvironmentSpec
    let settings: VerifySettings

    /// The generator's thread busy this share of the time: it set the pace, not the server.
    static let busiestGenerator = 0.9

    func run(route: VerifyRoute, target: String, release: String?) async throws -> VerifyReport {
        let endpoints = try route.endpoints.map(LoadEndpoint.parse)
        try await checkReachable(route)
        var cycle = try LoadPlan.cycle(of: spec.verify.scenarios, environment: ProcessInfo.processInfo.environment)
        for index in cycle.indices { cycle[index].headers += route.headers }
        let plan = LoadPlan(
            mode: settings.mode, endpoints: endpoints, cycle: cycle, warmup: settings.warmup, duration: settings.duration,
            timeout: settings.timeout, maxConnections: settings.maxConnections)
        let result = try await LoadRun.run(plan)
        if let problem = Self.generatorFellBehind(result, mode: settings.mode, slo: spec.slo) {
            throw DeployFailure(
                kind: .invalid,
                message: "\(problem), so its figures would measure this machine, not \(spec.name); "
                    + "lower --rate or run verify from a machine with more room")
        }
        return VerifyReport(
            environment: spec.name, target: target, release: release, endpoints: route.endpoints, load: settings.description,
            result: result,
            objectives: Objectives.evaluate(result, against: spec.slo))
    }

    /// Whether the generator, not the server, decided an open-loop run: its thread saturated, or
    /// its timer so late that a latency objective missed from the schedule holds from when the
    /// generator got to each request. Says so with both figures, or nil. A late timer that
    /// changes no verdict is left alone: the latency from the schedule already counts it.
    static func generatorFellBehind(_ result: LoadResult, mode: LoadPlan.Mode, slo: SLOSpec) -> String? {
        guard case .openLoop(let rate) = mode, result.schedulerLateness.totalCount > 0 else { return nil }
        let late = result.schedulerLateness.valueAtPercentile(99)
        let busy = result.cpuSeconds / max(result.wallSeconds, 0.001)
        guard busy >= busiestGenerator || lagDecidesALatencyObjective(result, slo: slo) else { return nil }
        return "this machine could not send \(rate) requests/s: the generator ran up to \(Format.latency(late)) behind its "
            + "schedule (99th percentile) and was busy \(Format.number(busy * 100))% of the time"
    }

    private static func lagDecidesALatencyObjective(_ result: LoadResult, slo: SLOSpec) -> Bool {
        var lagTakenOut = result
        lagTakenOut.latency = result.latencyFromDispatch
        let fromSchedule = Objectives.evaluate(result, against: slo)
        let fromDispatch = Objectives.evaluate(lagTakenOut, against: slo)
        return zip(fromSchedule, fromDispatch).contains { $0.passed != $1.passed }
    }

    /// One request to every endpoint first: an address that cannot be reached is a mistake to
    /// name, not a 100 % error rate to measure.
    private func checkReachable(_ route: VerifyRoute) async throws {
        let path = spec.verify.scenarios.first?.path ?? "/"
        for endpoint in route.endpoints {
            var request = HTTPClientRequest(url: endpoint + path)
            for (name, value) in route.headers { request.headers.add(name: name, value: value) }
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                _ = try await response.body.collect(upTo: 1 << 20)
            } catch {
                // Ctrl-C while asking is an interruption, not an unreachable address.
                if Task.isCancelled { throw CancellationError() }
                throw DeployFailure(
                    kind: .invalid,
                    message: "cannot reach \(endpoint) (\(error)); check the address (targets.*.publicURL, or --address) and that "
                        + "\(spec.name) is running")
            }
        }
    }
}
