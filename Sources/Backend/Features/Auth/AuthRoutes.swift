import Foundation
import Hummingbird
import Logging
import PostgresNIO

struct RefreshRequest: Decodable, StrictlyDecodable, Sendable {
    static let allowedKeys: Set<String> = ["refreshToken"]
    var refreshToken: String
}

struct TokenPair: Encodable, Sendable {
    var accessToken: String
    var refreshToken: String
    var tokenType = "Bearer"
    var expiresIn = Int(TokenService.accessLifetime)
}

/// `/api/auth`: a Clerk session becomes the service's own access and refresh tokens; refresh
/// tokens rotate on every use, and a refresh token used twice revokes its whole family (someone
/// replayed a stolen token, or the client raced itself; either way the session must restart).
struct AuthRoutes: Sendable {
    let tokens: TokenService
    let pools: DatabasePools
    let audit: AuditLog
    let logger: Logger
    let maxBodyBytes: Int

    func register(on group: RouterGroup<AppRequestContext>) {
        group.post("auth/session", use: session)
        group.post("auth/refresh", use: refresh)
        group.post("auth/logout", use: logout)
    }

    @Sendable func session(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireUser()
        guard let header = request.headers[.authorization], TokenService.algorithm(of: String(header.dropFirst(7))) == "RS256" else {
            throw APIError(.unauthorized, code: "clerk_session_required", "exchange a Clerk session token, not an access token")
        }
        return try Response.json(try await issue(user: user, family: UUID()))
    }

    @Sendable func refresh(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body = try JSONBody.decode(RefreshRequest.self, from: try await JSONBody.data(request, limit: maxBodyBytes))
        guard let claims = try? await tokens.verifyRefresh(body.refreshToken), let id = UUID(uuidString: claims.jti.value),
            let family = UUID(uuidString: claims.fam)
        else {
            throw APIError(.unauthorized, code: "invalid_refresh_token", "the refresh token is invalid or expired; sign in again")
        }
        let user = claims.sub.value
        let claimed = try await pools.write { connection in
            let rows = try await connection.query(
                """
                UPDATE refresh_tokens SET used_at = now()
                WHERE id = \(id) AND user_id = \(user) AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
                RETURNING id
                """, logger: logger)
            for try await _ in rows.decode(UUID.self) { return true }
            return false
        }
        guard claimed else {
            try await revoke(family: family)
            await audit.record(actor: user, action: "auth.refresh_token_reuse", subject: family.uuidString, requestID: context.requestID)
            throw APIError(
                .unauthorized, code: "refresh_token_reused",
                "this refresh token was already used; every session of it is revoked, sign in again")
        }
        return try Response.json(try await issue(user: user, family: family))
    }

    @Sendable func logout(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body = try JSONBody.decode(RefreshRequest.self, from: try await JSONBody.data(request, limit: maxBodyBytes))
        if let claims = try? await tokens.verifyRefresh(body.refreshToken), let family = UUID(uuidString: claims.fam) {
            try await revoke(family: family)
            await audit.record(actor: claims.sub.value, action: "auth.logout", subject: family.uuidString, requestID: context.requestID)
        }
        return Response(status: .noContent)
    }

    private func issue(user: String, family: UUID) async throws -> TokenPair {
        let id = UUID()
        let expires = Date().addingTimeInterval(TokenService.refreshLifetime)
        try await pools.write { connection in
            try await connection.query(
                "INSERT INTO refresh_tokens (id, family_id, user_id, expires_at) VALUES (\(id), \(family), \(user), \(expires))",
                logger: logger)
        }
        return TokenPair(
            accessToken: try await tokens.accessToken(for: user),
            refreshToken: try await tokens.refreshToken(for: user, id: id, family: family, expires: expires))
    }

    private func revoke(family: UUID) async throws {
        try await pools.write { connection in
            try await connection.query(
                "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = \(family) AND revoked_at IS NULL", logger: logger)
        }
    }
}
