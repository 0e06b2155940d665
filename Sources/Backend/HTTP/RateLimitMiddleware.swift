import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Limits requests per client address (before authentication, so that bad tokens count and a
/// client over its limit gets 429 before any signature is checked) and per signed-in user
/// (after it), with `RateLimit-*` headers and 429 + `Retry-After` when exceeded. When Redis is unreachable it fails open: requests are served
/// without a limit (and logged), because refusing all traffic would turn a cache outage into a
/// full outage. Abuse protection degrades; correctness does not depend on it.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    enum Scope: Sendable {
        /// The client's address: put before authentication.
        case clientAddress
        /// The signed-in user: put after authentication; anonymous requests pass.
        case user
    }

    let limiter: RateLimiter
    let metrics: ServiceMetrics
    var scope: Scope = .clientAddress
    /// A header set by a proxy this service sits behind (`Fly-Client-IP`, `X-Forwarded-For`);
    /// without one the socket's address is used, since such headers can be forged.
    let trustedClientIPHeader: HTTPField.Name?
    /// Proxies that append to that header (each adds the address it saw): the client is the
    /// entry this many from the end; what comes before it the client wrote itself.
    var trustedProxyHops = 1

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws
        -> Response
    {
        let key: String
        switch scope {
        case .clientAddress: key = "ip:\(clientIP(request, context: context))"
        case .user:
            guard let user = context.userID else { return try await next(request, context) }
            key = "user:\(user)"
        }
        let keys = [key]
        let decision: RateLimiter.Decision
        do {
            decision = try await limiter.check(keys)
        } catch {
            context.logger.warning("rate limiting skipped: Redis unavailable", metadata: ["error": "\(error)"])
            return try await next(request, context)
        }
        var headers: HTTPFields = [
            .rateLimitLimit: String(decision.limit), .rateLimitRemaining: String(decision.remaining),
            .rateLimitReset: String(decision.reset),
        ]
        guard decision.allowed else {
            metrics.rateLimitRejections.increment()
            headers[.retryAfter] = String(max(1, decision.retryAfter))
            throw APIError(
                .tooManyRequests, code: "rate_limited", "too many requests; retry after \(max(1, decision.retryAfter)) s", headers: headers)
        }
        var response = try await next(request, context)
        // With both scopes on a request, the client sees the tighter of the two.
        let shown = response.headers[.rateLimitRemaining].flatMap(Int.init)
        if shown.map({ decision.remaining < $0 }) ?? true {
            for field in headers { response.headers[field.name] = field.value }
        }
        return response
    }

    private func clientIP(_ request: Request, context: AppRequestContext) -> String {
        if let name = trustedClientIPHeader, let value = request.headers[name] {
            let entries = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            return entries.isEmpty ? value : entries[max(0, entries.count - trustedProxyHops)]
        }
        return context.remoteAddress?.ipAddress ?? "unknown"
    }
}
