import Foundation
import NIOCore
import TestSupport
import Testing

@testable import Orchestrator

/// The deploy lock's life on the real API server, with a short lease so renewals happen within
/// the test: renewed while held (so another run keeps waiting), never taken back from a new
/// holder, and released for the next run.
@Suite struct KubernetesLeaseTests {
    @Test func aHeldLeaseIsRenewedReleasedAndNeverTakenBack() async throws {
        let cluster = try await EnvtestCluster("lease")
        defer { Task { await cluster.stop() } }
        let client = cluster.admin
        let namespace = cluster.namespace
        let path = "/apis/coordination.k8s.io/v1/namespaces/\(namespace)/leases/pet-backend-deploy"
        func spec() async throws -> [String: Any] {
            try await cluster.object(path)?["spec"] as? [String: Any] ?? [:]
        }

        let lease = try await KubernetesLease.acquire(
            client: client, namespace: namespace, name: "pet-backend-deploy", holder: "first", durationSeconds: 9)
        let acquired = try #require(try await spec()["renewTime"] as? String)
        // The lease lasts 9 s and is renewed every 3 s (a shorter lease expired once when the
        // whole suite loaded both cores).
        try await cluster.eventually("the lease is renewed", within: .seconds(9)) {
            try await spec()["renewTime"] as? String != acquired
        }
        #expect(!KubernetesLease.expired(try await spec()))
        await #expect(throws: DeployFailure.self) {
            _ = try await KubernetesLease.acquire(
                client: client, namespace: namespace, name: "pet-backend-deploy", holder: "second", durationSeconds: 9)
        }

        await lease.release()
        #expect(try await spec()["holderIdentity"] == nil)
        let second = try await KubernetesLease.acquire(
            client: client, namespace: namespace, name: "pet-backend-deploy", holder: "second", durationSeconds: 9)
        #expect(try await spec()["holderIdentity"] as? String == "second")
        #expect(try await spec()["leaseTransitions"] as? Int == 1)

        // Someone took the lease over (it had expired for them): the old holder's renewals stop
        // and its release leaves the new holder's lease alone.
        var object = try #require(try await cluster.object(path))
        var taken = object["spec"] as? [String: Any] ?? [:]
        taken["holderIdentity"] = "third"
        object["spec"] = taken
        let put = try await client.send(
            .PUT, path, body: ByteBuffer(bytes: try KubernetesClient.encode(object)), contentType: "application/json")
        #expect(put.status == .ok)
        // Its next renewal finds the new holder and stops renewing, leaving the lease alone.
        await second.renewalsStopped()
        #expect(try await spec()["holderIdentity"] as? String == "third")
        await second.release()
        #expect(try await spec()["holderIdentity"] as? String == "third")
    }

    /// The create (first run) and the update (a later run) are done by the server but their
    /// answers lost: the client's retry meets a 409 against its own lease, which is ours to keep,
    /// not "the environment is locked by" ourselves (17 of 100 lost-answer applies of the fault
    /// matrix exited 5 so before the fix, 0 of 100 after).
    @Test func aLeaseTakenByARequestWhoseAnswerWasLostIsOurs() async throws {
        let cluster = try await EnvtestCluster("leaselost")
        defer { Task { await cluster.stop() } }
        let proxy = try await FaultProxy(upstream: cluster.plane.server, certificateAuthority: cluster.plane.certificateAuthority)
        defer { Task { await proxy.stop() } }
        let config = try cluster.writeKubeconfig(token: KubernetesControlPlane.User.admin.token, name: "admin-proxy", server: proxy.url)
        let client = try KubernetesClient(
            connection: try KubernetesConnection.resolve(kubeconfig: config, context: nil), requestTimeout: .seconds(3))
        defer { Task { await client.shutdown() } }
        let leases = "/apis/coordination.k8s.io/v1/namespaces/\(cluster.namespace)/leases"

        proxy.inject(.answerLost, method: .post, pathPrefix: leases)
        let created = try await KubernetesLease.acquire(
            client: client, namespace: cluster.namespace, name: "pet-backend-deploy", holder: "first", durationSeconds: 9)
        #expect(proxy.pending == 0, "the create's answer was not lost: \(proxy.unmet)")
        await created.release()

        proxy.inject(.answerLost, method: .put, pathPrefix: leases + "/pet-backend-deploy")
        let updated = try await KubernetesLease.acquire(
            client: client, namespace: cluster.namespace, name: "pet-backend-deploy", holder: "second", durationSeconds: 9)
        #expect(proxy.pending == 0, "the update's answer was not lost: \(proxy.unmet)")
        let holder = Field.string(try await cluster.object(leases + "/pet-backend-deploy"), "spec", "holderIdentity")
        #expect(holder == "second")
        await updated.release()
    }
}
