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
        Self.applySecurityHeaders(to: &headers)
        if strictTransportSecurity { headers[.strictTransportSecurity] = "max-age=31536000; includeSubDomains" }
    }

    /// The part that depends on neither the request nor the configuration, so that answers made
    /// before any middleware (the liveness probe) carry it too.
    static func applySecurityHeaders(to headers: inout HTTPFields) {
        headers[.xContentTypeOptions] = "nosniff"
        headers[.xFrameOptions] = "DENY"
        headers[.referrerPolicy] = "no-referrer"
        headers[.contentSecurityPolicy] = "default-src 'none'; frame-ancestors 'none'"
        if headers[.cacheControl] == nil { headers[.cacheControl] = "no-store" }
    }
}

/// Applies `ResponsePolicy` to every routed response, errors included (a browser cannot read an
/// error without its CORS headers), and answers CORS preflight requests. Errors become the JSON
/// error shape here, unknown routes included.
struct ResponsePolicyMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let policy: ResponsePolicy

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws
        -> Response
    {
        let origin = request.headers[.origin]
        var response: Response
        do {
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
        } catch let error as APIError {
            response = try error.response(from: request, context: context)
        } catch let error as HTTPError {
            response = try Self.apiError(for: error, request: request).response(from: request, context: context)
        }
        policy.apply(to: &response.headers, origin: origin)
        return response
    }

    /// Hummingbird's own errors (no route, body too large, bad request line) in the JSON shape
    /// every other error has.
    static func apiError(for error: HTTPError, request: Request) -> APIError {
        switch error.status {
        case .notFound:
            APIError(.notFound, code: "not_found", "no route for \(request.method.rawValue) \(request.uri.path)", headers: error.headers)
        case .methodNotAllowed:
            APIError(error.status, code: "method_not_allowed", error.body ?? "method not allowed", headers: error.headers)
        case .contentTooLarge:
            APIError(error.status, code: "body_too_large", error.body ?? "the request body is too large", headers: error.headers)
        default: APIError(error.status, code: "http_\(error.status.code)", error.body ?? error.status.reasonPhrase, headers: error.headers)
        }
    }
}
