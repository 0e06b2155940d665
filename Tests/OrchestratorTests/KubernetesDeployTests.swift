import Foundation
import NIOCore
import NIOHTTP1
import TestSupport
import Testing
import Yams

@testable import Orchestrator

/// The Kubernetes target end to end against the fake API server and its controllers: the
/// scenarios of the issue, in the order an environment lives through them.
@Suite(.serialized) struct KubernetesDeployTests {
    static let namespace = "pet-backend-staging"
    static func image(_ letter: Character) -> String {
        "registry.example/pet-backend@sha256:" + String(repeating: letter, count: 64)
    }

    @Test func anEnvironmentsLifeOnKubernetes() async throws {
        let server = try await FakeAPIServer()
        defer { server.stop() }
        let folder = try LocalProcess.temporaryDirectory("k8s-deploy")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let kubeconfig = try server.kubeconfig(in: folder)
        func orchestrate(_ arguments: [String]) async throws -> CommandRunner.Outcome {
            try await CommandRunner.run(
                [arguments[0], "staging"] + arguments.dropFirst() + [
                    "--target", "kubernetes", "--kubeconfig", kubeconfig, "--context", "test",
                ])
        }
        let seedConfig = try server.kubeconfig(in: folder, token: FakeAPIServer.seedToken)
        let client = try KubernetesClient(connection: try KubernetesConnection.resolve(kubeconfig: seedConfig, context: "test"))
        defer { Task { await client.shutdown() } }
        try await Self.seed(
            client, path: "/api/v1/namespaces/\(Self.namespace)",
            #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"pet-backend-staging"}}"#)

        // A Secret without every required key: refused before anything changes.
        try await Self.seedSecret(client, leaving: "JWT_SECRET")
        let refused = try await orchestrate(["apply", "--image", Self.image("a")])
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("lacks JWT_SECRET"), "\(refused.stderr)")
        #expect(server.store.get("/apis/apps/v1/namespaces/\(Self.namespace)/deployments/pet-backend") == nil)
        #expect(!refused.stderr.contains("c2VjcmV0"), "a secret value was shown")

        // First apply into the namespace, then no changes.
        try await Self.seedSecret(client, leaving: nil)
        let first = try await orchestrate(["apply", "--image", Self.image("a")])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("revision 1 is live"), "\(first.stdout)")
        let unchanged = try await orchestrate(["plan", "--image", Self.image("a"), "--detailed-exitcode"])
        #expect(unchanged.status == 0, "\(unchanged.stdout)\(unchanged.stderr)")

        // An image change rolls out.
        let second = try await orchestrate(["apply", "--image", Self.image("b")])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("revision 2 is live"))

        // A crash-looping image: fails fast naming the pod, rolls back to the last good revision.
        server.controllers.crashLoop(image: Self.image("c"))
        let started = ContinuousClock.now
        let crashed = try await orchestrate(["apply", "--image", Self.image("c")])
        #expect(crashed.status == 3, "\(crashed.stderr)")
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(
            crashed.stderr.range(of: "pod pet-backend-[a-z0-9]+-0 failed start-up: CrashLoopBackOff", options: .regularExpression) != nil,
            "\(crashed.stderr)")
        #expect(crashed.stderr.contains("fatal: cannot load the payment provider configuration"))
        #expect(crashed.stderr.contains("rolled back to revision 2"))
        var history = try await Self.history(orchestrate)
        #expect(history.current == 4)
        #expect(history.releases.first { $0.revision == 3 }?.outcome == "failed")
        #expect(history.releases.first { $0.revision == 4 }?.image == Self.image("b"))

        // A failing migration Job stops the deploy: nothing else changes.
        server.controllers.failMigrations(image: Self.image("d"))
        let migration = try await orchestrate(["apply", "--image", Self.image("d")])
        #expect(migration.status == 3, "\(migration.stderr)")
        #expect(migration.stderr.contains("the migration failed; nothing else was changed"))
        #expect(migration.stderr.contains(#"relation "orders" already exists"#))
        #expect(try await Self.history(orchestrate).current == 4)

        // Rollback to a named revision.
        let rolledBack = try await orchestrate(["rollback", "--to", "1"])
        #expect(rolledBack.status == 0, "\(rolledBack.stderr)")
        history = try await Self.history(orchestrate)
        #expect(history.releases.first { $0.revision == history.current }?.image == Self.image("a"))

        // Another field manager changed the image: a conflict, reported; taken over only when told.
        let deploymentPath = "/apis/apps/v1/namespaces/\(Self.namespace)/deployments/pet-backend"
        let edited = try await client.send(
            .PATCH, deploymentPath + "?fieldManager=kubectl-edit&force=true",
            body: ByteBuffer(
                string:
                    #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"pet-backend","namespace":"pet-backend-staging"},"spec":{"template":{"spec":{"containers":[{"name":"backend","image":"\#(Self.image("f"))"}]}}}}"#
            ), contentType: "application/apply-patch+yaml")
        #expect(edited.status == .ok)
        let conflicted = try await orchestrate(["apply", "--image", Self.image("a")])
        #expect(conflicted.status == 1, "\(conflicted.stderr)")
        #expect(conflicted.stderr.contains(#"conflict with "kubectl-edit""#), "\(conflicted.stderr)")
        #expect(conflicted.stderr.contains("--force-conflicts"))
        let forced = try await orchestrate(["apply", "--image", Self.image("a"), "--force-conflicts"])
        #expect(forced.status == 0, "\(forced.stderr)")

        // Pods ready but the service unhealthy behind the proxy: the health gate fails, rollback.
        server.controllers.setUnhealthy(true)
        let unhealthy = try await orchestrate(["apply", "--image", Self.image("g")])
        #expect(unhealthy.status == 3, "\(unhealthy.stderr)")
        #expect(unhealthy.stderr.contains("Service/pet-backend failed GET /healthz/detailed: HTTP 503"), "\(unhealthy.stderr)")
        server.controllers.setUnhealthy(false)

        // A Lease held by another run: refused, naming the holder. Once it expires: taken over.
        let leasePath = "/apis/coordination.k8s.io/v1/namespaces/\(Self.namespace)/leases/pet-backend-staging-deploy"
        server.store.update(leasePath) { lease in
            lease["spec"] = [
                "holderIdentity": "ci@runner-7 pid 4242", "leaseDurationSeconds": 60, "renewTime": KubernetesLease.timestamp(Date()),
            ]
        }
        let locked = try await orchestrate(["apply", "--image", Self.image("e")])
        #expect(locked.status == 5, "\(locked.stderr)")
        #expect(locked.stderr.contains("locked by ci@runner-7 pid 4242"), "\(locked.stderr)")
        server.store.update(leasePath) { lease in
            var spec = lease["spec"] as? [String: Any] ?? [:]
            spec["renewTime"] = "2026-01-01T00:00:00.000000Z"
            lease["spec"] = spec
        }

        // The API server throttling, failing and not answering mid-rollout: retried, and the apply converges.
        server.failNext(2, status: 429, pathPrefix: "/apis/apps/v1/namespaces/\(Self.namespace)/deployments")
        server.failNext(2, status: 500, pathPrefix: "/apis/apps/v1/namespaces/\(Self.namespace)/replicasets")
        server.failNext(1, status: 0, pathPrefix: "/api/v1/namespaces/\(Self.namespace)/services/pet-backend:http/proxy")
        // And the watches' resourceVersions compacted away (410 Gone, both ways the API server says it).
        server.expireNextWatches(1, pathPrefix: "/apis/batch/v1/namespaces/\(Self.namespace)/jobs")
        server.expireNextWatches(1, pathPrefix: "/apis/apps/v1/namespaces/\(Self.namespace)/deployments", asHTTPStatus: true)
        let throttled = try await orchestrate(["apply", "--image", Self.image("e")])
        #expect(throttled.status == 0, "\(throttled.stderr)")
        #expect(server.expiredWatchesLeft == 0, "the apply did not watch through both expiries")
        history = try await Self.history(orchestrate)
        #expect(history.releases.first { $0.revision == history.current }?.image == Self.image("e"))
        #expect(history.releases.first { $0.revision == history.current }?.outcome == "succeeded")
        // Migration Jobs of earlier images were pruned: only this release's is left.
        let jobs = server.store.list("/apis/batch/v1/namespaces/\(Self.namespace)/jobs", labels: [:])
        #expect(jobs.count == 1, "\(jobs.compactMap { Field.string($0, "metadata", "name") })")

        // rollback without --to: the last successful revision before the current one (the failed
        // revision of image g is skipped), restored as a new revision.
        let back = try await orchestrate(["rollback"])
        #expect(back.status == 0, "\(back.stderr)")
        history = try await Self.history(orchestrate)
        #expect(history.releases.first { $0.revision == history.current }?.image == Self.image("a"))
        #expect(history.releases.first { $0.image == Self.image("g") }?.outcome == "failed")

        // What the autoscaler reports (no controller for it here: the test plays metrics-server).
        server.store.update("/apis/autoscaling/v2/namespaces/\(Self.namespace)/horizontalpodautoscalers/pet-backend") { hpa in
            hpa["status"] = [
                "currentReplicas": 2, "desiredReplicas": 3,
                "currentMetrics": [["type": "Resource", "resource": ["name": "cpu", "current": ["averageUtilization": 85]]]],
                "conditions": [["type": "ScalingActive", "status": "True", "reason": "ValidMetricFound"]],
            ]
        }
        let status = try await orchestrate(["status"])
        #expect(status.status == 0)
        #expect(status.stdout.contains("1/1 available"), "\(status.stdout)")
        #expect(status.stdout.contains("autoscaler: 2 current, 3 desired; cpu 85% (target 70%)"), "\(status.stdout)")

        // Everything orchestrate asked for is allowed by the Role the README documents.
        let rules = try Self.documentedRules()
        // The fake answered only paths and methods the official API has, with objects of its shapes.
        let shapes = try OpenAPIShapes()
        #expect(
            shapes.unknownFields(in: ["spec": ["replicaz": 1]], schema: "io.k8s.api.apps.v1.Deployment") == ["Deployment.spec.replicaz"])
        #expect(shapes.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/log"] == nil)
        for template in server.requests.pathTemplates {
            let parts = template.split(separator: " ", maxSplits: 1).map(String.init)
            #expect(shapes.paths[parts[1]]?.contains(parts[0]) == true, "\(template) is not in the Kubernetes OpenAPI documents")
        }
        let namespaced = "/namespaces/\(Self.namespace)"
        var samples: [(Any, String)] = [
            (server.store.get("/apis/apps/v1\(namespaced)/deployments/pet-backend") ?? [:], "io.k8s.api.apps.v1.Deployment"),
            (
                server.store.get("/apis/coordination.k8s.io/v1\(namespaced)/leases/pet-backend-staging-deploy") ?? [:],
                "io.k8s.api.coordination.v1.Lease"
            ),
        ]
        samples += server.store.list("/apis/apps/v1\(namespaced)/replicasets", labels: [:]).map { ($0, "io.k8s.api.apps.v1.ReplicaSet") }
        samples += server.store.list("/api/v1\(namespaced)/pods", labels: [:]).map { ($0, "io.k8s.api.core.v1.Pod") }
        samples += server.store.list("/apis/batch/v1\(namespaced)/jobs", labels: [:]).map { ($0, "io.k8s.api.batch.v1.Job") }
        let statusBody = try JSONSerialization.jsonObject(with: FakeAPIServer.statusBody(409, reason: "Conflict", message: "x"))
        samples.append((statusBody, "io.k8s.apimachinery.pkg.apis.meta.v1.Status"))
        for (object, schema) in samples {
            #expect(
                shapes.unknownFields(in: object, schema: schema).isEmpty, "\(schema): \(shapes.unknownFields(in: object, schema: schema))")
        }

        #expect(server.requests.accesses.count > 10)
        for access in server.requests.accesses {
            let allowed = rules.contains { rule in
                rule.groups.contains(access.group) && rule.resources.contains(access.resource) && rule.verbs.contains(access.verb)
                    && (rule.names.isEmpty || access.name.map(rule.names.contains) == true)
            }
            #expect(allowed, "docs/kubernetes/orchestrate-rbac.yaml does not allow \(access)")
        }
    }

    struct Rule {
        var groups: Set<String>
        var resources: Set<String>
        var verbs: Set<String>
        var names: Set<String>
    }

    /// The rules of the Role and ClusterRole in docs/kubernetes/orchestrate-rbac.yaml.
    static func documentedRules() throws -> [Rule] {
        let text = try String(contentsOfFile: CommandRunner.repositoryRoot + "/docs/kubernetes/orchestrate-rbac.yaml", encoding: .utf8)
        var rules: [Rule] = []
        for document in try Yams.load_all(yaml: text) {
            guard let object = document as? [String: Any], ["Role", "ClusterRole"].contains(object["kind"] as? String) else { continue }
            for rule in object["rules"] as? [[String: Any]] ?? [] {
                rules.append(
                    Rule(
                        groups: Set(rule["apiGroups"] as? [String] ?? []), resources: Set(rule["resources"] as? [String] ?? []),
                        verbs: Set(rule["verbs"] as? [String] ?? []), names: Set(rule["resourceNames"] as? [String] ?? [])))
            }
        }
        return rules
    }

    struct History: Decodable {
        struct Release: Decodable {
            var revision: Int
            var image: String
            var outcome: String?
        }
        var current: Int?
        var releases: [Release]
    }

    static func history(_ orchestrate: ([String]) async throws -> CommandRunner.Outcome) async throws -> History {
        let outcome = try await orchestrate(["releases", "--json"])
        return try JSONDecoder().decode(History.self, from: Data(outcome.stdout.utf8))
    }

    static func seed(_ client: KubernetesClient, path: String, method: HTTPMethod = .PATCH, _ body: String) async throws {
        let response = try await client.send(
            method, method == .PATCH ? path + "?fieldManager=test" : path, body: ByteBuffer(string: body),
            contentType: method == .PATCH ? "application/apply-patch+yaml" : "application/json")
        #expect((200..<300).contains(response.status.code), "\(String(buffer: response.body))")
    }

    static func seedSecret(_ client: KubernetesClient, leaving missing: String?) async throws {
        let keys = [
            "DATABASE_URL", "REDIS_URL", "JWT_SECRET", "REFRESH_TOKEN_SECRET", "SESSION_SECRET", "ENCRYPTION_KEY", "CLERK_SECRET_KEY",
        ]
        let data = keys.filter { $0 != missing }.map { "\"\($0)\":\"c2VjcmV0\"" }.joined(separator: ",")
        _ = try await client.send(.DELETE, "/api/v1/namespaces/\(namespace)/secrets/pet-backend-secrets")
        try await seed(
            client, path: "/api/v1/namespaces/\(namespace)/secrets/pet-backend-secrets",
            #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"pet-backend-secrets","namespace":"pet-backend-staging"},"data":{\#(data)}}"#
        )
    }
}
