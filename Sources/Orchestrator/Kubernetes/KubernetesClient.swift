import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// The Kubernetes HTTP API through async-http-client, authenticated as the kubeconfig says, with
/// errors a user can act on: unreachable server, TLS mismatch, 401/403 naming what was refused.
final class KubernetesClient: Sendable {
    let connection: KubernetesConnection
    private let http: HTTPClient
    var rawClient: HTTPClient { http }
    private let exec: ExecCredentialProvider?
    private let reached = Mutex(false)
    private let warned = Mutex<Set<String>>([])

    struct Response: Sendable {
        var status: HTTPResponseStatus
        var body: ByteBuffer

        var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any]
        }
    }

    /// How long one request may take before it is abandoned (and retried, once the server has
    /// answered before): kubectl's `--request-timeout`.
    let requestTimeout: TimeAmount

    init(connection: KubernetesConnection, requestTimeout: TimeAmount = .seconds(60)) throws {
        self.connection = connection
        self.requestTimeout = requestTimeout
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            if connection.insecureSkipTLSVerify {
                tls.certificateVerification = .none
            } else if let authority = connection.certificateAuthorityPEM {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(authority))
            }
            if case .clientCertificate(let certificate, let key) = connection.credentials {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certificate).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
            }
        } catch {
            throw KubernetesError.configuration("the TLS material of context `\(connection.context)` cannot be read: \(error)")
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = .init(connect: .seconds(10))
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        if case .exec(let config) = connection.credentials {
            exec = ExecCredentialProvider(config: config)
        } else {
            exec = nil
        }
    }

    func shutdown() async {
        try? await http.shutdown()
    }

    /// One request; an exec-plugin credential is refreshed once on a 401.
    func send(
        _ method: HTTPMethod, _ path: String, body: ByteBuffer? = nil, contentType: String? = nil
    ) async throws -> Response {
        var refreshed = false
        var attempt = 0
        while true {
            attempt += 1
            var request = try await authorizedRequest(path, refresh: refreshed)
            request.method = method
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
            if let body { request.body = .bytes(body) }
            let response: HTTPClientResponse
            let collected: ByteBuffer
            do {
                response = try await http.execute(request, timeout: requestTimeout)
                collected = try await response.body.collect(upTo: 64 << 20)
            } catch {
                try Task.checkCancellation()
                // A server never reached (refused, no route, connect timeout) is a setup problem:
                // say so at once. One that answered before, or took the connection and then let
                // the request's deadline pass or dropped it, is slow or flaky: retried.
                guard reached.withLock({ $0 }) || Self.tookTheConnection(error), retry.allowsAnother(after: attempt) else {
                    throw describe(transportError: error)
                }
                try await Task.sleep(for: retry.delay(after: attempt))
                continue
            }
            reached.withLock { $0 = true }
            showWarnings(response.headers)
            if response.status == .unauthorized, exec != nil, !refreshed {
                refreshed = true
                continue
            }
            if RetryPolicy.isTransient(response.status), retry.allowsAnother(after: attempt) {
                try await Task.sleep(for: retry.delay(after: attempt, retryAfter: response.headers.first(name: "Retry-After")))
                continue
            }
            return Response(status: response.status, body: collected)
        }
    }

    let retry = RetryPolicy.standard

    /// The API server's `Warning: 299 - "text"` headers (deprecations, preserved child pods…)
    /// are for the user, as kubectl shows them; each text once per run.
    private func showWarnings(_ headers: HTTPHeaders) {
        for value in headers["Warning"] {
            let text = Self.warningText(value)
            guard warned.withLock({ $0.insert(text).inserted }) else { continue }
            Terminal.error("Warning from the API server: \(text)")
        }
    }

    /// The text of `299 - "text"` (RFC 7234's warn-code, warn-agent, quoted warn-text).
    static func warningText(_ value: String) -> String {
        guard let open = value.firstIndex(of: "\""), let close = value.lastIndex(of: "\""), open < close else { return value }
        return String(value[value.index(after: open)..<close]).replacingOccurrences(of: "\\\"", with: "\"")
    }

    func authorizedRequest(_ path: String, refresh: Bool = false) async throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: connection.server + path)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "orchestrate")
        if let token = try await bearerToken(refresh: refresh) {
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        return request
    }

    private func bearerToken(refresh: Bool) async throws -> String? {
        switch connection.credentials {
        case .bearer(let token): return token
        case .tokenFile(let path):
            guard let token = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw KubernetesError.configuration("cannot read the token file \(path)")
            }
            return token.trimmingCharacters(in: .whitespacesAndNewlines)
        case .exec:
            return try await exec?.credential(refresh: refresh).token
        case .none, .clientCertificate:
            return nil
        }
    }

    /// Turns an error answer into a message naming the verb and resource that were refused.
    func failure(_ response: Response, verb: String, resource: String) -> KubernetesError {
        let status = response.json
        let message = status?["message"] as? String ?? String(buffer: response.body).prefix(300).description
        let reason = status?["reason"] as? String ?? response.status.reasonPhrase
        switch response.status.code {
        case 401:
            return .api(
                "the API server at \(connection.server) rejected the credentials of context `\(connection.context)` (401 \(reason)): "
                    + "the token has expired or is not valid; log in again or refresh the kubeconfig")
        case 403:
            return .api(
                "not allowed to \(verb) \(resource) (403 \(reason)): \(message); grant it in the orchestrator's Role (see the README)")
        default:
            return .api("\(verb) \(resource) failed (\(response.status.code) \(reason)): \(message)")
        }
    }

    /// Errors that only a listening server can cause: a deadline passed while it held the
    /// request, or it closed or reset the connection before answering.
    static func tookTheConnection(_ error: any Error) -> Bool {
        if let failure = error as? HTTPClientError {
            return [.deadlineExceeded, .readTimeout, .remoteConnectionClosed].contains(failure)
        }
        if let failure = error as? IOError { return [ECONNRESET, EPIPE].contains(failure.errnoCode) }
        return false
    }

    private func describe(transportError error: any Error) -> KubernetesError {
        let text = String(describing: error)
        if error is NIOSSLError || text.contains("handshake") || text.contains("certificate") || text.contains("SSL") {
            return .unreachable(
                "TLS with the API server at \(connection.server) failed (\(text)): its certificate is not signed by the "
                    + "certificate-authority of context `\(connection.context)`, or the server address does not match it")
        }
        return .unreachable(
            "cannot reach the API server at \(connection.server) (context `\(connection.context)`): \(text); is the cluster running "
                + "and the server address right?")
    }
}
