import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOSSL
import ServiceLifecycle
import TestSupport
import Testing

@testable import Orchestrator

/// The API client against a local HTTPS server with certificates made by openssl: trust through
/// the kubeconfig's certificate authority, a TLS mismatch, bearer tokens, client certificates,
/// and the Status errors a real API server returns for 401 and 403.
@Suite(.serialized) struct KubernetesClientTests {
    @Test func trustTokensAndErrorsAUserCanActOn() async throws {
        let pki = try TestPKI()
        let server = try await TLSTestServer(pki: pki, requireClientCertificate: false)
        defer { server.stop() }
        let trusted = KubernetesConnection(
            server: server.url, certificateAuthorityPEM: pki.caPEM, insecureSkipTLSVerify: false, credentials: .bearer("good-token"),
            namespace: nil, context: "test")
        let client = try KubernetesClient(connection: trusted)
        let ok = try await client.send(.GET, "/api/v1/namespaces/default")
        #expect(ok.status == .ok)
        #expect(ok.json?["kind"] as? String == "Namespace")

        let forbidden = try await client.send(.PATCH, "/apis/apps/v1/namespaces/default/deployments/pet-backend")
        #expect(forbidden.status == .forbidden)
        let message = "\(client.failure(forbidden, verb: "patch", resource: "deployments/pet-backend"))"
        #expect(message.contains("not allowed to patch deployments/pet-backend (403 Forbidden)"), "\(message)")
        #expect(message.contains(#"User "deployer" cannot patch resource "deployments""#))
        await client.shutdown()

        var expired = trusted
        expired.credentials = .bearer("expired-token")
        let expiredClient = try KubernetesClient(connection: expired)
        let refused = try await expiredClient.send(.GET, "/api/v1/namespaces/default")
        #expect(refused.status == .unauthorized)
        #expect("\(expiredClient.failure(refused, verb: "get", resource: "namespaces/default"))".contains("token has expired"))
        await expiredClient.shutdown()

        var wrongAuthority = trusted
        wrongAuthority.certificateAuthorityPEM = pki.otherCAPEM
        let mismatched = try KubernetesClient(connection: wrongAuthority)
        let mismatch = await failureMessage { _ = try await mismatched.send(.GET, "/api/v1/namespaces/default") }
        #expect(mismatch.contains("TLS with the API server at \(server.url) failed"), "\(mismatch)")
        await mismatched.shutdown()

        var closed = trusted
        closed.server = "https://127.0.0.1:\(LocalProcess.freePort())"
        let unreachable = try KubernetesClient(connection: closed)
        let unreached = await failureMessage { _ = try await unreachable.send(.GET, "/version") }
        #expect(unreached.contains("cannot reach the API server at \(closed.server)"), "\(unreached)")
        await unreachable.shutdown()
    }

    @Test func clientCertificateAuthentication() async throws {
        let pki = try TestPKI()
        let server = try await TLSTestServer(pki: pki, requireClientCertificate: true)
        defer { server.stop() }
        let withCertificate = KubernetesConnection(
            server: server.url, certificateAuthorityPEM: pki.caPEM, insecureSkipTLSVerify: false,
            credentials: .clientCertificate(certificatePEM: pki.clientPEM, keyPEM: pki.clientKeyPEM), namespace: nil, context: "mtls")
        let client = try KubernetesClient(connection: withCertificate)
        let answer = try await client.send(.GET, "/version")
        #expect(answer.status == .ok)
        await client.shutdown()

        var without = withCertificate
        without.credentials = .none
        let anonymous = try KubernetesClient(connection: without)
        await #expect(throws: KubernetesError.self) {
            _ = try await anonymous.send(.GET, "/version")
        }
        await anonymous.shutdown()
    }
}

/// A CA, a server certificate for 127.0.0.1, a client certificate, and an unrelated CA.
struct TestPKI {
    let folder: String
    let caPEM: [UInt8]
    let otherCAPEM: [UInt8]
    let serverPEM: [UInt8]
    let serverKeyPEM: [UInt8]
    let clientPEM: [UInt8]
    let clientKeyPEM: [UInt8]

    init() throws {
        let directory = try LocalProcess.temporaryDirectory("pki")
        folder = directory
        try Data("subjectAltName=IP:127.0.0.1\n".utf8).write(to: URL(fileURLWithPath: directory + "/san.ext"))
        for command in [
            "req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=test-cluster-ca",
            "req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 1 -subj /CN=another-ca",
            "req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1",
            "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1 -extfile san.ext",
            "req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=deployer",
            "x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 1",
        ] {
            let arguments = command.split(separator: " ").map { word in
                word.hasSuffix(".pem") || word.hasSuffix(".key") || word.hasSuffix(".csr") || word.hasSuffix(".ext")
                    ? directory + "/" + word : String(word)
            }
            let status = try LocalPostgres.runBlocking("/usr/bin/openssl", arguments, log: directory + "/openssl.log")
            guard status == 0 else { throw MissingServer(description: "openssl \(command) failed") }
        }
        func read(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))) }
        caPEM = try read("ca.pem")
        otherCAPEM = try read("other.pem")
        serverPEM = try read("server.pem")
        serverKeyPEM = try read("server.key")
        clientPEM = try read("client.pem")
        clientKeyPEM = try read("client.key")
    }
}

/// An HTTPS server answering like an API server: a Namespace for the right token, Status
/// bodies for 401 and 403.
final class TLSTestServer: Sendable {
    let port: Int
    private let task: Task<Void, Error>
    var url: String { "https://127.0.0.1:\(port)" }

    init(pki: TestPKI, requireClientCertificate: Bool) async throws {
        let port = LocalProcess.freePort()
        self.port = port
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(pki.serverPEM).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: pki.serverKeyPEM, format: .pem)))
        if requireClientCertificate {
            tls.certificateVerification = .noHostnameVerification
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(pki.caPEM))
        }
        let router = Router()
        router.get("/version") { _, _ in #"{"major":"1","minor":"32"}"# }
        router.get("/api/v1/namespaces/default") { request, _ in
            guard request.headers[.authorization] == "Bearer good-token" else {
                return Self.status(401, reason: "Unauthorized", message: "Unauthorized")
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"default"}}"#)))
        }
        router.patch("/apis/apps/v1/namespaces/default/deployments/pet-backend") { _, _ in
            Self.status(
                403, reason: "Forbidden",
                message:
                    #"deployments.apps \"pet-backend\" is forbidden: User \"deployer\" cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"default\""#
            )
        }
        var logger = Logger(label: "tls-test-server")
        logger.logLevel = .critical
        let app = Application(
            router: router, server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
        task = try await LocalApplication.start(app, port: port, name: "the TLS test server", logger: logger)
    }

    static func status(_ code: Int, reason: String, message: String) -> Response {
        let body =
            #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"\#(message)","reason":"\#(reason)","code":\#(code)}"#
        return Response(
            status: .init(code: code), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    func stop() { task.cancel() }
}

/// What a failing call said, or "" when it did not fail.
func failureMessage(_ body: () async throws -> Void) async -> String {
    do {
        try await body()
        return ""
    } catch {
        return "\(error)"
    }
}

func failureMessage(_ body: () throws -> Void) -> String {
    do {
        try body()
        return ""
    } catch {
        return "\(error)"
    }
}
