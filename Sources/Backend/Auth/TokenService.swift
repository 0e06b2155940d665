import Foundation
import JWTKit

/// The service's own tokens: short-lived access tokens signed with JWT_SECRET, and refresh
/// tokens signed with REFRESH_TOKEN_SECRET whose ids are tracked for rotation.
struct TokenService: Sendable {
    static let issuer = "pet-backend"
    static let accessLifetime: TimeInterval = 15 * 60
    static let refreshLifetime: TimeInterval = 30 * 24 * 3600

    struct AccessClaims: JWTPayload {
        var sub: SubjectClaim
        var iss: IssuerClaim
        var exp: ExpirationClaim
        var iat: IssuedAtClaim

        func verify(using algorithm: some JWTAlgorithm) async throws {
            try exp.verifyNotExpired()
            try TokenTimes.check(exp: exp, iat: iat, nbf: nil, maximumLifetime: TokenService.accessLifetime)
            guard iss.value == TokenService.issuer else {
                throw JWTError.claimVerificationFailure(failedClaim: iss, reason: "wrong issuer")
            }
        }
    }

    struct RefreshClaims: JWTPayload {
        var sub: SubjectClaim
        var jti: IDClaim
        var fam: String
        var exp: ExpirationClaim

        func verify(using algorithm: some JWTAlgorithm) async throws {
            try exp.verifyNotExpired()
            try TokenTimes.check(exp: exp, iat: nil, nbf: nil, maximumLifetime: TokenService.refreshLifetime)
        }
    }

    private let accessKeys: JWTKeyCollection
    private let refreshKeys: JWTKeyCollection

    static func make(jwtSecret: Sensitive, refreshSecret: Sensitive) async -> TokenService {
        let access = JWTKeyCollection()
        await access.add(hmac: HMACKey(from: jwtSecret.revealed), digestAlgorithm: .sha256)
        let refresh = JWTKeyCollection()
        await refresh.add(hmac: HMACKey(from: refreshSecret.revealed), digestAlgorithm: .sha256)
        return TokenService(accessKeys: access, refreshKeys: refresh)
    }

    func accessToken(for user: String, now: Date = Date()) async throws -> String {
        try await accessKeys.sign(
            AccessClaims(
                sub: .init(value: user), iss: .init(value: Self.issuer), exp: .init(value: now.addingTimeInterval(Self.accessLifetime)),
                iat: .init(value: now)))
    }

    func verifyAccess(_ token: String) async throws -> AccessClaims {
        try await accessKeys.verify(token, as: AccessClaims.self)
    }

    func refreshToken(for user: String, id: UUID, family: UUID, expires: Date) async throws -> String {
        try await refreshKeys.sign(
            RefreshClaims(sub: .init(value: user), jti: .init(value: id.uuidString), fam: family.uuidString, exp: .init(value: expires)))
    }

    func verifyRefresh(_ token: String) async throws -> RefreshClaims {
        try await refreshKeys.verify(token, as: RefreshClaims.self)
    }

    /// The `alg` of a compact JWT's header, without verifying anything.
    static func algorithm(of token: String) -> String? {
        guard let header = token.split(separator: ".", maxSplits: 1).first, let data = CursorSigner.bytes(base64URL: header) else {
            return nil
        }
        let text = String(decoding: data, as: UTF8.self).filter { !$0.isWhitespace }
        for algorithm in ["HS256", "RS256"] where text.contains("\"alg\":\"\(algorithm)\"") {
            return algorithm
        }
        return nil
    }
}
