import ArgumentParser
import Foundation
import Manifests

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Load an environment at a constant rate and check its `slo`; record the result on its release.",
        discussion: """
            Sends the spec's `verify` scenarios to the environment's public address (the instances locally, \
            targets.fly.publicURL or https://APP.fly.dev on Fly, targets.kubernetes.publicURL) at a constant \
            arrival rate, measuring each request from when it was due, so a stalled server shows its queue. \
            `--connections N` runs a closed loop instead (capacity). The result is kept with the current \
            release, where `promote` looks for it. Exit codes: 0 every objective holds, 7 an objective was \
            missed, 1 the load could not be run (unreachable address, a rate this machine cannot send, bad input).
            """)

    @OptionGroup var given: DeployOptions

    @Option(help: "Requests per second (open loop). Default: the spec's verify.rate.")
    var rate: Int?

    @Option(help: "Run a closed loop on this many connections instead of a constant rate (capacity runs).")
    var connections: Int?

    @Option(help: "How long to measure, such as 30s. Default: the spec's verify.duration.")
    var duration: String?

    @Option(help: "Load sent first and not measured, such as 5s. Default: the spec's verify.warmup.")
    var warmup: String?

    @Option(name: .customLong("address"), help: "Send the load here instead (repeatable), such as https://staging.example.com.")
    var addresses: [String] = []

    @Flag(help: "Print the result as JSON.")
    var json = false

    @Flag(name: .customLong("no-record"), help: "Do not record the result on the release.")
    var noRecord = false

    func run() async throws {
        try await FailureReport.reporting {
            let spec = try given.loadSpec()
            let settings = try VerifyOptions.settings(
                spec: spec, rate: rate, connections: connections, duration: duration, warmup: warmup)
            let target = try given.deployTarget(for: spec)
            let targetName = given.chosenTarget(for: spec).rawValue
            let (addresses, record) = (addresses, !noRecord)
            let report = try await DeployTargets.using(target) { target in
                try await Interruptible.run {
                    let release = try await target.currentRelease()
                    let endpoints = addresses.isEmpty ? try await target.publicEndpoints() : addresses
                    guard !endpoints.isEmpty else {
                        throw DeployFailure(
                            kind: .invalid, message: "\(spec.name) has nothing running to verify; `orchestrate apply \(spec.name)` first")
                    }
                    let report = try await Verifier(spec: spec, settings: settings).run(
                        route: VerifyRoute(endpoints: endpoints), target: targetName, release: release?.name)
                    if record, let release {
                        try await VerifyOptions.record(report, on: release, in: spec, target: target)
                    }
                    return report
                }
            }
            Terminal.out(json ? try JSONCoding.encode(report) : report.text(styled: Terminal.colorsOnStandardOutput))
            StepSummary.append(StepSummary.verify(report))
            if !report.passed {
                throw DeployFailure(
                    kind: .objectiveMissed,
                    message: "\(spec.name) missed: " + report.objectives.filter { !$0.passed }.map(\.sentence).joined(separator: "; "))
            }
        }
    }
}

enum VerifyOptions {
    static func settings(spec: EnvironmentSpec, rate: Int?, connections: Int?, duration: String?, warmup: String?) throws
        -> VerifySettings
    {
        if let rate, !(1...100_000).contains(rate) {
            throw DeployFailure(kind: .invalid, message: "--rate \(rate) is out of range; give 1 to 100000 requests per second")
        }
        if let connections, !(1...4096).contains(connections) {
            throw DeployFailure(kind: .invalid, message: "--connections \(connections) is out of range; give 1 to 4096")
        }
        if rate != nil, connections != nil {
            throw DeployFailure(
                kind: .invalid, message: "--rate (open loop) and --connections (closed loop) are two kinds of run; give one")
        }
        return VerifySettings(
            spec: spec.verify, rate: rate, connections: connections, duration: try duration.map { try parse($0, "--duration", atLeast: 1) },
            warmup: try warmup.map { try parse($0, "--warmup", atLeast: 0) })
    }

    private static func parse(_ text: String, _ option: String, atLeast seconds: Int64) throws -> Duration {
        switch SpecDuration.parse(text) {
        case .success(let value) where value.milliseconds >= seconds * 1000 && value.milliseconds <= 3_600_000:
            return .milliseconds(value.milliseconds)
        case .success:
            throw DeployFailure(kind: .invalid, message: "\(option) \(text) is out of range; give \(seconds)s to 1h")
        case .failure(let error):
            throw DeployFailure(kind: .invalid, message: "\(option): \(error.message); \(error.fix)")
        }
    }

    /// Keeps the result with the release it measured, under the deploy lock; a release that
    /// changed while the load ran is not the one measured, and gets nothing.
    static func record(_ report: VerifyReport, on release: ReleaseSummary, in spec: EnvironmentSpec, target: any DeployTarget) async throws
    {
        do {
            try await target.locked(command: "orchestrate verify \(spec.name)") {
                guard let now = try await target.currentRelease(), now.id == release.id else {
                    Terminal.error("note: \(spec.name) changed release while verify ran; the result is not recorded on either")
                    return
                }
                try await target.record(on: release, verification: report.record(by: DeployOptions.actor), origin: nil, failed: nil)
                Terminal.error("recorded on \(spec.name) \(release.name): \(report.passed ? "passed" : "failed") verify")
            }
        } catch let failure as DeployFailure where failure.kind == .locked {
            // A deploy is under way: what was measured may already be on its way out.
            Terminal.error("note: the result is not recorded: \(failure.message)")
        }
    }
}
