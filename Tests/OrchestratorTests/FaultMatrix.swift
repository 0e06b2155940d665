import Foundation
import TestSupport
import Testing

@testable import Orchestrator

/// Figures for `scripts/fault-matrix`, not a check run with the tests: each row repeats one kind
/// of fault many times and prints how often the environment converged (`fault:` lines, and a
/// `fault-progress:` line after every run so a long run shows where it stands). Runs only when
/// ORCHESTRATE_FAULTS is set; RUNS sets the applies per fault kind (default 10), KILLS the
/// killed applies per target (default RUNS), FAULT_RATE the share of API requests that fail
/// (default 0.2). The rows run beside each other: they mostly wait on timeouts and leases.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["ORCHESTRATE_FAULTS"] != nil))
struct FaultMatrix {
    typealias Cluster = EnvtestCluster
    static let settings = ProcessInfo.processInfo.environment
    static let runs = Int(settings["RUNS"] ?? "") ?? 10
    static let kills = Int(settings["KILLS"] ?? "") ?? runs
    static let rate = Double(settings["FAULT_RATE"] ?? "") ?? 0.2
    /// FAULTS=answerLost,noAnswer: only these kinds' rows, to measure one again after a fix.
    static let kinds = settings["FAULTS"].map { Set($0.split(separator: ",").map(String.init)) }

    static func selected(_ fault: Any) -> Bool {
        kinds.map { $0.contains(String(describing: fault)) } ?? true
    }

    /// Each apply meets the fault on FAULT_RATE of its requests; whatever it ends with, the next
    /// apply (faults gone) must converge: the image live and verified, no lock left behind.
    @Test(arguments: [
        FaultProxy.Fault.throttled, .internalError, .gateway(502), .gateway(503), .noAnswer, .reset, .answerLost,
    ])
    func kubernetesApplyUnderFaults(fault: FaultProxy.Fault) async throws {
        guard Self.selected(fault) else { return }
        let cluster = try await Cluster("matrix")
        defer { Task { await cluster.stop() } }
        let proxy = try await FaultProxy(upstream: cluster.plane.server, certificateAuthority: cluster.plane.certificateAuthority)
        defer { Task { await proxy.stop() } }
        let config = try cluster.writeKubeconfig(token: try await cluster.token(), name: "through-proxy", server: proxy.url)
        #expect(try await cluster.orchestrate(["apply", "--image", Cluster.image("a")]).status == 0)
        let row = "kubernetes \(fault)"
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
                print("fault: \(row) run \(run): the faulty apply exited \(faulty.status): \(faulty.stderr.suffix(400))")
            }
            let next = try await cluster.orchestrate(["apply", "--image", image], kubeconfig: config)
            let live = try await cluster.history().live
            if next.status == 0, live?.image == image, live?.outcome == "succeeded" {
                converged += 1
            } else {
                print("fault: \(row) run \(run): the next apply exited \(next.status): \(next.stderr.suffix(600))")
            }
            Self.progress(row, run, converged)
        }
        let rollback = try await Self.timedRollback { try await cluster.orchestrate(["rollback"]) }
        print(
            "fault: kubernetes, \(fault) on \(Int(Self.rate * 100)) % of requests: converged \(converged)/\(Self.runs); "
                + "the faulty apply exited \(Self.describe(exits)) in a median \(Figures.seconds(Figures.median(durations))) s; "
                + "\(proxy.injectedCount) faults injected; rollback to a working release \(rollback)")
    }

    /// `kill -9` of `orchestrate apply` at a random moment: of the first apply into an empty
    /// namespace on even runs, of an image change on odd ones. The next apply must converge
    /// with exactly the Deployment's count of serving pods, all of the live ReplicaSet.
    @Test func kubernetesApplyKilledAtRandomPoints() async throws {
        guard FaultMatrix.kills > 0 else { return }
        let steady = try await Cluster("matrix-kill")
        defer { Task { await steady.stop() } }
        #expect(try await steady.orchestrate(["apply", "--image", Cluster.image("a")]).status == 0)
        var tally = KillTally()
        for run in 0..<Self.kills {
            let first = run % 2 == 0
            let cluster = first ? try await Cluster("matrix-first") : steady
            let image = Cluster.image(first || run % 4 == 3 ? "a" : "b")
            let delay = Int.random(in: 0..<(first ? 5_000 : 4_000))
            let killed = try await CommandRunner.runKilled(
                cluster.arguments(["apply", "--image", image]), after: .milliseconds(delay))
            let next = try await cluster.orchestrate(["apply", "--image", image])
            let live = try await cluster.history().live
            let extra = try await Self.podsBeyondTheLiveReplicaSet(cluster, live: live?.replicaSet)
            let ok = next.status == 0 && live?.image == image && live?.outcome == "succeeded" && extra == 0
            tally.count(killed: killed, converged: ok, orphans: extra)
            if !ok {
                print(
                    "fault: kubernetes killed run \(run) after \(delay) ms: next apply \(next.status), \(extra) extra pods: \(next.stderr.suffix(400))"
                )
            }
            if first { await cluster.stop() }
            Self.progress("kubernetes kill -9", run, tally.converged)
        }
        let rollback = try await Self.timedRollback { try await steady.orchestrate(["rollback"]) }
        print("fault: kubernetes, \(tally.describe(Self.kills, things: "pods")); rollback to a working release \(rollback)")
    }

    /// `kill -9` of `orchestrate apply` at a random moment: of the first apply of an empty
    /// environment on even runs, of a new build's apply on odd ones. The next apply must converge
    /// with exactly one pet-backend and one supervisor per replica left running.
    @Test func localApplyKilledAtRandomPoints() async throws {
        guard FaultMatrix.kills > 0 else { return }
        var tally = KillTally()
        var rollback = ""
        for run in 0..<Self.kills {
            let deployment = try LocalDeployment()
            defer { deployment.tearDown() }
            let first = run % 2 == 0
            if !first { _ = try await deployment.firstApply() }
            let build = first ? deployment.goodBuild : try deployment.newBuild("b")
            let delay = Int.random(in: 0..<(first ? 7_000 : 4_000))
            let killed = try await CommandRunner.runKilled(
                deployment.arguments(["apply", "--binary", build]), in: deployment.root, environment: deployment.environment,
                after: .milliseconds(delay))
            let next = try await deployment.orchestrate(["apply", "--binary", build])
            let status = try JSONDecoder().decode(
                LocalDeployment.Status.self, from: Data(try await deployment.orchestrate(["status", "--json"]).stdout.utf8))
            let healthy = status.instances.filter { $0.state == "running" && $0.healthy == true }.count
            let extra = Self.processes(containing: deployment.stateDirectory).count - 2 * deployment.replicas
            let ok = next.status == 0 && healthy == deployment.replicas && extra == 0
            tally.count(killed: killed, converged: ok, orphans: max(extra, 0))
            if !ok {
                print(
                    "fault: local run \(run) killed after \(delay) ms: next apply \(next.status), \(healthy) healthy, \(extra) extra processes"
                )
            }
            if run == 1 {
                rollback = try await Self.timedRollback { try await deployment.orchestrate(["rollback"]) }
            }
            Self.progress("local kill -9", run, tally.converged)
        }
        print("fault: local, \(tally.describe(Self.kills, things: "processes")); rollback to a working release \(rollback)")
    }

    /// Serving pods not counted by the Deployment or not of the live ReplicaSet, once the
    /// controller has had time to remove what it is removing.
    static func podsBeyondTheLiveReplicaSet(_ cluster: Cluster, live replicaSet: String?) async throws -> Int {
        var extra = 0
        let deadline = ContinuousClock.now + .seconds(20)
        repeat {
            let wanted = Field.int(try await cluster.object(cluster.deploymentPath), "spec", "replicas") ?? 0
            let pods = try await cluster.list(
                cluster.podsPath, labelSelector: "app.kubernetes.io/component=api"
            ).filter { Field.string($0, "metadata", "deletionTimestamp") == nil }
            let owners = pods.map { (Field.map($0, "metadata")?["ownerReferences"] as? [[String: Any]])?.first?["name"] as? String }
            extra = max(pods.count - wanted, 0) + owners.filter { $0 != replicaSet }.count
            if extra == 0 { return 0 }
            try await Task.sleep(for: .milliseconds(500))
        } while ContinuousClock.now < deadline
        return extra
    }

    static func timedRollback(_ body: () async throws -> CommandRunner.Outcome) async throws -> String {
        let started = ContinuousClock.now
        let outcome = try await body()
        return outcome.status == 0 ? "\(Figures.seconds(ContinuousClock.now - started)) s" : "failed (exit \(outcome.status))"
    }

    static func progress(_ row: String, _ run: Int, _ converged: Int) {
        print("fault-progress: \(row): \(converged) of \(run + 1) converged")
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

/// What a row of killed applies counts.
struct KillTally {
    var killed = 0
    var converged = 0
    var orphans = 0

    mutating func count(killed wasRunning: Bool, converged ok: Bool, orphans extra: Int) {
        if wasRunning { killed += 1 }
        if ok { converged += 1 }
        orphans += extra
    }

    /// `things`: what an orphan is, in the plural (`pods`).
    func describe(_ runs: Int, things: String) -> String {
        "kill -9 of apply at a random point (the first apply of an empty environment on half the runs; \(killed) of \(runs) "
            + "still running when killed): converged \(converged)/\(runs), orphan \(things) left: \(orphans)"
    }
}
