import Foundation
import TestSupport
import Testing

/// Bearer-token auth as Docker Hub, GHCR and ECR do it, against a real registry configured for
/// token auth: `orchestrate build --push` must trade the credentials at the registry's realm for a
/// token scoped to the repository and push with it. Part of the image suite, whose tests run one
/// at a time (each packs a 150 MB binary).
extension ImageBuildTests {
    @Test func pushTradesCredentialsForABearerToken() async throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let issuer = try TokenIssuer(directory: scratch)
        let token = try issuer.token(repository: "team/pet-backend", actions: ["push", "pull"])
        let tokenService = try await StubServer(routes: ["/token": (.ok, #"{"token":"\#(token)","expires_in":3600}"#)])
        let registry = try LocalRegistry(
            auth: .token(
                realm: tokenService.url + "/token", service: "orchestrate-tests", issuer: TokenIssuer.name,
                certificate: issuer.certificate))
        defer { registry.stop() }

        let pushed = try await CommandRunner.run(
            [
                "build", "--binary", petBackend, "--out", scratch + "/image", "--push", "\(registry.host)/team/pet-backend:candidate",
                "--username", "deployer",
            ], environment: ["REGISTRY_PASSWORD": "token-password"])
        #expect(pushed.status == 0, "\(pushed.stderr)")
        #expect(pushed.stdout.hasPrefix("\(registry.host)/team/pet-backend@sha256:"), "\(pushed.stdout)")
        let asked = tokenService.requests.filter { $0.path == "/token" }
        #expect(!asked.isEmpty)
        let basic = "Basic " + Data("deployer:token-password".utf8).base64EncodedString()
        #expect(asked.allSatisfy { $0.headers["authorization"] == basic })

        let tags = try await LocalPostgres.run(
            try #require(LocalProcess.executable("skopeo")),
            [
                "list-tags", "--tls-verify=false", "--registry-token", token, "docker://\(registry.host)/team/pet-backend",
            ], log: scratch + "/tags.log")
        #expect(tags == 0)
        #expect((try? String(contentsOfFile: scratch + "/tags.log", encoding: .utf8))?.contains("\"candidate\"") == true)
    }
}

/// Signs registry tokens the way a token service does (RS256 JWT with the certificate in `x5c`),
/// with a key and self-signed certificate made by openssl.
struct TokenIssuer {
    static let name = "orchestrate-test-issuer"
    let directory: String
    let certificate: String

    init(directory: String) throws {
        self.directory = directory
        let status = try LocalPostgres.runBlocking(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", directory + "/issuer.key", "-out", directory + "/issuer.pem",
                "-days", "1", "-subj", "/CN=\(Self.name)",
            ], log: directory + "/openssl.log")
        guard status == 0 else { throw MissingServer(description: "openssl could not make a certificate") }
        certificate = try String(contentsOfFile: directory + "/issuer.pem", encoding: .utf8)
    }

    func token(repository: String, actions: [String]) throws -> String {
        let der = certificate.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        let now = Int(Date().timeIntervalSince1970)
        let header: [String: Any] = ["alg": "RS256", "typ": "JWT", "x5c": [der]]
        let claims: [String: Any] = [
            "iss": Self.name, "sub": "deployer", "aud": "orchestrate-tests", "exp": now + 3600, "nbf": now - 60, "iat": now - 60,
            "jti": UUID().uuidString, "access": [["type": "repository", "name": repository, "actions": actions]],
        ]
        let signingInput =
            try Self.base64URL(JSONSerialization.data(withJSONObject: header)) + "."
            + Self.base64URL(JSONSerialization.data(withJSONObject: claims))
        try Data(signingInput.utf8).write(to: URL(fileURLWithPath: directory + "/signing-input"))
        let status = try LocalPostgres.runBlocking(
            "/usr/bin/openssl",
            ["dgst", "-sha256", "-sign", directory + "/issuer.key", "-out", directory + "/signature", directory + "/signing-input"])
        guard status == 0 else { throw MissingServer(description: "openssl could not sign the token") }
        let signature = try Data(contentsOf: URL(fileURLWithPath: directory + "/signature"))
        return signingInput + "." + Self.base64URL(signature)
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
