import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Limits requests per client IP and per signed-in user, with `RateLimit-*` headers and 429 +
/// `Retry-After` when exceeded. When Redis is unreachable it fails open: requests are served
/// without a limit (and logged), because refusing all traffic would turn a cache outage into a
/// full outage. Abuse protection degrades; correctness does not depend on it.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let limiter: RateLimiter
    let metrics: ServiceMetrics
    /// A header set by a proxy this service sits behind (`Fly-Client-IP`, `X-Forwarded-For`);
    /// without one the socket's address is used, since such headers can be forged.
    let trustedClientIPHeader: HTTPField.Name?

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws
        -> Response
    {
        var keys = ["ip:\(clientIP(request, context: context))"]
        if let user = context.userID { keys.append("user:\(user)") }
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
        response.headers.append(contentsOf: headers)
        return response
    }

    private func clientIP(_ request: Request, context: AppRequestContext) -> String {
        if let name = trustedClientIPHeader, let value = request.headers[name] {
            return value.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? value
        }
        return context.remoteAddress?.ipAddress ?? "unknown"
    }
}
