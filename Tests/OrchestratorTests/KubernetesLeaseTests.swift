import Foundation
import NIOCore
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
}
