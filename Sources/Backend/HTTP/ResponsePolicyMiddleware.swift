import HTTPTypes
import Hummingbird

/// Security headers on every response, and CORS for exactly the configured origins.
struct ResponsePolicy: Sendable {
    let allowedOrigins: Set<String>
    let strictTransportSecurity: Bool

    func allows(origin: String?) -> Bool { origin.map { allowedOrigins.contains($0) } ?? false }

    /// The headers every response carries, whichever path answered it.
    func apply(to headers: inout HTTPFields, origin: String?) {
        if allows(origin: origin), let origin {
            headers[.accessControlAllowOrigin] = origin
            headers[.accessControlExposeHeaders] = "X-Request-Id, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After"
        }
        headers[.vary] = "Origin"
        headers[.xContentTypeOptions] = "nosniff"
        headers[.xFrameOptions] = "DENY"
        headers[.referrerPolicy] = "no-referrer"
        headers[.contentSecurityPolicy] = "default-src 'none'; frame-ancestors 'none'"
        if headers[.cacheControl] == nil { headers[.cacheControl] = "no-store" }
        if strictTransportSecurity { headers[.strictTransportSecurity] = "max-age=31536000; includeSubDomains" }
    }
}

/// Applies `ResponsePolicy` to routed responses and answers CORS preflight requests.
struct ResponsePolicyMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let policy: ResponsePolicy

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws
        -> Response
    {
        let origin = request.headers[.origin]
        var response: Response
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            guard policy.allows(origin: origin) else {
                throw APIError(.forbidden, code: "cors_origin_denied", "the origin \(origin ?? "(none)") may not call this API")
            }
            response = Response(status: .noContent)
            response.headers[.accessControlAllowMethods] = "GET, POST, PUT, DELETE, OPTIONS"
            response.headers[.accessControlAllowHeaders] = "Authorization, Content-Type, X-Request-Id"
            response.headers[.accessControlMaxAge] = "600"
        } else {
            response = try await next(request, context)
        }
        policy.apply(to: &response.headers, origin: origin)
        return response
    }
}
