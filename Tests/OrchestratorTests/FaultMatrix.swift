import Foundation
import TestSupport
import Testing

@testable import Orchestrator

/// Figures for `scripts/fault-matrix`, not a check run with the tests: each row repeats one kind
/// of fault many times and prints how often the environment converged (`fault:` lines). Runs
/// only when ORCHESTRATE_FAULTS is set; RUNS sets the repetitions (default 10), FAULT_RATE the
/// share of API requests that fail (default 0.2).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["ORCHESTRATE_FAULTS"] != nil))
struct FaultMatrix {
    typealias Cluster = EnvtestCluster
    static let runs = Int(ProcessInfo.processInfo.environment["RUNS"] ?? "") ?? 10
    static let rate = Double(ProcessInfo.processInfo.environment["FAULT_RATE"] ?? "") ?? 0.2

    /// Each apply meets the fault on FAULT_RATE of its requests; whatever it ends with, the next
    /// apply (faults gone) must converge: the image live and verified, no lock left behind.
    @Test(arguments: [
        FaultProxy.Fault.throttled, .internalError, .gateway(502), .gateway(503), .noAnswer, .answerLost,
    ])
    func kubernetesApplyUnderFaults(fault: FaultProxy.Fault) async throws {
        let cluster = try await Cluster("matrix")
        defer { Task { await cluster.stop() } }
        let proxy = try await FaultProxy(upstream: cluster.plane.server, certificateAuthority: cluster.plane.certificateAuthority)
        defer { Task { await proxy.stop() } }
        let config = try cluster.writeKubeconfig(token: try await cluster.token(), name: "through-proxy", server: proxy.url)
        #expect(try await cluster.orchestrate(["apply", "--image", Cluster.image("a")]).status == 0)
        var exits: [Int32: Int] = [:]
        var converged = 0
        var durations: [Duration] = []
        for run in 0..<Self.runs {
            let image = Cluster.image(run % 2 == 0 ? "b" : "a")
            proxy.injectAtRandom(fault, probability: Self.rate)
            let started = ContinuousClock.now
            let faulty = try await cluster.orchestrate(["apply", "--image", image, "--request-timeout", "2"], kubeconfig: config)
            durations.append(ContinuousClock.now - started)
            proxy.injectAtRandom(nil, probability: 0)
            exits[faulty.status, default: 0] += 1
            if ![0, 3].contains(faulty.status) {
                print("fault: kubernetes \(fault) run \(run): the faulty apply exited \(faulty.status): \(faulty.stderr.suffix(400))")
            }
            let next = try await cluster.orchestrate(["apply", "--image", image], kubeconfig: config)
            let live = try await cluster.history().live
            if next.status == 0, live?.image == image, live?.outcome == "succeeded" {
                converged += 1
            } else {
                print("fault: kubernetes \(fault) run \(run): the next apply exited \(next.status): \(next.stderr.suffix(600))")
            }
        }
        let rollback = try await timedRollback { try await cluster.orchestrate(["rollback"]) }
        print(
            "fault: kubernetes, \(fault) on \(Int(Self.rate * 100)) % of requests: converged \(converged)/\(Self.runs); "
                + "the faulty apply exited \(Self.describe(exits)) in a median \(Figures.seconds(Figures.median(durations))) s; "
                + "\(proxy.injectedCount) faults injected; rollback to a working release \(rollback)")
    }

    /// `kill -9` of `orchestrate apply` at a random moment: of the first apply of an empty
    /// environment on even runs, of a new build's apply on odd ones. The next apply must converge
    /// with exactly one pet-backend and one supervisor per replica left running.
    @Test func localApplyKilledAtRandomPoints() async throws {
        var converged = 0
        var orphans = 0
        var rollback = ""
        for run in 0..<Self.runs {
            let deployment = try LocalDeployment()
            defer { deployment.tearDown() }
            let first = run % 2 == 0
            if !first { _ = try await deployment.firstApply() }
            let build = first ? deployment.goodBuild : try deployment.newBuild("b")
            let background = try deployment.startInBackground(["apply", "--binary", build])
            let delay = Int.random(in: 0..<(first ? 7_000 : 4_000))
            try await Task.sleep(for: .milliseconds(delay))
            kill(background.processIdentifier, SIGKILL)
            background.waitUntilExit()
            let next = try await deployment.orchestrate(["apply", "--binary", build])
            let status = try JSONDecoder().decode(
                LocalDeployment.Status.self, from: Data(try await deployment.orchestrate(["status", "--json"]).stdout.utf8))
            let healthy = status.instances.filter { $0.state == "running" && $0.healthy == true }.count
            let extra = Self.processes(containing: deployment.stateDirectory).count - 2 * deployment.replicas
            orphans += max(extra, 0)
            if next.status == 0, healthy == deployment.replicas, extra == 0 {
                converged += 1
            } else {
                print(
                    "fault: local run \(run) killed after \(delay) ms: next apply \(next.status), \(healthy) healthy, \(extra) extra processes"
                )
            }
            if run == 1 {
                rollback = try await timedRollback { try await deployment.orchestrate(["rollback"]) }
            }
        }
        print(
            "fault: local, kill -9 of apply at a random point (first apply of an empty environment on half the runs): "
                + "converged \(converged)/\(Self.runs), \(orphans) orphan process(es); rollback to a working release \(rollback)")
    }

    private func timedRollback(_ body: () async throws -> CommandRunner.Outcome) async throws -> String {
        let started = ContinuousClock.now
        let outcome = try await body()
        return outcome.status == 0 ? "\(Figures.seconds(ContinuousClock.now - started)) s" : "failed (exit \(outcome.status))"
    }

    /// Processes whose command line names `fragment` (the instances and their supervisors run
    /// from the state folder).
    static func processes(containing fragment: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let data = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")) else { return false }
            let command = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            return command.contains(fragment) && (command.contains(" serve") || command.contains(" supervise "))
        }
    }

    static func describe(_ exits: [Int32: Int]) -> String {
        exits.sorted { $0.key < $1.key }.map { "\($0.value)× \($0.key)" }.joined(separator: ", ")
    }
}
