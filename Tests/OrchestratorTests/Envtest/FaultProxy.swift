import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOSSL
import Synchronization
import TestSupport

/// The real API server with faults a test asks for, which the real one cannot be made to show on
/// demand: throttling, server errors, answers that never come, actions done whose answer is lost,
/// watches whose resourceVersion was compacted away, `Warning` headers. Everything else is
/// forwarded as it is, streams included. Plain HTTP on 127.0.0.1; stops with the test.
final class FaultProxy: Sendable {
    enum Fault: Sendable, Equatable {
        /// The API server's own 429 body, with `Retry-After: 1`.
        case throttled
        /// A 500 `InternalError` Status, as the API server sends.
        case internalError
        /// 502 or 503 from a load balancer in front of it: not JSON.
        case gateway(Int)
        /// Nothing comes back in time (the client's request timeout must fire).
        case noAnswer
        /// The request is carried out, its answer never arrives.
        case answerLost
        /// The connection is reset before any answer; the request never reaches the server.
        case reset
        /// A watch answered 200 with one ERROR event holding a 410 Status (the usual way).
        case expiredWatchEvent
        /// A watch answered 410 by status.
        case expiredWatchStatus
    }

    struct Rule {
        var fault: Fault
        var method: HTTPRequest.Method?
        var pathPrefix: String
        /// Only dry runs (true), only real requests (false), or both (nil).
        var dryRun: Bool?
        var remaining: Int
    }

    /// What the test asked for, shared with the request handlers.
    final class Faults: Sendable {
        let rules = Mutex<[Rule]>([])
        let warnings = Mutex<[String: String]>([:])
        let injected = Mutex(0)
        /// A fault thrown at every request (watches aside) with this probability.
        let atRandom = Mutex<(fault: Fault, probability: Double)?>(nil)
    }

    let port: Int
    private let faults = Faults()
    private let client: HTTPClient
    private let task: Task<Void, Error>

    var url: String { "http://127.0.0.1:\(port)" }

    /// Faults injected so far.
    var injectedCount: Int { faults.injected.withLock { $0 } }

    func inject(_ fault: Fault, times: Int = 1, method: HTTPRequest.Method? = nil, pathPrefix: String, dryRun: Bool? = nil) {
        faults.rules.withLock {
            $0.append(Rule(fault: fault, method: method, pathPrefix: pathPrefix, dryRun: dryRun, remaining: times))
        }
    }

    /// From now on `fault` answers each request (watches aside) with `probability`; nil stops it.
    func injectAtRandom(_ fault: Fault?, probability: Double) {
        faults.atRandom.withLock { $0 = fault.map { ($0, probability) } }
    }

    /// Adds `Warning: 299 - "text"` to every answer under `pathPrefix`.
    func warn(_ text: String, pathPrefix: String) {
        faults.warnings.withLock { $0[pathPrefix] = text }
    }

    var unmet: [String] {
        faults.rules.withLock { $0.filter { $0.remaining > 0 }.map { "\($0.fault) \($0.method?.rawValue ?? "") \($0.pathPrefix)" } }
    }

    /// Rules not yet used up.
    var pending: Int { faults.rules.withLock { $0.reduce(0) { $0 + $1.remaining } } }

    init(upstream: String, certificateAuthority: String) async throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(certificateAuthority)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        self.client = client
        let port = LocalProcess.freePort()
        self.port = port
        let router = Router()
        let faults = faults
        for method in [HTTPRequest.Method.get, .patch, .delete, .post, .put] {
            router.on("**", method: method) { request, _ in
                let path = request.uri.path
                let isWatch = request.uri.queryParameters["watch"] == "1"
                let isDryRun = request.uri.queryParameters["dryRun"] != nil
                let ruled = faults.rules.withLock { rules -> Fault? in
                    guard
                        let index = rules.firstIndex(where: { rule in
                            rule.remaining > 0 && path.hasPrefix(rule.pathPrefix) && (rule.method == nil || rule.method == method)
                                && (rule.dryRun == nil || rule.dryRun == isDryRun)
                                && ([.expiredWatchEvent, .expiredWatchStatus].contains(rule.fault) == isWatch)
                        })
                    else { return nil }
                    rules[index].remaining -= 1
                    return rules[index].fault
                }
                let randomFault = faults.atRandom.withLock { chosen in
                    chosen.flatMap { !isWatch && Double.random(in: 0..<1) < $0.probability ? $0.fault : nil }
                }
                let fault = ruled ?? randomFault
                if fault != nil { faults.injected.withLock { $0 += 1 } }
                let warning = faults.warnings.withLock { $0.first { path.hasPrefix($0.key) }?.value }
                var response: Response
                switch fault {
                case .throttled:
                    response = Self.status(429, reason: "TooManyRequests", message: "Too many requests, please try again later.")
                    response.headers[.retryAfter] = "1"
                case .internalError:
                    response = Self.status(500, reason: "InternalError", message: "Internal error occurred: injected by the test")
                case .gateway(let code):
                    response = Response(
                        status: .init(code: code), headers: [.contentType: "text/plain"],
                        body: .init(byteBuffer: ByteBuffer(string: "upstream connect error or disconnect/reset before headers")))
                case .noAnswer:
                    try await Task.sleep(for: .seconds(60))
                    response = Self.status(504, reason: "Timeout", message: "too late")
                case .answerLost:
                    _ = try await Self.forward(request, method: method, to: upstream, client: client, warning: nil)
                    try await Task.sleep(for: .seconds(60))
                    response = Self.status(504, reason: "Timeout", message: "too late")
                case .reset:
                    response = Response(status: ConnectionReset.marker)
                case .expiredWatchEvent:
                    let event =
                        #"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (2)","reason":"Expired","code":410}}"#
                    response = Response(
                        status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: event + "\n")))
                case .expiredWatchStatus:
                    response = Self.status(410, reason: "Expired", message: "too old resource version: 1 (2)")
                case nil:
                    response = try await Self.forward(request, method: method, to: upstream, client: client, warning: warning)
                }
                return response
            }
        }
        var logger = Logger(label: "fault-proxy")
        logger.logLevel = .critical
        let app = Application(
            router: router, server: ConnectionReset.server, configuration: .init(address: .hostname("127.0.0.1", port: port)),
            logger: logger)
        task = try await LocalApplication.start(app, port: port, name: "the fault proxy", logger: logger)
    }

    func stop() async {
        task.cancel()
        try? await client.shutdown()
    }

    private static func forward(
        _ request: Request, method: HTTPRequest.Method, to upstream: String, client: HTTPClient, warning: String?
    ) async throws -> Response {
        var outgoing = HTTPClientRequest(url: upstream + (request.uri.string))
        outgoing.method = .RAW(value: method.rawValue)
        for field in request.headers where ["authorization", "content-type", "accept", "user-agent"].contains(field.name.canonicalName) {
            outgoing.headers.add(name: field.name.canonicalName, value: field.value)
        }
        let body = try await request.body.collect(upTo: 16 << 20)
        if body.readableBytes > 0 { outgoing.body = .bytes(body) }
        let answer = try await client.execute(outgoing, timeout: .seconds(600))
        var headers = HTTPFields()
        for (name, value) in answer.headers where ["content-type", "warning", "retry-after"].contains(name.lowercased()) {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        if let warning, let field = HTTPField.Name("Warning") { headers.append(HTTPField(name: field, value: "299 - \"\(warning)\"")) }
        let chunks = answer.body
        return Response(
            status: .init(code: Int(answer.status.code)), headers: headers,
            body: ResponseBody { writer in
                for try await chunk in chunks { try await writer.write(chunk) }
                try await writer.finish(nil)
            })
    }

    static func status(_ code: Int, reason: String, message: String) -> Response {
        let body: [String: Any] = [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure", "message": message, "reason": reason, "code": code,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: body)) ?? Data()
        return Response(
            status: .init(code: code), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
