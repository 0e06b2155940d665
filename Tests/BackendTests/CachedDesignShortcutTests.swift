import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Backend

/// Near-cached design reads answered in the channel pipeline: the same response, metrics and log
/// as the routed path, and declining whenever the answer is not certain.
@Suite struct CachedDesignShortcutTests {
    private func counter(_ metrics: String, _ prefix: String) -> Int {
        metrics.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
    }

    @Test func aHeldDesignIsAnsweredAsTheRouterWouldAnswerIt() async throws {
        let harness = try await BackendHarness(["CACHE_LOCAL_TTL_MS": "60000", "ENABLE_RATE_LIMITING": "false"])
        let alice = try await BackendHarness.accessToken(for: "alice")
        let bob = try await BackendHarness.accessToken(for: "bob")
        try await harness.withApp(on: .live) { client, backend in
            let created = try await client.execute(
                uri: "/api/designs", method: .post, headers: .bearer(alice),
                body: ByteBuffer(string: #"{"name":"Night walk","document":{"size":"S"}}"#))
            let id = try #require(try created.json()["id"] as? String)
            var headers = HTTPFields.bearer(alice, json: false)
            headers[.origin] = "https://harnesshe.ro"
            headers[.requestID] = "caller-id-1"
            let routed = try await client.execute(uri: "/api/designs/\(id)", method: .get, headers: headers)
            #expect(routed.status == .ok)
            headers[.requestID] = "caller-id-2"
            let early = try await client.execute(uri: "/api/designs/\(id)", method: .get, headers: headers)
            #expect(early.status == .ok && early.body == routed.body)
            #expect(early.headers[.requestID] == "caller-id-2" && routed.headers[.requestID] == "caller-id-1")
            var withoutDates = (routed.headers, early.headers)
            for name in [HTTPField.Name.date, .requestID] {
                withoutDates.0[name] = nil
                withoutDates.1[name] = nil
            }
            #expect(Set(withoutDates.0.map(\.description)) == Set(withoutDates.1.map(\.description)), "routed and early headers differ")
            #expect(early.headers[.accessControlAllowOrigin] == "https://harnesshe.ro" && early.headers[.date] != nil)

            // Counted as the routed read is: two requests under one route label, both cache hits.
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(counter(metrics, #"http_requests_total{method="GET",route="/api/designs/{id}",status="200"}"#) == 2, "\(metrics)")
            #expect(counter(metrics, #"designs_api_operations_total{operation="get"}"#) == 2)
            #expect(counter(metrics, "cache_hits_total") >= 1)

            // The second read above was the shortcut's: it answers now, and declines what it cannot know.
            let shortcut = backend.earlyAnswerers[1]
            func request(_ path: String, method: HTTPRequest.Method = .get, token: String = alice) -> HTTPRequest {
                HTTPRequest(method: method, scheme: "http", authority: "t", path: path, headerFields: [.authorization: "Bearer \(token)"])
            }
            #expect(shortcut(request("/api/designs/\(id)")) != nil)
            #expect(shortcut(request("/api/designs/\(id.uppercased())")) != nil)
            #expect(shortcut(request("/api/designs/\(id)?fields=name")) == nil)
            #expect(shortcut(request("/api/designs/\(id)", method: .delete)) == nil)
            #expect(shortcut(request("/api/designs/\(id)", token: bob)) == nil)
            #expect(shortcut(request("/api/designs/\(UUID().uuidString)")) == nil)
            #expect(shortcut(request("/api/designs/\(id.replacingOccurrences(of: "-", with: "g"))")) == nil)

            // Another user, an unknown token, a write: each goes the routed way and gets its answer.
            let foreign = try await client.execute(uri: "/api/designs/\(id)", method: .get, headers: .bearer(bob, json: false))
            #expect(foreign.status == .notFound)
            let forged = try await client.execute(uri: "/api/designs/\(id)", method: .get, headers: .bearer(alice + "x", json: false))
            #expect(forged.status == .unauthorized)
            let replaced = try await client.execute(
                uri: "/api/designs/\(id)", method: .put, headers: .bearer(alice),
                body: ByteBuffer(string: #"{"name":"Night walk v2","document":{"size":"S"}}"#))
            #expect(replaced.status == .ok)
            let fresh = try await client.execute(uri: "/api/designs/\(id)", method: .get, headers: .bearer(alice, json: false))
            #expect(try fresh.json()["name"] as? String == "Night walk v2", "a write must drop the held copy")
        }
    }

    @Test func rateLimitingTurnsTheShortcutOff() async throws {
        let limited = try await BackendApplication.make(
            try await BackendHarness(["ENABLE_RATE_LIMITING": "true"]).configuration(), logger: BackendHarness.quietLogger)
        #expect(limited.earlyAnswerers.count == 1)
        let unlimited = try await BackendApplication.make(
            try await BackendHarness(["ENABLE_RATE_LIMITING": "false"]).configuration(), logger: BackendHarness.quietLogger)
        #expect(unlimited.earlyAnswerers.count == 2)
    }

    @Test func httpDatesAreIMFFixdates() {
        #expect(HTTPDate.format(secondsSinceEpoch: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(secondsSinceEpoch: 1_795_934_566) == "Sun, 29 Nov 2026 06:42:46 GMT")
        #expect(HTTPDate.format(secondsSinceEpoch: 951_782_399) == "Mon, 28 Feb 2000 23:59:59 GMT")
    }
}
