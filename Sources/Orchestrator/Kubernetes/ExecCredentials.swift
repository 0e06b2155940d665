import Foundation
import ProcessSupport

/// Runs a kubeconfig `exec` credential plugin and keeps its answer until it expires, as kubectl
/// does (the plugin may be slow: `aws eks get-token` calls STS).
actor ExecCredentialProvider {
    struct Credential: Sendable {
        var token: String?
        var clientCertificatePEM: [UInt8]?
        var clientKeyPEM: [UInt8]?
        var expires: Date?
    }

    private let config: Kubeconfig.ExecConfig
    private var cached: Credential?

    init(config: Kubeconfig.ExecConfig) {
        self.config = config
    }

    func credential(refresh: Bool = false) async throws -> Credential {
        if !refresh, let cached, (cached.expires ?? .distantFuture) > Date().addingTimeInterval(30) { return cached }
        let fresh = try await run()
        cached = fresh
        return fresh
    }

    private func run() async throws -> Credential {
        guard let program = ProcessLauncher.executable(config.command) else {
            let hint = config.installHint.map { "\n\($0)" } ?? ""
            throw KubernetesError.configuration("the credential plugin `\(config.command)` is not installed or not on PATH\(hint)")
        }
        let apiVersion = config.apiVersion ?? "client.authentication.k8s.io/v1"
        var environment = ProcessInfo.processInfo.environment
        for variable in config.env ?? [] { environment[variable.name] = variable.value }
        environment["KUBERNETES_EXEC_INFO"] =
            #"{"apiVersion":"\#(apiVersion)","kind":"ExecCredential","spec":{"interactive":false}}"#
        let output = NSTemporaryDirectory() + "orchestrate-exec-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: output) }
        // stdout and stderr share the file; plugins print their JSON on stdout and nothing else there.
        let status = try await ProcessLauncher.run(
            program, arguments: config.args ?? [], environment: environment, logPath: output, timeout: .seconds(120))
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw KubernetesError.configuration(
                "the credential plugin `\(config.command)` failed (\(status.map { "exit \($0)" } ?? "timed out")): \(text.suffix(400))")
        }
        return try Self.parse(text, plugin: config.command)
    }

    /// Reads an `ExecCredential` from the plugin's output (the JSON object in it).
    static func parse(_ text: String, plugin: String) throws -> Credential {
        guard let start = text.firstIndex(of: "{"), let end = text.lastIndex(of: "}"),
            let object = try? JSONSerialization.jsonObject(with: Data(text[start...end].utf8)) as? [String: Any],
            let status = object["status"] as? [String: Any]
        else {
            throw KubernetesError.configuration("the credential plugin `\(plugin)` did not print an ExecCredential with a status")
        }
        let expires = (status["expirationTimestamp"] as? String).flatMap { try? Date($0, strategy: .iso8601) }
        let credential = Credential(
            token: status["token"] as? String, clientCertificatePEM: (status["clientCertificateData"] as? String).map { Array($0.utf8) },
            clientKeyPEM: (status["clientKeyData"] as? String).map { Array($0.utf8) }, expires: expires)
        guard credential.token != nil || (credential.clientCertificatePEM != nil && credential.clientKeyPEM != nil) else {
            throw KubernetesError.configuration(
                "the credential plugin `\(plugin)` returned neither a token nor a client certificate and key")
        }
        return credential
    }
}
