import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

@testable import Backend

/// What the service does when a dependency is down.
@Suite struct ResilienceTests {
    @Test func redisDownKeepsServingAndHealthSaysSo() async throws {
        let ownRedis = try LocalRedis()
        let harness = try await BackendHarness(["REDIS_URL": ownRedis.url])
        let alice = try await BackendHarness.accessToken(for: "alice")
        try await harness.withApp { client, _ in
            let created = try await client.execute(
                uri: "/api/designs", method: .post, headers: .bearer(alice), body: ByteBuffer(string: #"{"name":"A","document":{}}"#))
            let id = try #require(try created.json()["id"] as? String)
            ownRedis.stop()
            let started = ContinuousClock.now
            for _ in 0..<5 {
                let read = try await client.execute(uri: "/api/designs/\(id)", method: .get, headers: .bearer(alice, json: false))
                #expect(read.status == .ok)
                #expect(read.headers[.rateLimitLimit] == nil, "rate limiting fails open without Redis")
            }
            #expect(ContinuousClock.now - started < .seconds(5), "a down Redis must not stall requests (a stall costs 2 s per read)")
            let health = try await client.execute(uri: "/healthz/detailed", method: .get)
            #expect(health.status == .ok)
            let json = try health.json()
            #expect(json["status"] as? String == "degraded")
            #expect((json["checks"] as? [String: [String: Any]])?["redis"]?["status"] as? String == "down")
        }
    }

    @Test func postgresDownIsA503NamingTheDatabase() async throws {
        let harness = try await BackendHarness()
        try await harness.migrateDatabase()
        var broken = harness
        broken.environment["DATABASE_URL"] = "postgresql://postgres@127.0.0.1:\(LocalProcess.freePort())/nothing?sslmode=disable"
        try await broken.withApp(migrate: false) { client, _ in
            let health = try await client.execute(uri: "/healthz/detailed", method: .get)
            #expect(health.status == .serviceUnavailable)
            #expect(try health.json()["failing"] as? [String] == ["database"])
            let live = try await client.execute(uri: "/healthz", method: .get)
            #expect(live.status == .ok, "liveness does not depend on the database")
            let alice = try await BackendHarness.accessToken(for: "alice")
            let list = try await client.execute(uri: "/api/designs", method: .get, headers: .bearer(alice, json: false))
            // Retryable, as during a restart or failover; a 500 would say the service is broken.
            #expect(list.status == .serviceUnavailable)
            #expect(list.headers[.retryAfter] == "1")
            #expect(list.text.contains("\"database_unavailable\"") && list.text.contains("\"requestId\""))
            #expect(!list.text.contains("postgres@"), "no connection details leak into responses")
        }
    }

    @Test func replicaDownFallsBackToThePrimary() async throws {
        let harness = try await BackendHarness([
            "DATABASE_REPLICA_URL": "postgresql://postgres@127.0.0.1:\(LocalProcess.freePort())/nothing?sslmode=disable"
        ])
        let alice = try await BackendHarness.accessToken(for: "alice")
        try await harness.withApp { client, backend in
            _ = try await client.execute(
                uri: "/api/designs", method: .post, headers: .bearer(alice), body: ByteBuffer(string: #"{"name":"A","document":{}}"#))
            for _ in 0..<3 {
                let list = try await client.execute(uri: "/api/designs", method: .get, headers: .bearer(alice, json: false))
                #expect(list.status == .ok)
                #expect((try list.json()["items"] as? [Any])?.count == 1)
            }
            #expect(String(decoding: backend.metrics.render(), as: UTF8.self).contains("db_replica_fallbacks_total 3"))
            let health = try await client.execute(uri: "/healthz/detailed", method: .get)
            #expect(health.status == .ok, "the replica is optional")
        }
    }

    @Test func rateLimitAnswers429WithRetryAfter() async throws {
        let harness = try await BackendHarness(["RATE_LIMIT_PER_MINUTE": "3"])
        try await harness.withApp { client, backend in
            var statuses: [HTTPResponse.Status] = []
            var last: TestResponse?
            for _ in 0..<5 {
                let response = try await client.execute(uri: "/api/designs", method: .get)
                statuses.append(response.status)
                last = response
            }
            #expect(statuses == [.unauthorized, .unauthorized, .unauthorized, .tooManyRequests, .tooManyRequests])
            let limited = try #require(last)
            #expect(limited.headers[.retryAfter].flatMap(Int.init).map { (1...20).contains($0) } == true)
            #expect(limited.headers[.rateLimitLimit] == "3")
            #expect(limited.headers[.rateLimitRemaining] == "0")
            #expect(String(decoding: backend.metrics.render(), as: UTF8.self).contains("rate_limit_rejections_total 2"))
        }
    }

    /// The client's address is limited before its token is checked: bad tokens count, and a
    /// client over its limit gets 429 (no signature verified) rather than another 401.
    @Test func badTokensAreLimitedBeforeTheyAreVerified() async throws {
        let harness = try await BackendHarness(["RATE_LIMIT_PER_MINUTE": "3"])
        try await harness.withApp { client, _ in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<5 {
                let response = try await client.execute(uri: "/api/designs", method: .get, headers: .bearer("not.a.jwt", json: false))
                statuses.append(response.status)
            }
            #expect(statuses == [.unauthorized, .unauthorized, .unauthorized, .tooManyRequests, .tooManyRequests])
        }
    }

    /// Behind a proxy the client is the last address in X-Forwarded-For (the one the proxy
    /// appended); the entries before it are the client's own words and change nothing.
    @Test func aForgedForwardedForEntryDoesNotEscapeTheLimit() async throws {
        let harness = try await BackendHarness(["RATE_LIMIT_PER_MINUTE": "2", "TRUSTED_CLIENT_IP_HEADER": "X-Forwarded-For"])
        try await harness.withApp { client, _ in
            var statuses: [HTTPResponse.Status] = []
            for attempt in 0..<4 {
                let response = try await client.execute(
                    uri: "/api/designs", method: .get, headers: [HTTPField.Name("X-Forwarded-For")!: "198.51.100.\(attempt), 203.0.113.7"])
                statuses.append(response.status)
            }
            #expect(statuses == [.unauthorized, .unauthorized, .tooManyRequests, .tooManyRequests])
            let another = try await client.execute(
                uri: "/api/designs", method: .get, headers: [HTTPField.Name("X-Forwarded-For")!: "203.0.113.8"])
            #expect(another.status == .unauthorized, "another client shares the first one's budget")
        }
    }

    /// Behind a load balancer and an ingress (two proxies that append), the client is the entry
    /// two from the end.
    @Test func withTwoProxiesTheClientIsTheSecondEntryFromTheEnd() async throws {
        let harness = try await BackendHarness([
            "RATE_LIMIT_PER_MINUTE": "2", "TRUSTED_CLIENT_IP_HEADER": "X-Forwarded-For", "TRUSTED_PROXY_HOPS": "2",
        ])
        try await harness.withApp { client, _ in
            var statuses: [HTTPResponse.Status] = []
            for attempt in 0..<3 {
                let response = try await client.execute(
                    uri: "/api/designs", method: .get,
                    headers: [HTTPField.Name("X-Forwarded-For")!: "198.51.100.\(attempt), 203.0.113.7, 10.0.0.\(attempt)"])
                statuses.append(response.status)
            }
            #expect(statuses == [.unauthorized, .unauthorized, .tooManyRequests])
        }
    }
}
