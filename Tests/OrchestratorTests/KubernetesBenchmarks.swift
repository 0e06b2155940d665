import Foundation
import TestSupport
import Testing

@testable import Orchestrator

/// Figures for `scripts/bench-kubernetes`, not a check (it asserts only that each command
/// worked): `orchestrate plan` against `kubectl diff --server-side`, and `orchestrate apply`
/// against the runbook's kubectl sequence, on the same objects and the same real control plane.
/// Runs only when ORCHESTRATE_BENCH is set; RUNS sets the number of runs (default 7).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["ORCHESTRATE_BENCH"] != nil))
struct KubernetesBenchmarks {
    typealias Cluster = EnvtestCluster
    static let runs = Int(ProcessInfo.processInfo.environment["RUNS"] ?? "") ?? 7

    @Test func planAndApplyBesideKubectl() async throws {
        let kubectl = try #require(LocalProcess.executable("kubectl"), "the benchmark compares with kubectl, which is not installed")
        let cluster = try await Cluster("bench")
        defer { Task { await cluster.stop() } }
        let current = Cluster.image("a")
        #expect(try await cluster.orchestrate(["apply", "--image", current]).status == 0)
        let rendered = try await render(cluster, image: current)
        var plan: [Duration] = []
        var diff: [Duration] = []
        for _ in 0..<Self.runs {
            plan.append(try await timed { try await cluster.orchestrate(["plan", "--image", current]).status == 0 })
            diff.append(try await timed { try await kubectlDiff(kubectl, cluster, rendered) })
        }
        report("plan, nothing to change", plan, beside: "kubectl diff --server-side", diff)

        // Where plan's time goes: starting the process and loading the spec, with no request.
        var start: [Duration] = []
        var kubectlStart: [Duration] = []
        for _ in 0..<Self.runs {
            start.append(
                try await timed {
                    try await CommandRunner.run([
                        "validate", Cluster.environment, "--environments", cluster.folder + "/environments",
                    ]).status == 0
                })
            kubectlStart.append(try await timed { try await LocalPostgres.run(kubectl, ["version", "--client"]) == 0 })
        }
        report("start and load the spec, no request (validate)", start, beside: "kubectl version --client", kubectlStart)

        let changed = try await render(cluster, image: Cluster.image("b"))
        plan = []
        diff = []
        for _ in 0..<Self.runs {
            plan.append(try await timed { try await cluster.orchestrate(["plan", "--image", Cluster.image("b")]).status == 0 })
            diff.append(try await timed { try await kubectlDiff(kubectl, cluster, changed) })
        }
        report("plan, a new image", plan, beside: "kubectl diff --server-side", diff)

        // Each run rolls out a new image both ways; the kubectl sequence is the runbook's: apply,
        // wait for the migration Job, wait for the rollout (no health check, no verdict recorded).
        var apply: [Duration] = []
        var sequence: [Duration] = []
        let letters = Array("0123456789cdef")
        for run in 0..<Self.runs {
            let ours = Cluster.image(letters[(2 * run) % letters.count])
            apply.append(try await timed { try await cluster.orchestrate(["apply", "--image", ours]).status == 0 })
            let theirs = try await render(cluster, image: Cluster.image(letters[(2 * run + 1) % letters.count]))
            sequence.append(try await timed { try await kubectlRollout(kubectl, cluster, theirs) })
        }
        report("apply, a new image", apply, beside: "kubectl apply + wait job + rollout status", sequence)
    }

    private func timed(_ body: () async throws -> Bool) async throws -> Duration {
        let started = ContinuousClock.now
        let worked = try await body()
        let elapsed = ContinuousClock.now - started
        #expect(worked)
        return elapsed
    }

    private func render(_ cluster: Cluster, image: String) async throws -> String {
        let out = cluster.folder + "/rendered-\(image.suffix(1))"
        let rendered = try await CommandRunner.run([
            "render", Cluster.environment, "--target", "kubernetes", "--image", image, "--out", out, "--environments",
            cluster.folder + "/environments", "--templates", CommandRunner.repositoryRoot + "/templates",
        ])
        #expect(rendered.status == 0, "\(rendered.stderr)")
        return out + "/kubernetes"
    }

    private func kubectlDiff(_ kubectl: String, _ cluster: Cluster, _ folder: String) async throws -> Bool {
        // 0: no differences, 1: differences; anything else failed.
        let status = try await LocalPostgres.run(
            kubectl, ["--kubeconfig", cluster.kubeconfig, "diff", "--server-side", "--field-manager=orchestrate", "-f", folder],
            log: cluster.folder + "/kubectl.log")
        return status == 0 || status == 1
    }

    private func kubectlRollout(_ kubectl: String, _ cluster: Cluster, _ folder: String) async throws -> Bool {
        let job =
            try String(contentsOfFile: folder + "/02-migration-job.yaml", encoding: .utf8)
            .split(separator: "\n").first { $0.hasPrefix("  name: ") }.map { String($0.dropFirst(8)) } ?? ""
        let steps = [
            ["apply", "--server-side", "--field-manager=orchestrate", "--force-conflicts", "-f", folder],
            ["wait", "--for=condition=complete", "--timeout=120s", "job/\(job)"],
            ["rollout", "status", "--timeout=120s", "deployment/pet-backend"],
        ]
        for step in steps {
            let status = try await LocalPostgres.run(
                kubectl, ["--kubeconfig", cluster.kubeconfig, "-n", cluster.namespace] + step, log: cluster.folder + "/kubectl.log")
            if status != 0 { return false }
        }
        return true
    }

    private func report(_ what: String, _ ours: [Duration], beside theirs: String, _ baseline: [Duration]) {
        let mine = Figures.median(ours)
        let other = Figures.median(baseline)
        print(
            "bench: \(what): orchestrate \(Figures.seconds(mine)) s, \(theirs) \(Figures.seconds(other)) s, ratio \(String(format: "%.2f", mine / other))"
                + " (medians of \(ours.count); orchestrate runs \(ours.map { Figures.seconds($0) }.joined(separator: " ")))")
    }
}
