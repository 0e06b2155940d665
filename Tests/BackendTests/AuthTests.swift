import Foundation
import Hummingbird
import HummingbirdTesting
import JWTKit
import NIOCore
import TestSupport
import Testing

@testable import Backend

@Suite struct AuthTests {
    @Test func expiredAndForgedTokensAreRefused() async throws {
        let harness = try await BackendHarness()
        let expired = try await BackendHarness.accessToken(for: "alice", now: Date().addingTimeInterval(-3600))
        let forged = try await BackendHarness.accessToken(for: "alice", secret: "another-secret-that-is-long-enough-32")
        try await harness.withApp { client, _ in
            for token in [expired, forged, "not.a.jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9."] {
                let response = try await client.execute(uri: "/api/designs", method: .get, headers: .bearer(token, json: false))
                #expect(response.status == .unauthorized, "token \(token.prefix(20)) was accepted")
                #expect(!response.text.contains(token))
            }
            let malformed = try await client.execute(uri: "/api/designs", method: .get, headers: [.authorization: "Basic abc"])
            #expect(malformed.status == .unauthorized)
            let anonymous = try await client.execute(uri: "/api/designs", method: .get)
            #expect(try anonymous.json()["error"].flatMap { $0 as? [String: Any] }?["code"] as? String == "unauthenticated")
        }
    }

    /// Validly signed tokens whose time claims are absurd: refused with 401, and the process
    /// lives on (an `exp` of 1e21 trapped converting the remembered lifetime to a Duration).
    @Test func signedTokensWithAbsurdTimesAreRefusedNotACrash() async throws {
        let clerk = try await StubServer(routes: ["/v1/jwks": (.ok, ClerkKeys.jwks)])
        let harness = try await BackendHarness(["CLERK_JWKS_URL": clerk.url + "/v1/jwks", "CLERK_SECRET_KEY": "sk_test_abcdef"])
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: BackendHarness.jwtSecret), digestAlgorithm: .sha256)
        func own(exp: Date, iat: Date = Date()) async throws -> String {
            try await keys.sign(
                TokenService.AccessClaims(
                    sub: .init(value: "alice"), iss: .init(value: TokenService.issuer), exp: .init(value: exp), iat: .init(value: iat)))
        }
        let far = Date(timeIntervalSince1970: 1e21)
        let tokens = [
            try await own(exp: far),
            try await own(exp: Date().addingTimeInterval(48 * 3600)),
            try await own(exp: Date().addingTimeInterval(3000), iat: Date().addingTimeInterval(2400)),
            try await ClerkKeys.sessionToken(user: "user_2abc", expires: far),
            try await ClerkKeys.sessionToken(user: "user_2abc", expires: Date().addingTimeInterval(30 * 24 * 3600)),
        ]
        try await harness.withApp { client, _ in
            for token in tokens {
                let response = try await client.execute(uri: "/api/designs", method: .get, headers: .bearer(token, json: false))
                #expect(response.status == .unauthorized, "a token with absurd times was accepted: \(response.text)")
            }
            let good = try await BackendHarness.accessToken(for: "alice")
            let after = try await client.execute(uri: "/api/designs", method: .get, headers: .bearer(good, json: false))
            #expect(after.status == .ok, "\(after.text)")
        }
    }

    /// Clerk session tokens are verified against the JWKS fetched with CLERK_SECRET_KEY, and
    /// exchanged for the service's own tokens, whose refresh token rotates on every use.
    @Test func clerkSessionRefreshRotationAndReuseDetection() async throws {
        let clerk = try await StubServer(routes: ["/v1/jwks": (.ok, ClerkKeys.jwks)])
        let harness = try await BackendHarness(["CLERK_JWKS_URL": clerk.url + "/v1/jwks", "CLERK_SECRET_KEY": "sk_test_abcdef"])
        let session = try await ClerkKeys.sessionToken(user: "user_2abc")
        let wrongParty = try await ClerkKeys.sessionToken(user: "user_2abc", party: "https://evil.example")
        let expired = try await ClerkKeys.sessionToken(user: "user_2abc", expires: Date().addingTimeInterval(-120))
        try await harness.withApp { client, _ in
            let direct = try await client.execute(uri: "/api/designs", method: .get, headers: .bearer(session, json: false))
            #expect(direct.status == .ok, "\(direct.text)")
            for bad in [wrongParty, expired] {
                let refused = try await client.execute(uri: "/api/designs", method: .get, headers: .bearer(bad, json: false))
                #expect(refused.status == .unauthorized)
            }

            let exchanged = try await client.execute(uri: "/api/auth/session", method: .post, headers: .bearer(session, json: false))
            #expect(exchanged.status == .ok)
            let pair = try exchanged.json()
            let access = try #require(pair["accessToken"] as? String)
            let firstRefresh = try #require(pair["refreshToken"] as? String)
            let mine = try await client.execute(uri: "/api/designs", method: .get, headers: .bearer(access, json: false))
            #expect(mine.status == .ok)
            let accessOnly = try await client.execute(uri: "/api/auth/session", method: .post, headers: .bearer(access, json: false))
            #expect(accessOnly.status == .unauthorized)

            let rotated = try await client.execute(
                uri: "/api/auth/refresh", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"refreshToken":"\#(firstRefresh)"}"#))
            #expect(rotated.status == .ok)
            let secondRefresh = try #require(try rotated.json()["refreshToken"] as? String)
            #expect(secondRefresh != firstRefresh)

            let replay = try await client.execute(
                uri: "/api/auth/refresh", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"refreshToken":"\#(firstRefresh)"}"#))
            #expect(replay.status == .unauthorized)
            #expect(replay.text.contains("refresh_token_reused"))
            let afterReuse = try await client.execute(
                uri: "/api/auth/refresh", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"refreshToken":"\#(secondRefresh)"}"#))
            #expect(afterReuse.status == .unauthorized, "a reuse must revoke the whole family")
        }
        #expect(clerk.requests.first?.headers["authorization"] == "Bearer sk_test_abcdef")
        #expect(clerk.requests.filter { $0.path == "/v1/jwks" }.count == 1, "the JWKS is cached")
        let actions = try await harness.query("SELECT action FROM audit_log")
        #expect(actions == ["auth.refresh_token_reuse", "auth.refresh_token_reuse"], "the replay, then the revoked successor")
        #expect(try await harness.query("SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NULL") == ["0"])
    }

    @Test func clerkUnreachableIsA503NotA401() async throws {
        let harness = try await BackendHarness()
        let session = try await ClerkKeys.sessionToken(user: "user_2abc")
        try await harness.withApp { client, _ in
            let response = try await client.execute(uri: "/api/designs", method: .get, headers: .bearer(session, json: false))
            #expect(response.status == .serviceUnavailable)
        }
    }
}
