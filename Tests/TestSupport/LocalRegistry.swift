import Foundation

/// A real OCI registry (`docker-registry`, Distribution 2.8, from apt) on 127.0.0.1 with its
/// storage in a temporary folder: anonymous, with basic auth (htpasswd), or with bearer tokens
/// from a token service whose signing certificate it trusts.
public final class LocalRegistry: @unchecked Sendable {
    public enum Auth {
        case anonymous
        case basic(user: String, password: String)
        /// Tokens must be RS256 JWTs signed by the key of `certificate` (PEM), carrying it in `x5c`.
        case token(realm: String, service: String, issuer: String, certificate: String)
    }

    public let port: Int
    public let directory: String
    private let process: LocalProcess

    public var host: String { "127.0.0.1:\(port)" }

    public init(auth: Auth = .anonymous) throws {
        guard let server = LocalProcess.executable("docker-registry", searching: ["/usr/bin", "/usr/sbin"]) else {
            throw MissingServer(description: "docker-registry is not installed; scripts/test installs it with apt-get")
        }
        port = LocalProcess.freePort()
        directory = try LocalProcess.temporaryDirectory("registry")
        var config = """
            version: 0.1
            log: {level: warn}
            storage: {filesystem: {rootdirectory: \(directory)/data}}
            http: {addr: 127.0.0.1:\(port)}

            """
        switch auth {
        case .anonymous:
            break
        case .basic(let user, let password):
            guard let htpasswd = LocalProcess.executable("htpasswd") else {
                throw MissingServer(description: "htpasswd is not installed; scripts/test installs apache2-utils")
            }
            let status = try LocalPostgres.runBlocking(
                htpasswd, ["-B", "-b", "-c", directory + "/htpasswd", user, password], log: directory + "/htpasswd.log")
            guard status == 0 else { throw MissingServer(description: "htpasswd failed") }
            config += "auth: {htpasswd: {realm: orchestrate-tests, path: \(directory)/htpasswd}}\n"
        case .token(let realm, let service, let issuer, let certificate):
            try Data(certificate.utf8).write(to: URL(fileURLWithPath: directory + "/token-issuer.pem"))
            config +=
                "auth: {token: {realm: \"\(realm)\", service: \(service), issuer: \(issuer), rootcertbundle: \(directory)/token-issuer.pem}}\n"
        }
        try Data(config.utf8).write(to: URL(fileURLWithPath: directory + "/config.yml"))
        process = try LocalProcess(
            name: "docker-registry", command: server, arguments: ["serve", directory + "/config.yml"], logPath: directory + "/registry.log")
        guard LocalProcess.waitForPort(port) else {
            throw MissingServer(description: "docker-registry did not start on port \(port): \(process.log)")
        }
    }

    public func stop() {
        process.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { stop() }
}
