import Foundation
import HTTPTypes
import Logging
import NIOCore

/// Answers `GET /api/designs/{id}` in the channel pipeline when the answer is certain without
/// waiting on anything: the bearer token was verified before and has not expired, and this
/// instance holds the design in its near cache. The response, the metrics and the access-log line
/// are those of the routed path (a test compares them); anything else (an unknown token, a
/// cache miss, a CORS preflight, rate limiting, which needs Redis) declines and is routed.
struct CachedDesignShortcut: Sendable {
    let cache: DesignCache
    let verified: VerifiedTokens
    let policy: ResponsePolicy
    let metrics: ServiceMetrics
    let logger: Logger

    static let prefix = "/api/designs/"
    /// Hummingbird's name for the route, the label the routed path counts under.
    static let route = "/api/designs/{id}"

    func answer(_ request: HTTPRequest) -> EarlyAnswerHandler.Answer? {
        let started = ContinuousClock.now
        guard request.method == .get, let path = request.path, path.hasPrefix(Self.prefix),
            case let idText = path.dropFirst(Self.prefix.count), idText.utf8.count == 36, let id = UUID(uuidString: String(idText)),
            let header = request.headerFields[.authorization], let token = VerifiedTokens.bearerToken(header),
            let user = verified.get(token)
        else { return nil }
        let key = id.uuidString.lowercased()
        guard let body = cache.nearCopy(user: user, design: key) else { return nil }

        let requestID = RequestIdentityMiddleware.acceptableID(request.headerFields[.requestID]) ?? RequestIDs.next()
        var head = HTTPResponse(status: .ok)
        head.headerFields[.contentType] = "application/json; charset=utf-8"
        head.headerFields[.requestID] = requestID
        policy.apply(to: &head.headerFields, origin: request.headerFields[.origin])
        metrics.countDesignRequest("get")
        metrics.recordRequest(method: "GET", route: Self.route, status: 200, since: started)
        var logger = logger
        logger[metadataKey: "request_id"] = .string(requestID)
        RequestIdentityMiddleware.logAccess(logger, method: .get, path: path, status: .ok, since: started)
        return EarlyAnswerHandler.Answer(head: head, body: body)
    }
}
