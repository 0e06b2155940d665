import FlyFake
import Foundation
import Manifests
import TestSupport
import Testing

@testable import Orchestrator

/// verify and promote on Kubernetes (the real control plane) and on Fly (the fake Fly API): where
/// each keeps the result, and how each reaches what it loads.
@Suite(.serialized) struct TargetVerifyTests {
    typealias Cluster = EnvtestCluster

    /// Objectives far from both answers (5 ms and 1 s), so that a CI machine busy with other
    /// suites cannot move a verdict.
    private static let verifySpec = """
        verify: { rate: 20, duration: 1s, warmup: 0s, scenarios: [{ name: paced, path: /paced }] }
        slo: { p95Latency: 800ms, p99Latency: 2s, errorRate: 1% }
        """

    @Test func kubernetesKeepsVerifyOnTheRevisionsReplicaSet() async throws {
        let paced = try await PacedServer(latency: .milliseconds(5))
        let cluster = try await Cluster("verify")
        defer { Task { await cluster.stop() } }
        #expect(try await cluster.orchestrate(["apply", "--image", Cluster.image("a")]).status == 0)
        let noAddress = try await cluster.orchestrate(["verify"])
        #expect(noAddress.status == 1 && noAddress.stderr.contains("no `targets.kubernetes.publicURL`"), "\(noAddress.stderr)")

        try cluster.setOverrides(Self.verifySpec)
        let passed = try await cluster.orchestrate(["verify", "--address", paced.url])
        #expect(passed.status == 0, "\(passed.stdout)\(passed.stderr)")
        let replicaSet = try #require(try await cluster.history().live?.replicaSet)
        let annotations = try await cluster.object("/apis/apps/v1/namespaces/\(cluster.namespace)/replicasets/\(replicaSet)")
        let metadata = annotations?["metadata"] as? [String: Any]
        let recorded = (metadata?["annotations"] as? [String: String])?["orchestrate.dev/verification"]
        #expect(recorded?.contains("\"passed\":true") == true, "\(String(describing: recorded))")

        // Answers slower than the objectives allow: the revision says it failed.
        try cluster.setOverrides(Self.verifySpec.replacingOccurrences(of: "/paced", with: "/slow"))
        let missed = try await cluster.orchestrate(["verify", "--address", paced.url, "--json"])
        #expect(missed.status == 7, "\(missed.stdout)\(missed.stderr)")
        let releases = try await cluster.orchestrate(["releases", "--json"])
        #expect(releases.stdout.contains("\"passed\" : false"), "\(releases.stdout)")
    }

    /// From Fly (the fake API) to Kubernetes (the real API server): the same image by digest,
    /// gated after the rollout; a missed objective marks the revision failed and returns to the
    /// last successful one, a met one records the origin on the ReplicaSet.
    @Test func aPromotionToKubernetesIsGatedAfterTheRollout() async throws {
        let paced = try await PacedServer(latency: .milliseconds(5))
        let fly = try await FakeFlyServer()
        fly.fly.createApp("pet-backend-from", org: "pet-org")
        let cluster = try await Cluster("promote")
        defer { Task { await cluster.stop() } }
        let environments = cluster.folder + "/environments"
        try """
        extends: staging
        health:
          liveness: { path: /healthz, initialDelay: 1s, period: 10s, timeout: 2s, failureThreshold: 3 }
          readiness: { path: /healthz, initialDelay: 1s, period: 5s, timeout: 2s, failureThreshold: 3 }
        deploy: { healthTimeout: 15s, releaseCommandTimeout: 20s }
        targets:
          fly: { app: pet-backend-from, org: pet-org, primaryRegion: iad, apiHostname: "\(fly.url)", publicURL: "\(paced.url)" }
        \(Self.verifySpec)
        """.write(toFile: environments + "/fly-from.yaml", atomically: true, encoding: .utf8)
        for secret in try SpecLoader.load(path: environments + "/fly-from.yaml").get().secrets where secret.required {
            fly.fly.setSecret(
                secret.name, secret.format == .url ? "postgres://user:pw@db.internal:5432/app" : LocalSecrets.generate(for: secret))
        }
        let common = ["--environments", environments, "--templates", CommandRunner.repositoryRoot + "/templates"]
        func run(_ arguments: [String]) async throws -> CommandRunner.Outcome {
            try await CommandRunner.run(arguments + common, environment: ["FLY_API_TOKEN": "test-token"])
        }
        // The same repository as the cluster's spec names, so no copy is needed.
        let image = FlyHarness.image("d")
        #expect(try await run(["apply", "fly-from", "--target", "fly", "--image", image]).status == 0)
        #expect(try await run(["verify", "fly-from", "--target", "fly"]).status == 0)
        #expect(try await cluster.orchestrate(["apply", "--image", Cluster.image("a")]).status == 0)
        let promote = [
            "promote", "fly-from", Cluster.environment, "--from-target", "fly", "--target", "kubernetes",
            "--kubeconfig", cluster.kubeconfig, "--yes",
        ]

        try cluster.setOverrides(
            "targets: { kubernetes: { publicURL: \"\(paced.url)\" } }\n" + Self.verifySpec.replacingOccurrences(of: "/paced", with: "/slow")
        )
        let gated = try await run(promote)
        #expect(gated.status == 3, "\(gated.stdout)\(gated.stderr)")
        #expect(gated.stderr.contains("failed verify after the rollout: p95 latency"), "\(gated.stderr)")
        let afterGate = try await cluster.history()
        #expect(afterGate.live?.image == Cluster.image("a"), "back on the last successful revision")
        #expect(afterGate.releases.contains { $0.image == image && $0.outcome == "failed" }, "\(afterGate.releases)")

        try cluster.setOverrides("targets: { kubernetes: { publicURL: \"\(paced.url)\" } }\n" + Self.verifySpec)
        let promoted = try await run(promote)
        #expect(promoted.status == 0, "\(promoted.stdout)\(promoted.stderr)")
        let live = try #require(try await cluster.history().live)
        #expect(live.image == image && live.outcome == "succeeded")
        let replicaSet = try await cluster.object("/apis/apps/v1/namespaces/\(cluster.namespace)/replicasets/\(live.replicaSet)")
        let annotations = (replicaSet?["metadata"] as? [String: Any])?["annotations"] as? [String: String] ?? [:]
        #expect(annotations["orchestrate.dev/promoted-from"]?.contains("\"environment\":\"fly-from\"") == true, "\(annotations)")
        #expect(annotations["orchestrate.dev/verification"]?.contains("\"passed\":true") == true)
    }

    /// Two Fly apps on two fake Fly APIs: staging's verified image is promoted to a canary app;
    /// the canary is loaded through Fly's proxy header naming its machine.
    @Test func flyPromotesTheVerifiedImageAndLoadsTheCanaryThroughTheProxyHeader() async throws {
        let paced = try await PacedServer(latency: .milliseconds(5))
        let stagingAPI = try await FakeFlyServer()
        let prodAPI = try await FakeFlyServer()
        stagingAPI.fly.createApp("pet-backend-staging", org: "pet-org")
        prodAPI.fly.createApp("pet-backend-e2e", org: "pet-org")
        let folder = try LocalProcess.temporaryDirectory("fly-promote")
        let environments = folder + "/environments"
        try FileManager.default.createDirectory(atPath: environments, withIntermediateDirectories: true)
        for file in ["base.yaml", "staging.yaml"] {
            try FileManager.default.copyItem(
                atPath: "\(CommandRunner.repositoryRoot)/environments/\(file)", toPath: "\(environments)/\(file)")
        }
        func spec(app: String, api: String, deploy: String) -> String {
            """
            extends: staging
            health:
              liveness: { path: /healthz, initialDelay: 1s, period: 10s, timeout: 2s, failureThreshold: 3 }
              readiness: { path: /healthz, initialDelay: 1s, period: 5s, timeout: 2s, failureThreshold: 3 }
            deploy: { healthTimeout: 15s, releaseCommandTimeout: 20s, \(deploy) }
            targets:
              fly: { app: \(app), org: pet-org, primaryRegion: iad, apiHostname: "\(api)", publicURL: "\(paced.url)" }
            \(Self.verifySpec)
            """
        }
        try spec(app: "pet-backend-staging", api: stagingAPI.url, deploy: "strategy: rolling").write(
            toFile: environments + "/fly-staging.yaml", atomically: true, encoding: .utf8)
        try spec(app: "pet-backend-e2e", api: prodAPI.url, deploy: "strategy: canary").write(
            toFile: environments + "/fly-prod.yaml", atomically: true, encoding: .utf8)
        // Values that meet the spec's rules, set as `fly secrets set` would.
        for secret in try SpecLoader.load(path: environments + "/fly-staging.yaml").get().secrets where secret.required {
            let value = secret.format == .url ? "postgres://user:pw@db.internal:5432/app" : LocalSecrets.generate(for: secret)
            for api in [stagingAPI, prodAPI] { api.fly.setSecret(secret.name, value) }
        }
        func orchestrate(_ arguments: [String]) async throws -> CommandRunner.Outcome {
            try await CommandRunner.run(
                arguments + ["--environments", environments], in: folder, environment: ["FLY_API_TOKEN": "test-token"])
        }
        let image = FlyHarness.image("c")
        let staged = try await orchestrate(["apply", "fly-staging", "--target", "fly", "--image", image])
        #expect(staged.status == 0, "\(staged.stderr)")
        #expect(try await orchestrate(["verify", "fly-staging", "--target", "fly"]).status == 0)

        let promoted = try await orchestrate([
            "promote", "fly-staging", "fly-prod", "--from-target", "fly", "--target", "fly", "--yes", "--json",
        ])
        #expect(promoted.status == 0, "\(promoted.stdout)\(promoted.stderr)")
        let serving = prodAPI.fly.servingMachines
        #expect(!serving.isEmpty && serving.allSatisfy { $0.config?.image == image })
        // The canary's load went to one prod machine, by Fly's routing header.
        let canaries = Set(try await paced.forcedInstances())
        #expect(canaries.count == 1 && serving.contains { canaries.contains($0.id ?? "") }, "\(canaries)")
        #expect(promoted.stdout.contains("\"gate\" : \"canary\"") && promoted.stdout.contains("\"environment\" : \"fly-staging\""))
        let releases = try await orchestrate(["releases", "fly-prod", "--target", "fly", "--json"])
        #expect(releases.stdout.contains("\"promotedFrom\""), "\(releases.stdout)")
    }
}
