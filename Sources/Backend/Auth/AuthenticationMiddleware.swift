import Foundation
import Hummingbird

/// Reads `Authorization: Bearer …`: the service's own access token (HS256) or a Clerk session
/// token (RS256). A present but bad token is a 401, never silently anonymous.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let tokens: TokenService
    let clerk: ClerkVerifier
    let verified: VerifiedTokens

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws
        -> Response
    {
        guard let header = request.headers[.authorization] else { return try await next(request, context) }
        guard let token = VerifiedTokens.bearerToken(header) else {
            throw APIError(.unauthorized, code: "invalid_token", "the Authorization header must be `Bearer <token>`")
        }
        var context = context
        do {
            if let user = verified.get(token) {
                context.userID = user
            } else {
                switch TokenService.algorithm(of: token) {
                case "HS256":
                    let claims = try await tokens.verifyAccess(token)
                    verified.set(token, claims.sub.value, expires: .now + TokenTimes.remembered(until: claims.exp.value))
                    context.userID = claims.sub.value
                case "RS256":
                    let claims = try await clerk.verify(token)
                    verified.set(token, claims.sub.value, expires: .now + TokenTimes.remembered(until: claims.exp.value))
                    context.userID = claims.sub.value
                default: throw APIError(.unauthorized, code: "invalid_token", "the token is not a JWT this service accepts")
                }
            }
        } catch let error as APIError {
            throw error
        } catch ClerkVerifier.Failure.keysUnavailable {
            throw APIError(.serviceUnavailable, code: "auth_unavailable", "sign-in keys cannot be fetched right now; retry shortly")
        } catch {
            throw APIError(.unauthorized, code: "invalid_token", "the token is invalid or expired")
        }
        context.logger[metadataKey: "user_id"] = .string(context.userID ?? "-")
        do {
            return try await next(request, context)
        } catch let error as HTTPResponseError {
            throw error
        } catch {
            throw AttributedError(underlying: error, userID: context.userID)
        }
    }
}

/// Tokens already verified, mapped to their user until they expire: a client sends the same
/// token with every request, and verifying it again (JSON decoding, HMAC or RSA) was most of a
/// cached read's cost. Only a token that passed verification is remembered, so a forged one
/// never matches.
typealias VerifiedTokens = ExpiringMap<String>

extension VerifiedTokens {
    /// The token of an `Authorization: Bearer <token>` header.
    static func bearerToken(_ header: String) -> String? {
        guard header.hasPrefix("Bearer ") else { return nil }
        let token = String(header.dropFirst(7))
        return token.isEmpty ? nil : token
    }
}

/// An unexpected error with the user it happened to, for the error report: the outer
/// middleware's context is a copy made before the user was known.
struct AttributedError: Error {
    var underlying: Error
    var userID: String?
}
