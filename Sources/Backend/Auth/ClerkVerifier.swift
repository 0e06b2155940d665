import AsyncHTTPClient
import Foundation
import JWTKit
import Logging
import NIOCore

/// Verifies Clerk session tokens (RS256) against Clerk's JWKS, fetched with CLERK_SECRET_KEY and
/// cached. An unknown key id triggers one refetch (at most once a minute), so a key rotation at
/// Clerk is picked up without a restart.
actor ClerkVerifier {
    struct Claims: JWTPayload {
        var sub: SubjectClaim
        var exp: ExpirationClaim
        var nbf: NotBeforeClaim?
        var iat: IssuedAtClaim?
        var azp: String?

        /// Clerk's session tokens live 60 s by default; a JWT template can make them longer,
        /// but nothing a browser session uses lives beyond a day.
        static let maximumLifetime: TimeInterval = 24 * 3600

        func verify(using algorithm: some JWTAlgorithm) async throws {
            try exp.verifyNotExpired(currentDate: Date().addingTimeInterval(-5))
            try nbf?.verifyNotBefore(currentDate: Date().addingTimeInterval(5))
            try TokenTimes.check(exp: exp, iat: iat, nbf: nbf, maximumLifetime: Self.maximumLifetime)
        }
    }

    enum Failure: Error {
        case keysUnavailable(String)
        case invalid
        case unauthorizedParty
    }

    private let jwksURL: String
    private let secretKey: Sensitive
    private let allowedParties: Set<String>
    private let httpClient: HTTPClient
    private let logger: Logger
    private var keys: JWTKeyCollection?
    private var fetchedAt: ContinuousClock.Instant?

    init(jwksURL: String, secretKey: Sensitive, allowedParties: Set<String>, httpClient: HTTPClient = .shared, logger: Logger) {
        self.jwksURL = jwksURL
        self.secretKey = secretKey
        self.allowedParties = allowedParties
        self.httpClient = httpClient
        self.logger = logger
    }

    func verify(_ token: String) async throws -> Claims {
        let collection = try await currentKeys(forceRefresh: false)
        do {
            return try await check(token, with: collection)
        } catch let error as JWTError where "\(error)".contains("kid") {
            let refreshed = try await currentKeys(forceRefresh: true)
            return try await check(token, with: refreshed)
        }
    }

    private func check(_ token: String, with collection: JWTKeyCollection) async throws -> Claims {
        let claims = try await collection.verify(token, as: Claims.self)
        if let party = claims.azp, !allowedParties.isEmpty, !allowedParties.contains(party) {
            throw Failure.unauthorizedParty
        }
        return claims
    }

    private func currentKeys(forceRefresh: Bool) async throws -> JWTKeyCollection {
        let maximumAge: Duration = forceRefresh ? .seconds(60) : .seconds(3600)
        if let keys, let fetchedAt, ContinuousClock.now - fetchedAt < maximumAge { return keys }
        var request = HTTPClientRequest(url: jwksURL)
        request.headers.add(name: "Authorization", value: "Bearer \(secretKey.revealed)")
        request.headers.add(name: "Accept", value: "application/json")
        do {
            let response = try await httpClient.execute(request, timeout: .seconds(5))
            guard response.status == .ok else { throw Failure.keysUnavailable("the JWKS endpoint answered \(response.status.code)") }
            let body = try await response.body.collect(upTo: 1 << 20)
            let collection = JWTKeyCollection()
            try await collection.add(jwksJSON: String(buffer: body))
            keys = collection
            fetchedAt = .now
            return collection
        } catch let failure as Failure {
            if let keys { return keys }
            throw failure
        } catch {
            logger.warning("cannot fetch Clerk's JWKS", metadata: ["error": "\(error)"])
            if let keys { return keys }
            throw Failure.keysUnavailable("\(error)")
        }
    }
}
