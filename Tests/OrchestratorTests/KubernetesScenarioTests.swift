import Foundation
import NIOCore
import TestSupport
import Testing

@testable import Orchestrator

/// The Kubernetes target against a real kube-apiserver and kube-controller-manager (v1.36, the
/// envtest assets), one scenario per test, each in a namespace of its own, as the ServiceAccount
/// bound to docs/kubernetes/orchestrate-rbac.yaml: every scenario also checks that the
/// documented Role is enough.
@Suite(.serialized) struct KubernetesScenarioTests {
    typealias Cluster = EnvtestCluster
    static func image(_ letter: Character) -> String { Cluster.image(letter) }

    @Test func firstDeployRunsTheSpecsMinimumThenPlansNoChanges() async throws {
        let cluster = try await Cluster("first")
        defer { Task { await cluster.stop() } }
        let first = try await cluster.orchestrate(["apply", "--image", Self.image("a")])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("revision 1 is live"), "\(first.stdout)")
        // staging scales between 2 and 4: the first rollout already runs 2, not the default 1.
        let deployment = try #require(try await cluster.object(cluster.deploymentPath))
        #expect(Field.int(deployment, "spec", "replicas") == 2)
        #expect(Field.int(deployment, "status", "availableReplicas") == 2)
        #expect(!first.stderr.contains("Warning from the API server"), "\(first.stderr)")

        let unchanged = try await cluster.orchestrate(["plan", "--image", Self.image("a"), "--detailed-exitcode"])
        #expect(unchanged.status == 0, "\(unchanged.stdout)\(unchanged.stderr)")
        // kubectl, given the rendered files and the same field manager, agrees.
        if let kubectl = LocalProcess.executable("kubectl") {
            let out = cluster.folder + "/rendered"
            let rendered = try await CommandRunner.run([
                "render", Cluster.environment, "--target", "kubernetes", "--image", Self.image("a"), "--out", out, "--environments",
                cluster.folder + "/environments",
            ])
            #expect(rendered.status == 0, "\(rendered.stderr)")
            let diff = try await LocalPostgres.run(
                kubectl,
                [
                    "--kubeconfig", cluster.kubeconfig, "diff", "--server-side", "--field-manager=orchestrate", "-f",
                    out + "/kubernetes",
                ], log: cluster.folder + "/kubectl-diff.log")
            let log = (try? String(contentsOfFile: cluster.folder + "/kubectl-diff.log", encoding: .utf8)) ?? ""
            #expect(diff == 0, "kubectl diff --server-side sees changes: \(log)")
        }
    }

    @Test func anImageChangeRollsOutAndLeavesTheAutoscalersCountAlone() async throws {
        let cluster = try await Cluster("image")
        defer { Task { await cluster.stop() } }
        #expect(try await cluster.orchestrate(["apply", "--image", Self.image("a")]).status == 0)
        // The autoscaler raised the count through the scale subresource, as its controller does.
        let scale = try await cluster.admin.send(
            .PATCH, cluster.deploymentPath + "/scale", body: ByteBuffer(string: #"{"spec":{"replicas":3}}"#),
            contentType: "application/merge-patch+json")
        #expect(scale.status == .ok, "\(String(buffer: scale.body))")
        let second = try await cluster.orchestrate(["apply", "--image", Self.image("b")])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("revision 2 is live"), "\(second.stdout)")
        let deployment = try #require(try await cluster.object(cluster.deploymentPath))
        #expect(Field.int(deployment, "spec", "replicas") == 3, "the apply reset the autoscaler's count")
        let history = try await cluster.history()
        #expect(history.releases.map(\.outcome) == ["succeeded", "succeeded"])
        #expect(history.releases.first { $0.revision == history.current }?.image == Self.image("b"))
    }

    /// With an autoscaler (staging: 2 to 4) the count belongs to a hand-over manager; with a
    /// fixed count orchestrate's own applies name it.
    @Test(arguments: ["", "scaling: { replicas: { min: 2, max: 2 } }"])
    func downStopsThePodsKeepsTheReleaseAndApplyStartsItAgain(overrides: String) async throws {
        let cluster = try await Cluster("down", overrides: overrides)
        defer { Task { await cluster.stop() } }
        #expect(try await cluster.orchestrate(["apply", "--image", Self.image("a")]).status == 0)
        let template = Field.map(try await cluster.object(cluster.deploymentPath), "spec", "template")
        let down = try await cluster.orchestrate(["down"])
        #expect(down.status == 0, "\(down.stderr)")
        #expect(down.stdout.contains("stopped 2 pod(s)"), "\(down.stdout)")
        let stopped = try #require(try await cluster.object(cluster.deploymentPath))
        #expect(Field.int(stopped, "spec", "replicas") == 0)
        #expect(Field.int(stopped, "metadata", "generation") == 2, "only the count changed, not the pod template")
        #expect(
            NSDictionary(dictionary: Field.map(stopped, "spec", "template") ?? [:]).isEqual(to: template ?? [:]),
            "down changed the pod template")
        #expect(
            try await cluster.list(cluster.podsPath, labelSelector: "app.kubernetes.io/component=api").isEmpty
        )
        #expect(try await cluster.history().current == 1)
        let again = try await cluster.orchestrate(["down"])
        #expect(again.status == 0, "\(again.stderr)")

        let up = try await cluster.orchestrate(["apply", "--image", Self.image("a")])
        #expect(up.status == 0, "\(up.stderr)")
        let running = try #require(try await cluster.object(cluster.deploymentPath))
        #expect(Field.int(running, "spec", "replicas") == 2)
        #expect(Field.int(running, "status", "availableReplicas") == 2)
        #expect(try await cluster.history().current == 1, "starting again is not a new release")
    }

    @Test func prunedMigrationJobsTakeTheirPodsAndStatusShowsTheServingPods() async throws {
        let cluster = try await Cluster("prune")
        defer { Task { await cluster.stop() } }
        #expect(try await cluster.orchestrate(["apply", "--image", Self.image("a")]).status == 0)
        let second = try await cluster.orchestrate(["apply", "--image", Self.image("b")])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(!second.stderr.contains("child pods are preserved"), "\(second.stderr)")
        // The migration Jobs; the backup taken before v2 is a Job of its own, which Kubernetes
        // deletes a day after it finished.
        let jobs = try await cluster.list(
            cluster.jobsPath, labelSelector: "app.kubernetes.io/component=migration")
        #expect(jobs.count == 1)
        let kept = jobs.first.flatMap { Field.string($0, "metadata", "name") } ?? ""
        try await cluster.eventually("the pruned Job's pods are deleted") {
            try await cluster.list(
                cluster.podsPath,
                labelSelector: "batch.kubernetes.io/job-name,app.kubernetes.io/component=migration"
            )
            .allSatisfy { Field.map($0, "metadata", "labels")?["batch.kubernetes.io/job-name"] as? String == kept }
        }
        let status = try await cluster.orchestrate(["status", "--json"])
        let pods = try #require(
            (try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["pods"] as? [[String: Any]])
        #expect(pods.count == 2, "\(pods)")
        #expect(pods.allSatisfy { $0["ready"] as? Bool == true && !($0["name"] as? String ?? "").contains("migrate") }, "\(pods)")
    }

    @Test func aConfigurationChangeReachesThePodsAndARollbackRestoresIt() async throws {
        let cluster = try await Cluster("config")
        defer { Task { await cluster.stop() } }
        #expect(try await cluster.orchestrate(["apply", "--image", Self.image("a")]).status == 0)
        let first = try await cluster.podsEnvironment()
        #expect(first["LOG_LEVEL"] == "info")
        try cluster.setOverrides("app: { logLevel: debug }")
        let plan = try await cluster.orchestrate(["plan", "--image", Self.image("a"), "--detailed-exitcode"])
        #expect(plan.status == 2, "\(plan.stdout)\(plan.stderr)")
        // A new ConfigMap (its name is its content), shown against the one it replaces; the old
        // one stays, since revision 1 reads it.
        #expect(plan.stdout.contains("data.LOG_LEVEL: info → debug"), "\(plan.stdout)")
        #expect(plan.stdout.range(of: #"\+ ConfigMap/pet-backend-config-[0-9a-f]{10}  \(replaces"#, options: .regularExpression) != nil)
        #expect(!plan.stdout.contains("- ConfigMap"), "\(plan.stdout)")
        let applied = try await cluster.orchestrate(["apply", "--image", Self.image("a")])
        #expect(applied.status == 0, "\(applied.stderr)")
        #expect(try await cluster.podsEnvironment()["LOG_LEVEL"] == "debug")

        // Same image, other configuration: the rollback brings revision 1's configuration back.
        let rolledBack = try await cluster.orchestrate(["rollback"])
        #expect(rolledBack.status == 0, "\(rolledBack.stdout)\(rolledBack.stderr)")
        #expect(try await cluster.podsEnvironment() == first)
        let live = try #require(try await cluster.history().live)
        #expect(live.outcome == "succeeded")

        // The spec still says debug, so the next plan wants it back; nothing is pruned while a
        // retained revision reads it.
        let again = try await cluster.orchestrate(["plan", "--image", Self.image("a"), "--detailed-exitcode"])
        #expect(again.status == 2, "\(again.stdout)")
        #expect(!again.stdout.contains("- ConfigMap"), "\(again.stdout)")
        let configMaps = try await cluster.list(
            "/api/v1/namespaces/\(cluster.namespace)/configmaps", labelSelector: "app.kubernetes.io/managed-by=orchestrate")
        #expect(configMaps.count == 2)
    }

    @Test func aConfigurationNoRetainedRevisionReadsIsPruned() async throws {
        let cluster = try await Cluster("configprune")
        defer { Task { await cluster.stop() } }
        #expect(try await cluster.orchestrate(["apply", "--image", Self.image("a")]).status == 0)
        // Revision 1's ReplicaSet is gone (beyond revisionHistoryLimit, or deleted by hand).
        try cluster.setOverrides("app: { logLevel: debug }")
        #expect(try await cluster.orchestrate(["apply", "--image", Self.image("a")]).status == 0)
        let history = try await cluster.history()
        let old = try #require(history.releases.first { $0.revision == 1 })
        let deleted = try await cluster.admin.send(.DELETE, "/apis/apps/v1/namespaces/\(cluster.namespace)/replicasets/\(old.replicaSet)")
        #expect(deleted.status == .ok, "\(String(buffer: deleted.body))")
        try cluster.setOverrides("app: { logLevel: warn }")
        let plan = try await cluster.orchestrate(["plan", "--image", Self.image("a")])
        #expect(
            plan.stdout.range(of: #"- ConfigMap/pet-backend-config-[0-9a-f]{10}  \(no longer rendered\)"#, options: .regularExpression)
                != nil, "\(plan.stdout)")
        #expect(try await cluster.orchestrate(["apply", "--image", Self.image("a")]).status == 0)
        let configMaps = try await cluster.list(
            "/api/v1/namespaces/\(cluster.namespace)/configmaps", labelSelector: "app.kubernetes.io/managed-by=orchestrate")
        #expect(configMaps.count == 2, "\(configMaps.map { Field.string($0, "metadata", "name") ?? "" })")
        #expect(try await cluster.podsEnvironment()["LOG_LEVEL"] == "warn")
    }

    @Test func aNodeDrainCanEvictAServingPod() async throws {
        let cluster = try await Cluster("drain")
        defer { Task { await cluster.stop() } }
        #expect(try await cluster.orchestrate(["apply", "--image", Self.image("a")]).status == 0)
        let budget = "/apis/policy/v1/namespaces/\(cluster.namespace)/poddisruptionbudgets/pet-backend"
        try await cluster.eventually("the disruption budget allows one eviction") {
            Field.int(try await cluster.object(budget), "status", "disruptionsAllowed") == 1
        }
        let pod = try #require(
            try await cluster.list(
                cluster.podsPath, labelSelector: "app.kubernetes.io/component=api"
            ).first.flatMap { Field.string($0, "metadata", "name") })
        let eviction = try await cluster.admin.send(
            .POST, "/api/v1/namespaces/\(cluster.namespace)/pods/\(pod)/eviction",
            body: ByteBuffer(string: #"{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"\#(pod)"}}"#),
            contentType: "application/json")
        #expect(eviction.status == .created, "\(String(buffer: eviction.body))")
    }

    @Test func aSecretWithoutARequiredKeyIsRefusedBeforeAnythingChanges() async throws {
        let cluster = try await Cluster("secret", secretKeysLeftOut: ["JWT_SECRET"])
        defer { Task { await cluster.stop() } }
        let refused = try await cluster.orchestrate(["apply", "--image", Self.image("a")])
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("lacks JWT_SECRET"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("c2VjcmV0") && !refused.stdout.contains("c2VjcmV0"), "a secret value was shown")
        #expect(try await cluster.object(cluster.deploymentPath) == nil)
    }

    @Test func aTokenWithNoRightsIsAClear403() async throws {
        let cluster = try await Cluster("norights")
        defer { Task { await cluster.stop() } }
        let config = try cluster.writeKubeconfig(token: KubernetesControlPlane.User.nobody.token, name: "nobody")
        let plan = try await cluster.orchestrate(["plan", "--image", Self.image("a")], kubeconfig: config)
        #expect(plan.status == 1)
        #expect(plan.stderr.contains("not allowed to get namespaces/\(cluster.namespace) (403 Forbidden)"), "\(plan.stderr)")
        #expect(plan.stderr.contains("grant it in the orchestrator's Role"), "\(plan.stderr)")
    }

    @Test func aFieldTakenByKubectlSetImageConflictsUntilForced() async throws {
        let cluster = try await Cluster("conflict")
        defer { Task { await cluster.stop() } }
        #expect(try await cluster.orchestrate(["apply", "--image", Self.image("a")]).status == 0)
        // What `kubectl set image deployment/pet-backend backend=…` sends.
        let edited = try await cluster.admin.send(
            .PATCH, cluster.deploymentPath + "?fieldManager=kubectl-set",
            body: ByteBuffer(string: #"{"spec":{"template":{"spec":{"containers":[{"name":"backend","image":"\#(Self.image("f"))"}]}}}}"#),
            contentType: "application/strategic-merge-patch+json")
        #expect(edited.status == .ok, "\(String(buffer: edited.body))")
        let conflicted = try await cluster.orchestrate(["apply", "--image", Self.image("a")])
        #expect(conflicted.status == 1, "\(conflicted.stderr)")
        #expect(conflicted.stderr.contains(#"conflict with "kubectl-set""#), "\(conflicted.stderr)")
        #expect(conflicted.stderr.contains("--force-conflicts"))
        let forced = try await cluster.orchestrate(["apply", "--image", Self.image("a"), "--force-conflicts"])
        #expect(forced.status == 0, "\(forced.stderr)")
        let live = try #require(try await cluster.object(cluster.deploymentPath))
        let containers = Field.map(live, "spec", "template", "spec")?["containers"] as? [[String: Any]]
        #expect(containers?.first?["image"] as? String == Self.image("a"))
    }
}

extension KubernetesScenarioTests {
    /// `secrets set/list/unset` as the documented Role allows: only the named Secret's keys
    /// change, values never come back, and a Secret that does not exist yet is created.
    @Test func secretsChangeOnlyTheirKeysOfTheNamedSecret() async throws {
        let cluster = try await Cluster("secrets")
        defer { Task { await cluster.stop() } }
        let path = "/api/v1/namespaces/\(cluster.namespace)/secrets/pet-backend-secrets"
        _ = try await cluster.admin.send(.DELETE, path)
        let created = try await cluster.orchestrate(["secrets", "set", "JWT_SECRET"], input: String(repeating: "j", count: 40))
        #expect(created.status == 0, "\(created.stdout)\(created.stderr)")
        try await cluster.seedSecret()
        let before = try #require(try await cluster.object(path)?["data"] as? [String: String])
        let set = try await cluster.orchestrate(
            ["secrets", "set", "JWT_SECRET", "SENTRY_DSN"],
            input: "JWT_SECRET=\(String(repeating: "k", count: 40))\nSENTRY_DSN=https://key@sentry.example/1\n")
        #expect(set.status == 0, "\(set.stdout)\(set.stderr)")
        let after = try #require(try await cluster.object(path)?["data"] as? [String: String])
        #expect(after["JWT_SECRET"] == Data(String(repeating: "k", count: 40).utf8).base64EncodedString())
        #expect(after["DATABASE_URL"] == before["DATABASE_URL"], "other keys stay")
        let list = try await cluster.orchestrate(["secrets", "list"])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains("SENTRY_DSN") && !list.stdout.contains("sentry.example"), "\(list.stdout)")
        let unset = try await cluster.orchestrate(["secrets", "unset", "SENTRY_DSN"])
        #expect(unset.status == 0, "\(unset.stderr)")
        #expect((try await cluster.object(path)?["data"] as? [String: String])?["SENTRY_DSN"] == nil)
    }
}
