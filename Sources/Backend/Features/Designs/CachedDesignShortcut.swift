import Foundation
import HTTPTypes
import Logging
import NIOCore
import Prometheus

/// Answers `GET /api/designs/{id}` in the channel pipeline when the answer is certain without
/// waiting on anything: the bearer token was verified before and has not expired, and this
/// instance holds the design in its near cache. The response, the metrics and the access-log line
/// are those of the routed path (a test compares them); anything else (an unknown token, a
/// cache miss, a CORS preflight, rate limiting, which needs Redis) declines and is routed.
struct CachedDesignShortcut: Sendable {
    let cache: DesignCache
    let verified: VerifiedTokens
    let policy: ResponsePolicy
    let logger: Logger
    /// The headers of every such response before the per-request ones, made once with the
    /// shared policy; and the metric handles the routed read counts under.
    private let headers: HTTPFields
    private let designReads: Counter
    private let designRequests: Counter
    private let okRequests: Counter
    private let latency: DurationHistogram

    static let prefix = "/api/designs/"
    /// Hummingbird's name for the route, the label the routed path counts under.
    static let route = "/api/designs/{id}"

    init(cache: DesignCache, verified: VerifiedTokens, policy: ResponsePolicy, metrics: ServiceMetrics, logger: Logger) {
        self.cache = cache
        self.verified = verified
        self.policy = policy
        self.logger = logger
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        policy.apply(to: &headers, origin: nil)
        self.headers = headers
        designReads = metrics.designRequests(operation: "get")
        designRequests = metrics.designRequests
        okRequests = metrics.requests(method: "GET", route: Self.route, status: 200)
        latency = metrics.latency(method: "GET", route: Self.route)
    }

    func answer(_ request: HTTPRequest) -> EarlyAnswerHandler.Answer? {
        let started = ContinuousClock.now
        guard request.method == .get, let path = request.path, path.hasPrefix(Self.prefix),
            let id = Self.canonicalID(path.utf8.dropFirst(Self.prefix.utf8.count)),
            let header = request.headerFields[.authorization], let token = VerifiedTokens.bearerToken(header),
            let user = verified.get(token), let body = cache.nearCopy(user: user, design: id)
        else { return nil }

        let requestID = RequestIDs.honouring(request.headerFields[.requestID])
        var head = HTTPResponse(status: .ok, headerFields: headers)
        head.headerFields[.requestID] = requestID
        if let origin = request.headerFields[.origin], policy.allows(origin: origin) {
            policy.apply(to: &head.headerFields, origin: origin)
        }
        designRequests.increment()
        designReads.increment()
        okRequests.increment()
        latency.record(ContinuousClock.now - started)
        if logger.logLevel <= .info {
            var logger = logger
            logger[metadataKey: "request_id"] = .string(requestID)
            RequestIdentityMiddleware.logAccess(logger, method: .get, path: path, status: .ok, since: started)
        }
        return EarlyAnswerHandler.Answer(head: head, body: body)
    }

    /// A UUID's text in the lowercase form the cache keys use, or nil for anything else.
    static func canonicalID(_ text: Substring.UTF8View) -> String? {
        guard text.count == 36 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(36)
        for (index, byte) in zip(0..., text) {
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard byte == UInt8(ascii: "-") else { return nil }
                bytes.append(byte)
                continue
            }
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"): bytes.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): bytes.append(byte + 32)
            default: return nil
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
