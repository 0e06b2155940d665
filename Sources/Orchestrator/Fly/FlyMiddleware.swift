import FlyMachinesAPI
import Foundation
import HTTPTypes
import NIOHTTP1
import OpenAPIRuntime

/// `Authorization` for every call: a `FlyV1 …` macaroon as it is, any other token as a bearer.
struct FlyAuthorization: ClientMiddleware {
    let token: String

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[.authorization] = token.hasPrefix("FlyV1 ") ? token : "Bearer \(token)"
        return try await next(request, body, baseURL)
    }
}

/// Retries what is worth retrying (429 after its Retry-After, 5xx, timeouts, dropped
/// connections) with the shared policy. A machine create is never retried here: whether a lost
/// answer created a machine is decided by looking for it (FlyFleet), not by creating again.
struct FlyRetries: ClientMiddleware {
    let policy: RetryPolicy
    static let notRetried: Set<String> = ["Machines_create", "Apps_create"]

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        if Self.notRetried.contains(operationID) { return try await next(request, body, baseURL) }
        // A body can be read once; keep its bytes to send it again.
        let bytes: Data? = if let body { try await Data(collecting: body, upTo: 16 << 20) } else { nil }
        var attempt = 1
        while true {
            do {
                let (response, answer) = try await next(request, bytes.map { HTTPBody($0) }, baseURL)
                let status = HTTPResponseStatus(statusCode: response.status.code)
                // Right after a create Fly may not know the machine yet (eventual consistency):
                // a machine's 404 is asked again a few times before it counts as absence.
                if status == .notFound, (request.path ?? "").contains("/machines/"), attempt <= 4 {
                    try await Task.sleep(for: .milliseconds(250 * attempt))
                    attempt += 1
                    continue
                }
                guard RetryPolicy.isTransient(status), policy.allowsAnother(after: attempt) else { return (response, answer) }
                try await Task.sleep(for: policy.delay(after: attempt, retryAfter: response.headerFields[.retryAfter]))
            } catch let error where !(error is CancellationError) && policy.allowsAnother(after: attempt) {
                try await Task.sleep(for: policy.delay(after: attempt))
            }
            attempt += 1
        }
    }
}

/// Keeps each action under Fly's documented rate limits (about 1 request a second per action
/// and machine, bursts of 3; reading a machine 5 a second, bursts of 10) by waiting before a
/// call instead of tripping a 429.
actor FlyPacing: ClientMiddleware {
    private var buckets: [String: (tokens: Double, at: ContinuousClock.Instant)] = [:]

    nonisolated func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        // The path names the app and machine: `/apps/a/machines/m/lease`.
        let key = operationID + " " + (request.path ?? "")
        try await Task.sleep(for: await wait(for: key, operationID: operationID))
        return try await next(request, body, baseURL)
    }

    private func wait(for key: String, operationID: String) -> Duration {
        let (documented, burst): (Double, Double) =
            operationID == "Machines_show" ? (5, 10) : operationID == "Machines_wait" ? (5, 10) : (1, 3)
        // A tenth below the documented rate: Fly counts when a call arrives, not when it left.
        let rate = documented * 0.9
        let now = ContinuousClock.now
        var bucket = buckets[key] ?? (burst, now)
        let elapsed = now - bucket.at
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        bucket.tokens = min(burst, bucket.tokens + seconds * rate)
        bucket.at = now
        bucket.tokens -= 1
        buckets[key] = bucket
        guard bucket.tokens < 0 else { return .zero }
        return .milliseconds(Int64(-bucket.tokens / rate * 1000))
    }
}

/// Where Fly's live answers are known to differ from its document, made to match it before the
/// generated decoder reads them:
/// - lease answers have been seen wrapped as `{"status": "success", "data": {…lease…}}`;
/// - a service's `autostop` is documented as "off"/"stop"/"suspend", but Fly still answers the
///   old booleans (false/true) for "off" and "stop", as the document's own note on it says.
struct FlyAnswerFixes: ClientMiddleware {
    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let (response, answer) = try await next(request, body, baseURL)
        guard let answer, response.status.kind == .successful, operationID.hasPrefix("Machines_") else { return (response, answer) }
        let bytes = try await Data(collecting: answer, upTo: 32 << 20)
        guard let json = try? JSONSerialization.jsonObject(with: bytes) else { return (response, HTTPBody(bytes)) }
        let fixed = Self.fix(json, operationID: operationID)
        let data = (try? JSONSerialization.data(withJSONObject: fixed)) ?? bytes
        return (response, HTTPBody(data))
    }

    static func fix(_ json: Any, operationID: String) -> Any {
        if operationID.hasSuffix("_lease"), let object = json as? [String: Any], object["status"] is String,
            let data = object["data"] as? [String: Any]
        {
            return data
        }
        if let machines = json as? [Any] { return machines.map { fixMachine($0) } }
        return fixMachine(json)
    }

    private static func fixMachine(_ json: Any) -> Any {
        guard var machine = json as? [String: Any] else { return json }
        for key in ["config", "incomplete_config"] {
            guard var config = machine[key] as? [String: Any], let services = config["services"] as? [[String: Any]] else { continue }
            config["services"] = services.map { service -> [String: Any] in
                var service = service
                if let stop = service["autostop"] as? Bool { service["autostop"] = stop ? "stop" : "off" }
                return service
            }
            machine[key] = config
        }
        return machine
    }
}

/// Sends the lease nonce with every call about a machine this run holds a lease on, as flyctl
/// does: with a lease held, Fly refuses changes to the machine (its metadata included) without it.
final class FlyLeaseNonces: ClientMiddleware, @unchecked Sendable {
    private let lock = NSLock()
    private var nonces: [String: String] = [:]

    func set(_ nonce: String?, machine: String) {
        lock.withLock { nonces[machine] = nonce }
    }

    func nonce(machine: String) -> String? {
        lock.withLock { nonces[machine] }
    }

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        let parts = (request.path ?? "").split(separator: "?")[0].split(separator: "/")
        if let index = parts.firstIndex(of: "machines"), index + 1 < parts.count, request.headerFields[.flyLeaseNonce] == nil,
            let nonce = nonce(machine: String(parts[index + 1]))
        {
            request.headerFields[.flyLeaseNonce] = nonce
        }
        return try await next(request, body, baseURL)
    }
}
