package import FlyMachinesAPI
package import Foundation
import HTTPTypes
import Hummingbird
import Logging
import OpenAPIHummingbird
package import OpenAPIRuntime
import Synchronization
import TestSupport

/// The fake Fly on 127.0.0.1, stopped with the test: `url` is what FLY_API_HOSTNAME takes.
package final class FakeFlyServer: Sendable {
    package let fly: FakeFly
    package let port: Int
    package let faults: FakeFlyFaults
    private let task: Task<Void, Error>

    package var url: String { "http://127.0.0.1:\(port)" }

    /// `latency`: how long every call takes before it is answered, as over the internet.
    package init(fly: FakeFly = FakeFly(), faults: FakeFlyFaults = FakeFlyFaults(), latency: Duration = .zero) async throws {
        self.fly = fly
        self.faults = faults
        // Below the ephemeral range: a port there can be taken as an outgoing connection's source.
        let port = LocalProcess.portBlock(size: 1)
        self.port = port
        let router = Router()
        try fly.registerHandlers(
            on: router, serverURL: URL(string: "/v1") ?? URL(fileURLWithPath: "/v1"),
            middlewares: [FakeFlyGate(fly: fly, faults: faults, latency: latency)])
        var logger = Logger(label: "fake-fly")
        logger.logLevel = .critical
        let app = Application(
            router: router, server: ConnectionReset.server, configuration: .init(address: .hostname("127.0.0.1", port: port)),
            logger: logger)
        task = try await LocalApplication.start(app, port: port, name: "the fake Fly API", logger: logger)
    }

    deinit { task.cancel() }
}

/// Answers a test asks for instead of the action: Fly's own failures, on chosen operations.
package final class FakeFlyFaults: Sendable {
    package enum Fault: Sendable {
        case tooManyRequests, internalError, badGateway, unavailable
        /// Nothing comes back (the client's request timeout must fire); nothing is done.
        case noAnswer
        /// The action is carried out; its answer never arrives.
        case answerLost
        /// The connection is reset before any answer; nothing is done.
        case reset
    }

    private let planned = Mutex<[(operation: String?, fault: Fault, remaining: Int)]>([])
    private let random = Mutex<(fault: Fault, share: Double)?>(nil)
    package let injected = Atomic<Int>(0)

    package init() {}

    /// The next `count` calls of `operation` (any operation when nil) answer with `fault`.
    package func fail(_ operation: String?, with fault: Fault, times count: Int = 1) {
        planned.withLock { $0.append((operation, fault, count)) }
    }

    /// A share of all calls answers with `fault`.
    package func failAtRandom(_ fault: Fault, share: Double) {
        random.withLock { $0 = (fault, share) }
    }

    func take(_ operation: String) -> Fault? {
        let chosen = planned.withLock { planned -> Fault? in
            guard let index = planned.firstIndex(where: { ($0.operation == nil || $0.operation == operation) && $0.remaining > 0 }) else {
                return nil
            }
            planned[index].remaining -= 1
            return planned[index].fault
        }
        if let chosen { return chosen }
        guard let (fault, share) = random.withLock({ $0 }), Double.random(in: 0..<1) < share else { return nil }
        return fault
    }
}

/// In front of every handler: the lease nonce header to the handler, Fly's per-action rate
/// limits (429 with Retry-After, counted), and the faults a test planned.
final class FakeFlyGate: ServerMiddleware {
    let fly: FakeFly
    let faults: FakeFlyFaults
    private let buckets = Mutex<[String: (tokens: Double, at: ContinuousClock.Instant)]>([:])

    let latency: Duration

    init(fly: FakeFly, faults: FakeFlyFaults, latency: Duration) {
        self.fly = fly
        self.faults = faults
        self.latency = latency
    }

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        if latency > .zero { try await Task.sleep(for: latency) }
        if request.headerFields[.authorization] == "Bearer revoked" {
            return Self.error(401, "token has been revoked")
        }
        guard
            request.headerFields[.authorization]?.hasPrefix("Bearer ") == true
                || request.headerFields[.authorization]?.hasPrefix("FlyV1 ") == true
        else {
            return Self.error(401, "You must be authenticated to view this.")
        }
        if fly.rateLimits, !allowed(operationID + " " + (request.path ?? ""), operationID: operationID) {
            fly.world.withLock { $0.rateLimited.append(operationID + " " + (request.path ?? "")) }
            var (response, answer) = Self.error(429, "rate limit exceeded")
            response.headerFields[.retryAfter] = "1"
            return (response, answer)
        }
        if let fault = faults.take(operationID) {
            faults.injected.add(1, ordering: .relaxed)
            switch fault {
            case .tooManyRequests:
                var (response, answer) = Self.error(429, "rate limit exceeded")
                response.headerFields[.retryAfter] = "1"
                return (response, answer)
            case .internalError: return Self.error(500, "internal error")
            case .badGateway: return Self.error(502, "bad gateway")
            case .unavailable: return Self.error(503, "service unavailable")
            case .noAnswer:
                try await Task.sleep(for: .seconds(30))
                return Self.error(504, "too late")
            case .reset:
                return (HTTPResponse(status: ConnectionReset.marker), nil)
            case .answerLost:
                let nonce = request.headerFields[.flyLeaseNonce]
                _ = try await FakeFly.$nonce.withValue(nonce) { try await next(request, body, metadata) }
                try await Task.sleep(for: .seconds(30))
                return Self.error(504, "too late")
            }
        }
        let nonce = request.headerFields[.flyLeaseNonce]
        var response: HTTPResponse
        let answer: HTTPBody?
        do {
            (response, answer) = try await FakeFly.$nonce.withValue(nonce) { try await next(request, body, metadata) }
        } catch let error as ServerError {
            guard let refusal = error.underlyingError as? FakeFlyRefusal else { throw error }
            return Self.error(refusal.status, refusal.message)
        }
        guard operationID.hasPrefix("Machines_"), let answer else { return (response, answer) }
        var text = String(decoding: try await Data(collecting: answer, upTo: 32 << 20), as: UTF8.self)
        // Fly still answers a service's autostop "stop"/"off" as the old booleans (the document says so).
        text = text.replacingOccurrences(of: #""autostop":"stop""#, with: #""autostop":true"#)
            .replacingOccurrences(of: #""autostop":"off""#, with: #""autostop":false"#)
        // Lease answers as Fly has been seen to give them: inside {"status", "data"}.
        if operationID == "Machines_create_lease" || operationID == "Machines_show_lease", fly.world.withLock({ $0.wrapLeases }) {
            text = #"{"status":"success","data":"# + text + "}"
        }
        response.headerFields[HTTPField.Name.contentLength] = String(text.utf8.count)
        return (response, HTTPBody(text))
    }

    /// Fly's documented limits: about 1 a second per action and machine, bursts of 3; reading a
    /// machine 5 a second, bursts of 10. Waits hold a connection, not a rate.
    private func allowed(_ key: String, operationID: String) -> Bool {
        let (rate, burst): (Double, Double) = operationID == "Machines_show" || operationID == "Machines_wait" ? (5, 10) : (1, 3)
        let now = ContinuousClock.now
        return buckets.withLock { buckets in
            var bucket = buckets[key] ?? (burst, now)
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.at).inSeconds * rate)
            bucket.at = now
            guard bucket.tokens >= 1 else {
                buckets[key] = bucket
                return false
            }
            bucket.tokens -= 1
            buckets[key] = bucket
            return true
        }
    }

    static func error(_ status: Int, _ message: String) -> (HTTPResponse, HTTPBody?) {
        var response = HTTPResponse(status: .init(code: status))
        response.headerFields[.contentType] = "application/json"
        response.headerFields[.flyRequestID] = UUID().uuidString
        let body = (try? JSONSerialization.data(withJSONObject: ["error": message])) ?? Data()
        return (response, HTTPBody(body))
    }
}
