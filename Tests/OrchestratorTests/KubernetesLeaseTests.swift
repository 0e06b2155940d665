import Foundation
import Testing

@testable import Orchestrator

/// The deploy lock's life on the fake API server, with a short lease so renewals happen within
/// the test: renewed while held (so another run keeps waiting), never taken back from a new
/// holder, and released for the next run.
@Suite struct KubernetesLeaseTests {
    static let namespace = "lease-test"
    static let path = "/apis/coordination.k8s.io/v1/namespaces/\(namespace)/leases/pet-backend-deploy"

    private func spec(_ server: FakeAPIServer) -> [String: Any] {
        server.store.get(Self.path)?["spec"] as? [String: Any] ?? [:]
    }

    @Test func aHeldLeaseIsRenewedReleasedAndNeverTakenBack() async throws {
        let server = try await FakeAPIServer()
        defer { server.stop() }
        let connection = KubernetesConnection(
            server: server.url, certificateAuthorityPEM: nil, insecureSkipTLSVerify: false, credentials: .bearer(FakeAPIServer.token),
            namespace: Self.namespace, context: "test")
        let client = try KubernetesClient(connection: connection)

        let lease = try await KubernetesLease.acquire(
            client: client, namespace: Self.namespace, name: "pet-backend-deploy", holder: "first", durationSeconds: 3)
        let acquired = try #require(spec(server)["renewTime"] as? String)
        // The lease lasts 3 s and is renewed every second: after 4 s it is still held, renewed.
        try await Task.sleep(for: .seconds(4))
        let renewed = try #require(spec(server)["renewTime"] as? String)
        #expect(renewed != acquired, "the lease was not renewed")
        #expect(!KubernetesLease.expired(spec(server)))
        await #expect(throws: DeployFailure.self) {
            _ = try await KubernetesLease.acquire(
                client: client, namespace: Self.namespace, name: "pet-backend-deploy", holder: "second", durationSeconds: 3)
        }

        await lease.release()
        #expect(spec(server)["holderIdentity"] is NSNull || spec(server)["holderIdentity"] == nil)
        let second = try await KubernetesLease.acquire(
            client: client, namespace: Self.namespace, name: "pet-backend-deploy", holder: "second", durationSeconds: 3)
        #expect(spec(server)["holderIdentity"] as? String == "second")
        #expect(spec(server)["leaseTransitions"] as? Int == 1)

        // Someone took the lease over (it had expired for them): the old holder's renewals stop
        // and its release leaves the new holder's lease alone.
        server.store.update(Self.path) { object in
            var spec = object["spec"] as? [String: Any] ?? [:]
            spec["holderIdentity"] = "third"
            object["spec"] = spec
        }
        try await Task.sleep(for: .seconds(2))
        #expect(spec(server)["holderIdentity"] as? String == "third")
        await second.release()
        #expect(spec(server)["holderIdentity"] as? String == "third")
        await client.shutdown()
    }
}
