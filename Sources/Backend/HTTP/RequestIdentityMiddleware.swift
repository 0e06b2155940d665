import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// Gives every request an id (the caller's `X-Request-Id` when it is sane, else a new one),
/// puts it in every log line and error body and in the response, turns any error into a JSON
/// error response, reports unexpected ones, and writes one access-log line per request.
struct RequestIdentityMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let reporter: ErrorReporter?
    /// Applied to the 500s made here, which no inner middleware sees.
    var policy: ResponsePolicy? = nil

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws
        -> Response
    {
        var context = context
        let requestID = RequestIDs.honouring(request.headers[.requestID])
        context.requestID = requestID
        context.logger[metadataKey: "request_id"] = .string(requestID)
        let started = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPResponseError {
            response = try error.response(from: request, context: context)
        } catch {
            let attributed = error as? AttributedError
            let underlying = attributed?.underlying ?? error
            if let constraint = ConstraintViolation.constraint(in: underlying) {
                context.logger.warning("the database refused a write validation let through", metadata: ["constraint": .string(constraint)])
                response = APIError.jsonResponse(
                    status: .badRequest, code: "invalid_request", message: "the request breaks a rule of the stored data (\(constraint))",
                    requestID: requestID)
            } else if DatabasePools.isUnreachable(underlying) {
                // A restart or failover: retryable, and not a bug to report once per request.
                context.logger.warning("database unreachable", metadata: ["error": .string(String(reflecting: type(of: underlying)))])
                response = APIError.jsonResponse(
                    status: .serviceUnavailable, code: "database_unavailable",
                    message: "the database cannot be reached right now; retry shortly", requestID: requestID)
                response.headers[.retryAfter] = "1"
            } else {
                context.logger.error("unhandled error", metadata: ["error": .string(String(reflecting: type(of: underlying)))])
                await reporter?.report(underlying, request: request, requestID: requestID, userID: attributed?.userID ?? context.userID)
                response = APIError.jsonResponse(
                    status: .internalServerError, code: "internal_error",
                    message: "something went wrong; quote the request id when reporting it",
                    requestID: requestID)
            }
            policy?.apply(to: &response.headers, origin: request.headers[.origin])
        }
        response.headers[.requestID] = requestID
        Self.logAccess(context.logger, method: request.method, path: request.uri.path, status: response.status, since: started)
        return response
    }

    /// The access-log line, one per request, whichever path answered it.
    static func logAccess(
        _ logger: Logger, method: HTTPRequest.Method, path: String, status: HTTPResponse.Status, since started: ContinuousClock.Instant
    ) {
        logger.info(
            "request",
            metadata: [
                "method": .string(method.rawValue), "path": .string(path), "status": .stringConvertible(status.code),
                "duration_ms": .stringConvertible((ContinuousClock.now - started).milliseconds),
            ])
    }
}

extension HTTPField.Name {
    static let requestID = named("X-Request-Id")
    static let xFrameOptions = named("X-Frame-Options")
    static let referrerPolicy = named("Referrer-Policy")
    static let rateLimitLimit = named("RateLimit-Limit")
    static let rateLimitRemaining = named("RateLimit-Remaining")
    static let rateLimitReset = named("RateLimit-Reset")
    static let shopifyHmac = named("X-Shopify-Hmac-Sha256")
    static let shopifyWebhookID = named("X-Shopify-Webhook-Id")
    static let shopifyShopDomain = named("X-Shopify-Shop-Domain")
    static let shopifyTopic = named("X-Shopify-Topic")
    static let shopifyAccessToken = named("X-Shopify-Access-Token")

    /// For the literal names above, which are valid by construction.
    private static func named(_ name: String) -> HTTPField.Name {
        guard let field = HTTPField.Name(name) else { preconditionFailure("invalid header name literal \(name)") }
        return field
    }
}

/// New request ids: a random prefix chosen at start-up and a counter. Unique without a system
/// call per request (Foundation's `UUID()` opens /dev/urandom each time on Linux, which showed
/// up as 5 % of a cached read's CPU). Ids only need to be unique, not secret.
enum RequestIDs {
    private static let prefix: String = {
        var generator = SystemRandomNumberGenerator()
        return String(generator.next() as UInt64, radix: 16)
    }()
    private static let counter = Atomic<UInt64>(0)

    /// The caller's `X-Request-Id` when it is sane, else a new id.
    static func honouring(_ header: String?) -> String {
        guard let header, (1...128).contains(header.count),
            header.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") })
        else { return next() }
        return header
    }

    static func next() -> String {
        let number = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return "\(prefix)-\(String(number, radix: 16))"
    }
}
