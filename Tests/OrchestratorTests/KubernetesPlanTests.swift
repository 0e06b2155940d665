import Foundation
import Manifests
import NIOCore
import TestSupport
import Testing

@testable import Orchestrator

/// `orchestrate plan --target kubernetes` against the real API server: server-side apply in
/// dry-run for every rendered object, diffs that ignore server defaults, removals found by label,
/// nothing persisted, and errors for a missing namespace, a rejected token and an unreachable
/// server.
@Suite(.serialized) struct KubernetesPlanTests {
    typealias Cluster = EnvtestCluster

    @Test func aMissingNamespaceIsNamed() async throws {
        let cluster = try await Cluster("plan-ns")
        defer { Task { await cluster.stop() } }
        try cluster.setOverrides("targets: { kubernetes: { namespace: nowhere-\(cluster.namespace) } }")
        let missing = try await cluster.orchestrate(["plan"], kubeconfig: try cluster.plane.kubeconfig(for: .admin))
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("namespace nowhere-\(cluster.namespace) does not exist in context `envtest`"), "\(missing.stderr)")
    }

    @Test func aSavedPlanAppliesExactlyAndOneMadeBeforeTheClusterMovedIsRefused() async throws {
        let cluster = try await Cluster("saved")
        defer { Task { await cluster.stop() } }
        #expect(try await cluster.orchestrate(["apply", "--image", Cluster.image("a")]).status == 0)
        let planFile = cluster.folder + "/b.plan.json"
        let planned = try await cluster.orchestrate(["plan", "--image", Cluster.image("b"), "--out", planFile])
        #expect(planned.status == 0, "\(planned.stderr)")
        // The file says where and what: apply needs nothing else, not even the image.
        let applied = try await CommandRunner.run(["apply", planFile])
        #expect(applied.status == 0, "\(applied.stderr)")
        #expect(applied.stdout.contains("revision 2 is live (\(Cluster.image("b")))"), "\(applied.stdout)")

        let staleFile = cluster.folder + "/c.plan.json"
        #expect(try await cluster.orchestrate(["plan", "--image", Cluster.image("c"), "--out", staleFile]).status == 0)
        // Someone changes the environment between plan and apply.
        #expect(try await cluster.orchestrate(["apply", "--image", Cluster.image("d")]).status == 0)
        let stale = try await CommandRunner.run(["apply", staleFile])
        #expect(stale.status == 6, "\(stale.stderr)")
        #expect(stale.stderr.contains("was planned against a live state that has changed since; plan again"), "\(stale.stderr)")
        #expect(try await cluster.history().live?.image == Cluster.image("d"))
    }

    @Test func planShowsAddsThenFieldChangesAndRemovalsAndPersistsNothing() async throws {
        let cluster = try await Cluster("plan")
        defer { Task { await cluster.stop() } }
        let image = Cluster.image("a")
        let first = try await cluster.orchestrate(["plan", "--detailed-exitcode", "--image", image])
        #expect(first.status == 2, "\(first.stderr)")
        for object in [
            "ConfigMap/pet-backend-config", "Deployment/pet-backend", "Service/pet-backend", "HorizontalPodAutoscaler/pet-backend",
            "PodDisruptionBudget/pet-backend",
        ] {
            #expect(first.stdout.contains("+ \(object)"), "\(first.stdout)")
        }
        #expect(try await cluster.object(cluster.deploymentPath) == nil, "a dry run persisted the Deployment")
        #expect(try await cluster.orchestrate(["apply", "--image", image]).status == 0)

        // A new image, and an object left from an earlier render.
        try await Cluster.create(
            cluster.admin, "/api/v1/namespaces/\(cluster.namespace)/configmaps",
            [
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": [
                    "name": "pet-backend-old",
                    "labels": ["app.kubernetes.io/managed-by": "orchestrate", "app.kubernetes.io/instance": cluster.instance],
                ],
            ])
        let newImage = Cluster.image("b")
        let changed = try await cluster.orchestrate(["plan", "--detailed-exitcode", "--image", newImage, "--json"])
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
        #expect(decoded.changes.contains { $0.action == "add" && $0.resource.hasPrefix("Job/pet-backend-migrate-") })
        #expect(decoded.changes.contains { $0.action == "remove" && $0.resource.hasPrefix("Job/pet-backend-migrate-") })
        let live = try await cluster.object(cluster.deploymentPath)
        #expect(ObjectDiff.render(live ?? [:]).contains(image), "a dry run persisted the new image")
    }

    @Test func aRejectedTokenAndAnUnreachableServerAreClearErrors() async throws {
        let cluster = try await Cluster("plan-auth")
        defer { Task { await cluster.stop() } }
        let expired = try cluster.writeKubeconfig(token: "expired-token", name: "expired")
        let refused = try await cluster.orchestrate(["plan"], kubeconfig: expired)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("rejected the credentials of context `envtest` (401 Unauthorized)"), "\(refused.stderr)")

        let port = LocalProcess.freePort()
        let nowhere = try String(contentsOfFile: cluster.kubeconfig, encoding: .utf8)
            .replacingOccurrences(of: cluster.plane.server, with: "https://127.0.0.1:\(port)")
        let path = cluster.folder + "/kubeconfig-nowhere"
        try nowhere.write(toFile: path, atomically: true, encoding: .utf8)
        let unreachable = try await cluster.orchestrate(["plan"], kubeconfig: path)
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.contains("cannot reach the API server at https://127.0.0.1:\(port)"), "\(unreachable.stderr)")
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
}
