import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Backend

@Suite struct DesignAPITests {
    let harness: BackendHarness

    init() async throws {
        harness = try await BackendHarness()
    }

    private func create(_ client: any TestClientProtocol, token: String, name: String, notes: String? = nil) async throws -> [String: Any] {
        var body: [String: Any] = ["name": name, "document": ["size": "M", "color": "teal"]]
        if let notes { body["privateNotes"] = notes }
        let response = try await client.execute(
            uri: "/api/designs", method: .post, headers: .bearer(token),
            body: ByteBuffer(data: try JSONSerialization.data(withJSONObject: body)))
        #expect(response.status == .created, "\(response.text)")
        return try response.json()
    }

    @Test func createGetReplaceDeleteForTheOwnerOnly() async throws {
        let alice = try await BackendHarness.accessToken(for: "alice")
        let bob = try await BackendHarness.accessToken(for: "bob")
        try await harness.withApp { client, _ in
            let created = try await create(client, token: alice, name: "  Trail runner ", notes: "engrave: Rex, 555-0100")
            let id = try #require(created["id"] as? String)
            #expect(created["name"] as? String == "Trail runner")
            #expect(created["privateNotes"] as? String == "engrave: Rex, 555-0100")

            let fetched = try await client.execute(uri: "/api/designs/\(id)", method: .get, headers: .bearer(alice, json: false))
            #expect(fetched.status == .ok)
            #expect(try fetched.json()["document"] as? [String: String] == ["size": "M", "color": "teal"])

            let foreign = try await client.execute(uri: "/api/designs/\(id)", method: .get, headers: .bearer(bob, json: false))
            #expect(foreign.status == .notFound)
            let foreignDelete = try await client.execute(uri: "/api/designs/\(id)", method: .delete, headers: .bearer(bob, json: false))
            #expect(foreignDelete.status == .notFound)

            let replaced = try await client.execute(
                uri: "/api/designs/\(id)", method: .put, headers: .bearer(alice),
                body: ByteBuffer(string: #"{"name":"Trail runner v2","document":{"size":"L"}}"#))
            #expect(replaced.status == .ok)
            let again = try await client.execute(uri: "/api/designs/\(id)", method: .get, headers: .bearer(alice, json: false))
            #expect(try again.json()["name"] as? String == "Trail runner v2", "the cache must be invalidated by the write")

            let deleted = try await client.execute(uri: "/api/designs/\(id)", method: .delete, headers: .bearer(alice, json: false))
            #expect(deleted.status == .noContent)
            let gone = try await client.execute(uri: "/api/designs/\(id)", method: .get, headers: .bearer(alice, json: false))
            #expect(gone.status == .notFound)
        }
        let actions = try await harness.query("SELECT action FROM audit_log WHERE actor = 'alice' ORDER BY id")
        #expect(actions == ["design.private_notes.write", "design.delete"])
    }

    @Test func theServiceWorksOverPostgreSQLsUnixSocket() async throws {
        var socketHarness = harness
        socketHarness.environment["DATABASE_URL"] =
            "postgresql://postgres@/\(harness.database)?host=\(harness.postgres.directory)&port=\(harness.postgres.port)&sslmode=disable"
        #expect(try socketHarness.configuration().database.socketFolder == harness.postgres.directory)
        let alice = try await BackendHarness.accessToken(for: "alice")
        try await socketHarness.withApp { client, _ in
            _ = try await create(client, token: alice, name: "over the socket")
            let list = try await client.execute(uri: "/api/designs", method: .get, headers: .bearer(alice, json: false))
            let items = try #require(try list.json()["items"] as? [[String: Any]])
            #expect(items.map { $0["name"] as? String } == ["over the socket"])
        }
    }

    @Test func privateNotesAreEncryptedAtRestWithTheirKeyID() async throws {
        let alice = try await BackendHarness.accessToken(for: "alice")
        try await harness.withApp { client, _ in
            _ = try await create(client, token: alice, name: "Secret", notes: "gate code 4242")
        }
        let stored = try #require(try await harness.query("SELECT private_notes FROM saved_designs").first)
        #expect(stored.hasPrefix("v1.\(FieldCipher.keyID(Sensitive(BackendHarness.encryptionKey))).") == true)
        #expect(!stored.contains("4242"))
    }

    @Test func rotatedKeyStillReadsOldValues() throws {
        let old = FieldCipher(currentKey: Sensitive(BackendHarness.encryptionKey))
        let sealed = try old.seal("old secret")
        let rotated = FieldCipher(
            currentKey: Sensitive("ffffffffffffffffffffffffffffffff"), previousKeys: [Sensitive(BackendHarness.encryptionKey)])
        #expect(try rotated.open(sealed) == "old secret")
        #expect(try rotated.seal("new").hasPrefix("v1.\(rotated.currentKeyID)."))
        let withoutOld = FieldCipher(currentKey: Sensitive("ffffffffffffffffffffffffffffffff"))
        #expect(throws: FieldCipher.Failure.unknownKey(old.currentKeyID)) { try withoutOld.open(sealed) }
        let tampered = String(sealed.dropLast(4)) + "AAAA"
        #expect(throws: FieldCipher.Failure.self) { try old.open(tampered) }
    }

    @Test func cursorPaginationWalksEveryDesignOnce() async throws {
        let alice = try await BackendHarness.accessToken(for: "alice")
        let bob = try await BackendHarness.accessToken(for: "bob")
        try await harness.withApp { client, _ in
            for index in 0..<7 { _ = try await create(client, token: alice, name: "Design \(index)") }
            _ = try await create(client, token: bob, name: "Bob's")
            var seen: [String] = []
            var cursor: String?
            repeat {
                let query = cursor.map { "&cursor=\($0)" } ?? ""
                let page = try await client.execute(uri: "/api/designs?limit=3\(query)", method: .get, headers: .bearer(alice, json: false))
                #expect(page.status == .ok)
                let json = try page.json()
                seen += (json["items"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                cursor = json["nextCursor"] as? String
            } while cursor != nil
            #expect(seen == (0..<7).reversed().map { "Design \($0)" })

            let first = try await client.execute(uri: "/api/designs?limit=3", method: .get, headers: .bearer(alice, json: false))
            let aliceCursor = try #require(try first.json()["nextCursor"] as? String)
            let stolen = try await client.execute(
                uri: "/api/designs?cursor=\(aliceCursor)", method: .get, headers: .bearer(bob, json: false))
            #expect(stolen.status == .badRequest)
            let forged = try await client.execute(
                uri: "/api/designs?cursor=eyJpZCI6MX0.AAAA", method: .get, headers: .bearer(alice, json: false))
            #expect(forged.status == .badRequest)
        }
    }

    @Test func secondReadComesFromTheCache() async throws {
        let alice = try await BackendHarness.accessToken(for: "alice")
        try await harness.withApp { client, backend in
            let id = try #require(try await create(client, token: alice, name: "Cached")["id"] as? String)
            for _ in 0..<3 {
                let response = try await client.execute(uri: "/api/designs/\(id)", method: .get, headers: .bearer(alice, json: false))
                #expect(response.status == .ok)
            }
            let metrics = String(decoding: backend.metrics.render(), as: UTF8.self)
            #expect(metrics.contains("cache_misses_total 1"))
            #expect(metrics.contains("cache_hits_total 2"))
            #expect(metrics.contains(#"designs_api_operations_total{operation="get"} 3"#))
        }
    }

    @Test(arguments: [
        ("not json", "the request body is not valid JSON"),
        (#"{"name":"x","document":{},"colour":"red"}"#, "unknown field `colour`; allowed: document, name, privateNotes"),
        (#"{"name":5,"document":{}}"#, "`name` must be a string"),
        (#"{"document":{}}"#, "the field `name` is required"),
        (#"{"name":"x","document":[1,2]}"#, "`document` must be a JSON object"),
        (#"[1]"#, "the request body must be a JSON object"),
        (#"{"name":"","document":{}}"#, "`name` must be 1 to 200 characters (Unicode code points)"),
        (#"{"name":"x","document":{},}"#, "the request body is not valid JSON (a trailing comma)"),
        (#"{"name":"x","document":{"a":[1, ]}}"#, "the request body is not valid JSON (a trailing comma)"),
        // 200 letters with a combining accent: 200 characters to Swift, 400 code points to
        // PostgreSQL's CHECK (char_length(name) <= 200), which answered 500.
        (
            #"{"name":""# + String(repeating: "e\u{301}", count: 200) + #"","document":{}}"#,
            "`name` must be 1 to 200 characters (Unicode code points)"
        ),
        (
            #"{"name":""# + String(repeating: "👨\u{200D}👩\u{200D}👧\u{200D}👦", count: 30) + #"","document":{}}"#,
            "`name` must be 1 to 200 characters (Unicode code points)"
        ),
        (
            #"{"name":""# + String(repeating: "🇫🇷", count: 101) + #"","document":{}}"#,
            "`name` must be 1 to 200 characters (Unicode code points)"
        ),
    ])
    func badBodiesGetA400ThatSaysWhy(body: String, message: String) async throws {
        let alice = try await BackendHarness.accessToken(for: "alice")
        try await harness.withApp { client, _ in
            let response = try await client.execute(
                uri: "/api/designs", method: .post, headers: .bearer(alice), body: ByteBuffer(string: body))
            #expect(response.status == .badRequest)
            let error = try response.json()["error"] as? [String: Any]
            #expect(error?["message"] as? String == message)
            #expect(error?["code"] as? String == "invalid_request")
            #expect((error?["requestId"] as? String)?.isEmpty == false)
        }
    }

    @Test func invalidUTF8HugeBodiesAndBadIDs() async throws {
        let alice = try await BackendHarness.accessToken(for: "alice")
        try await harness.withApp { client, _ in
            let invalid = try await client.execute(
                uri: "/api/designs", method: .post, headers: .bearer(alice), body: ByteBuffer(bytes: [0x7B, 0xFF, 0xFE, 0x7D]))
            #expect(invalid.status == .badRequest)
            #expect(invalid.text.contains("not valid UTF-8"))
            let huge = try await client.execute(
                uri: "/api/designs", method: .post, headers: .bearer(alice),
                body: ByteBuffer(string: #"{"name":"x","document":{"blob":""# + String(repeating: "a", count: 2_000_000) + "\"}}"))
            #expect(huge.status == .contentTooLarge)
            let badID = try await client.execute(uri: "/api/designs/not-a-uuid", method: .get, headers: .bearer(alice, json: false))
            #expect(badID.status == .badRequest)
            let limit = try await client.execute(uri: "/api/designs?limit=1000", method: .get, headers: .bearer(alice, json: false))
            #expect(limit.status == .badRequest)
        }
    }

    @Test func requestIDIsHonouredOrGenerated() async throws {
        try await harness.withApp { client, _ in
            let given = try await client.execute(uri: "/api/designs", method: .get, headers: [.requestID: "abc-123"])
            #expect(given.status == .unauthorized)
            #expect(given.headers[.requestID] == "abc-123")
            #expect((try given.json()["error"] as? [String: Any])?["requestId"] as? String == "abc-123")
            let hostile = try await client.execute(uri: "/api/designs", method: .get, headers: [.requestID: "bad id\u{7F}"])
            #expect(hostile.headers[.requestID] != "bad id\u{7F}")
            let generated = try #require(hostile.headers[.requestID])
            #expect(generated.range(of: "^[0-9a-f]+-[0-9a-f]+$", options: .regularExpression) != nil, "\(generated)")
            let next = try await client.execute(uri: "/api/designs", method: .get)
            #expect(next.headers[.requestID] != generated, "every request gets its own id")
        }
    }

    @Test func corsAndSecurityHeaders() async throws {
        try await harness.withApp { client, _ in
            let preflight = try await client.execute(
                uri: "/api/designs", method: .options, headers: [.origin: "https://harnesshe.ro", .accessControlRequestMethod: "POST"])
            #expect(preflight.status == .noContent)
            #expect(preflight.headers[.accessControlAllowOrigin] == "https://harnesshe.ro")
            let denied = try await client.execute(
                uri: "/api/designs", method: .options, headers: [.origin: "https://evil.example", .accessControlRequestMethod: "POST"])
            #expect(denied.status == .forbidden)
            #expect(denied.headers[.accessControlAllowOrigin] == nil)
            let plain = try await client.execute(uri: "/healthz/detailed", method: .get, headers: [.origin: "https://evil.example"])
            #expect(plain.headers[.accessControlAllowOrigin] == nil)
            #expect(plain.headers[.xContentTypeOptions] == "nosniff")
            #expect(plain.headers[.xFrameOptions] == "DENY")
        }
    }

    /// Every error carries the security headers and, for an allowed origin, the CORS headers (a
    /// browser cannot read an error without them); an unknown route has the JSON error shape.
    @Test func errorsCarryTheSecurityAndCORSHeaders() async throws {
        let alice = try await BackendHarness.accessToken(for: "alice")
        let origin = "https://harnesshe.ro"
        try await harness.withApp(on: .live) { client, _ in
            let requests: [(String, HTTPRequest.Method, HTTPFields, ByteBuffer?, HTTPResponse.Status)] = [
                (
                    "/api/designs", .post, [.authorization: "Bearer \(alice)", .contentType: "application/json"], ByteBuffer(string: "{"),
                    .badRequest
                ),
                ("/api/designs", .get, [.authorization: "Bearer not.a.jwt"], nil, .unauthorized),
                ("/api/designs", .options, [.accessControlRequestMethod: "POST"], nil, .noContent),
                ("/no/such/route", .get, [:], nil, .notFound),
                (
                    "/api/designs", .post, [.authorization: "Bearer \(alice)", .contentType: "application/json"],
                    ByteBuffer(string: #"{"name":"x","document":{"blob":""# + String(repeating: "a", count: 2_000_000) + "\"}}"),
                    .contentTooLarge
                ),
                ("/healthz", .get, [:], nil, .ok),
            ]
            for (path, method, headers, body, status) in requests {
                var fields = headers
                fields[.origin] = origin
                let response = try await client.execute(uri: path, method: method, headers: fields, body: body)
                #expect(response.status == status, "\(method) \(path)")
                #expect(response.headers[.xContentTypeOptions] == "nosniff", "\(method) \(path): \(response.headers)")
                #expect(response.headers[.xFrameOptions] == "DENY", "\(method) \(path)")
                #expect(response.headers[.contentSecurityPolicy] != nil, "\(method) \(path)")
                #expect(response.headers[.referrerPolicy] == "no-referrer", "\(method) \(path)")
                if path != "/healthz" {
                    #expect(response.headers[.accessControlAllowOrigin] == origin, "\(method) \(path): \(response.headers)")
                }
            }
            let denied = try await client.execute(
                uri: "/api/designs", method: .options, headers: [.origin: "https://evil.example", .accessControlRequestMethod: "POST"])
            #expect(denied.status == .forbidden)
            #expect(denied.headers[.xContentTypeOptions] == "nosniff")
            let unknown = try await client.execute(uri: "/no/such/route", method: .get)
            let error = try unknown.json()["error"] as? [String: Any]
            #expect(error?["code"] as? String == "not_found", "\(unknown.text)")
            #expect((error?["requestId"] as? String)?.isEmpty == false)
        }
    }
}

/// Found by the schemathesis fuzz pass: PostgreSQL cannot store NUL in text or jsonb.
@Suite struct NULCharacterTests {
    @Test func nulInADocumentIsA400NotA500() async throws {
        let harness = try await BackendHarness()
        let alice = try await BackendHarness.accessToken(for: "alice")
        try await harness.withApp { client, _ in
            for body in [
                #"{"name":"x","document":{"a\u0000":1}}"#, #"{"name":"x\u0000","document":{}}"#,
                #"{"name":"x","document":{"a":["\u0000"]}}"#,
            ] {
                let response = try await client.execute(
                    uri: "/api/designs", method: .post, headers: .bearer(alice), body: ByteBuffer(string: body))
                #expect(response.status == .badRequest, "\(body): \(response.text)")
            }
        }
    }
}
