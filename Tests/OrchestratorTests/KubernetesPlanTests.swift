import Foundation
import Manifests
import NIOCore
import TestSupport
import Testing

@testable import Orchestrator

/// `orchestrate plan --target kubernetes` against the fake API server: server-side apply in
/// dry-run for every rendered object, diffs that ignore server defaults, removals found by label,
/// and errors for a missing namespace, an expired token and an unreachable server.
@Suite(.serialized) struct KubernetesPlanTests {
    @Test func planAgainstAnEmptyNamespaceThenAfterApplyThenAfterChanges() async throws {
        let server = try await FakeAPIServer()
        defer { server.stop() }
        let folder = try LocalProcess.temporaryDirectory("k8s-plan")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let kubeconfig = try server.kubeconfig(in: folder)
        let plan = { (extra: [String]) in
            try await CommandRunner.run(
                ["plan", "staging", "--target", "kubernetes", "--kubeconfig", kubeconfig, "--context", "test"] + extra)
        }

        let missingNamespace = try await plan([])
        #expect(missingNamespace.status == 1)
        #expect(
            missingNamespace.stderr.contains("namespace pet-backend-staging does not exist in context `test`"), "\(missingNamespace.stderr)"
        )

        let client = try KubernetesClient(connection: try KubernetesConnection.resolve(kubeconfig: kubeconfig, context: "test"))
        _ = try await client.send(
            .PATCH, "/api/v1/namespaces/pet-backend-staging?fieldManager=test",
            body: ByteBuffer(string: #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"pet-backend-staging"}}"#),
            contentType: "application/apply-patch+yaml")

        let first = try await plan(["--detailed-exitcode"])
        #expect(first.status == 2, "\(first.stderr)")
        for object in [
            "ConfigMap/pet-backend-config", "Deployment/pet-backend", "Service/pet-backend", "HorizontalPodAutoscaler/pet-backend",
        ] {
            #expect(first.stdout.contains("+ \(object)"), "\(first.stdout)")
        }

        // Apply what is rendered, as the orchestrator's field manager, then plan again: the
        // server's defaults (clusterIP, progressDeadlineSeconds…) must not show as changes.
        let spec = try Self.staging()
        let image = "registry.example/pet-backend@sha256:" + String(repeating: "a", count: 64)
        for object in try Self.objects(spec, image: image) {
            let applied = try await client.send(
                .PATCH, object.path + "?fieldManager=orchestrate", body: ByteBuffer(bytes: try object.json()),
                contentType: "application/apply-patch+yaml")
            #expect(applied.status == .ok, "\(object.label): \(String(buffer: applied.body))")
        }
        let unchanged = try await plan(["--detailed-exitcode", "--image", image])
        #expect(unchanged.status == 0, "\(unchanged.stdout)\(unchanged.stderr)")
        #expect(unchanged.stdout.contains("No changes"))

        // A new image and an object left from an earlier render.
        _ = try await client.send(
            .PATCH, "/api/v1/namespaces/pet-backend-staging/configmaps/pet-backend-old?fieldManager=orchestrate",
            body: ByteBuffer(
                string:
                    #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"pet-backend-old","namespace":"pet-backend-staging","labels":{"app.kubernetes.io/managed-by":"orchestrate","app.kubernetes.io/instance":"pet-backend-staging"}}}"#
            ), contentType: "application/apply-patch+yaml")
        let newImage = "registry.example/pet-backend@sha256:" + String(repeating: "b", count: 64)
        let changed = try await plan(["--detailed-exitcode", "--image", newImage, "--json"])
        #expect(changed.status == 2)
        let decoded = try JSONDecoder().decode(PlanShape.self, from: Data(changed.stdout.utf8))
        let deployment = decoded.changes.first { $0.resource == "Deployment/pet-backend" }
        #expect(deployment?.action == "change")
        #expect(
            deployment?.fields.contains {
                $0.field == "spec.template.spec.containers[name=backend].image" && $0.before == image && $0.after == newImage
            } == true, "\(changed.stdout)")
        #expect(decoded.changes.contains { $0.resource == "ConfigMap/pet-backend-old" && $0.action == "remove" })
        // The migration Job of the new image replaces the old one (a Job's template is immutable).
        #expect(decoded.changes.map(\.action).sorted() == ["add", "change", "remove", "remove"], "\(decoded.changes.map(\.resource))")
        #expect(decoded.changes.contains { $0.action == "add" && $0.resource.hasPrefix("Job/pet-backend-migrate-") })

        // Nothing was persisted by the dry runs.
        let live = try await client.send(.GET, "/apis/apps/v1/namespaces/pet-backend-staging/deployments/pet-backend")
        let liveObject = try JSONSerialization.jsonObject(with: Data(live.body.readableBytesView)) as? [String: Any]
        #expect(ObjectDiff.render(liveObject ?? [:]).contains(image))
        await client.shutdown()
    }

    @Test func expiredTokenAndUnreachableServerAreClearErrors() async throws {
        let server = try await FakeAPIServer()
        defer { server.stop() }
        let folder = try LocalProcess.temporaryDirectory("k8s-plan-errors")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let expired = try server.kubeconfig(in: folder, token: "expired-token")
        let refused = try await CommandRunner.run([
            "plan", "staging", "--target", "kubernetes", "--kubeconfig", expired, "--context", "test",
        ])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("rejected the credentials of context `test` (401 Unauthorized)"), "\(refused.stderr)")

        server.stop()
        try await Task.sleep(for: .milliseconds(200))
        let good = try server.kubeconfig(in: folder)
        let unreachable = try await CommandRunner.run([
            "plan", "staging", "--target", "kubernetes", "--kubeconfig", good, "--context", "test",
        ])
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.contains("cannot reach the API server at \(server.url)"), "\(unreachable.stderr)")
    }

    struct PlanShape: Decodable {
        struct ChangeShape: Decodable {
            var action: String
            var resource: String
            var fields: [FieldShape]
        }
        struct FieldShape: Decodable {
            var field: String
            var before: String?
            var after: String?
        }
        var changes: [ChangeShape]
    }

    static func staging() throws -> EnvironmentSpec {
        guard
            case .success(let spec) = SpecLoader.load(path: CommandRunner.repositoryRoot + "/environments/staging.yaml", using: DiskFiles())
        else { throw RolloutTestError() }
        return spec
    }

    static func objects(_ spec: EnvironmentSpec, image: String) throws -> [DesiredObject] {
        guard let target = spec.targets.kubernetes else { throw RolloutTestError() }
        return try DesiredObjects.render(
            spec, target: target, image: image,
            templates: TemplateSet(directory: CommandRunner.repositoryRoot + "/templates", files: DiskFiles()))
    }
}
