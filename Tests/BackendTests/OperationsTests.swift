import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

@testable import Backend

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite struct OperationsTests {
    /// An unhandled error reaches Sentry's envelope endpoint with the request id and user id,
    /// and nothing secret.
    @Test func unhandledErrorsAreReportedToSentry() async throws {
        let sentry = try await StubServer(routes: ["/api/42/envelope/": (.ok, "{}")])
        let harness = try await BackendHarness(["SENTRY_DSN": "http://public123@127.0.0.1:\(sentry.port)/42"])
        let token = try await BackendHarness.accessToken(for: "alice")
        let requestID = try await harness.withApp(migrate: false) { client, _ in
            let response = try await client.execute(uri: "/api/designs?limit=5", method: .get, headers: .bearer(token, json: false))
            #expect(response.status == .internalServerError)
            return response.headers[.requestID] ?? ""
        }
        var envelope: StubServer.Received?
        for _ in 0..<100 where envelope == nil {
            envelope = sentry.requests.first
            if envelope == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        let received = try #require(envelope)
        #expect(received.headers["x-sentry-auth"]?.contains("sentry_key=public123") == true)
        let lines = received.body.split(separator: "\n")
        #expect(lines.count == 3)
        let event = try #require(try JSONSerialization.jsonObject(with: Data(lines[2].utf8)) as? [String: Any])
        #expect((event["tags"] as? [String: String])?["request_id"] == requestID)
        #expect((event["user"] as? [String: String])?["id"] == "alice")
        #expect((event["request"] as? [String: String])?["url"] == "/api/designs")
        for secret in [token, BackendHarness.jwtSecret, BackendHarness.encryptionKey, "limit=5"] {
            #expect(!received.body.contains(secret))
        }
    }

    /// The built pet-backend serving on a free port with the harness's settings (migrated).
    private func serveBinary(_ harness: BackendHarness, logLevel: String? = nil, output: String? = nil) async throws
        -> (process: CleanProcess, port: Int)
    {
        try await harness.migrateDatabase()
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("pet-backend").path
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build pet-backend first (swift build)")
        let port = LocalProcess.freePort()
        var environment = harness.environment
        environment["PORT"] = String(port)
        environment["HOST"] = "127.0.0.1"
        if let logLevel { environment["LOG_LEVEL"] = logLevel }
        let log = output ?? "/dev/null"
        let process = try CleanProcess(binary, arguments: ["serve"], environment: environment, output: log)
        #expect(
            await LocalProcess.portOpens(port), "pet-backend did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        return (process, port)
    }

    /// With METRICS_PORT the scrape has a listener of its own: the public port answers
    /// /metrics with the JSON 404 of any unknown route, the metrics port serves nothing else,
    /// and SIGTERM still stops both.
    @Test func metricsPortServesMetricsAndThePublicPortDoesNot() async throws {
        var harness = try await BackendHarness()
        let metricsPort = LocalProcess.freePort()
        harness.environment["METRICS_PORT"] = String(metricsPort)
        let (process, port) = try await serveBinary(harness)
        #expect(await LocalProcess.portOpens(metricsPort))
        let (publicBody, publicAnswer) = try await URLSession.shared.data(
            from: try #require(URL(string: "http://127.0.0.1:\(port)/metrics")))
        #expect((publicAnswer as? HTTPURLResponse)?.statusCode == 404)
        #expect(String(decoding: publicBody, as: UTF8.self).contains("\"error\""))
        let (metrics, metricsAnswer) = try await URLSession.shared.data(
            from: try #require(URL(string: "http://127.0.0.1:\(metricsPort)/metrics")))
        #expect((metricsAnswer as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: metrics, as: UTF8.self).contains("# TYPE "))
        let (_, other) = try await URLSession.shared.data(
            from: try #require(URL(string: "http://127.0.0.1:\(metricsPort)/healthz/detailed")))
        #expect((other as? HTTPURLResponse)?.statusCode == 404)
        process.signal(SIGTERM)
        #expect(await process.waitForExit(timeout: .seconds(15)) == 0)
        #expect(!LocalProcess.accepts(metricsPort))
    }

    /// The real binary: serves, and on SIGTERM stops accepting, drains and exits 0.
    @Test func sigtermDrainsAndExitsZero() async throws {
        let harness = try await BackendHarness()
        let log = NSTemporaryDirectory() + "pet-backend-\(UUID().uuidString).log"
        let (process, port) = try await serveBinary(harness, logLevel: "info", output: log)
        let (data, response) = try await URLSession.shared.data(
            from: try #require(URL(string: "http://127.0.0.1:\(port)/healthz/detailed")))
        #expect((response as? HTTPURLResponse)?.statusCode == 200, "\(String(decoding: data, as: UTF8.self))")
        process.signal(SIGTERM)
        #expect(await process.waitForExit(timeout: .seconds(15)) == 0)
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let lines = output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(lines.contains { $0["msg"] as? String == "starting" }, "logs are JSON lines")
        #expect(lines.contains { ($0["request_id"] as? String)?.isEmpty == false && $0["path"] as? String == "/healthz/detailed" })
        for secret in [BackendHarness.jwtSecret, BackendHarness.encryptionKey, BackendHarness.webhookSecret] {
            #expect(!output.contains(secret))
        }
    }

    /// SIGTERM with a request in flight (a webhook whose body is still arriving): the listener
    /// closes at once, the request still gets its answer, then the process exits 0.
    @Test func sigtermLetsARequestInFlightFinish() async throws {
        let harness = try await BackendHarness()
        let (process, port) = try await serveBinary(harness)
        let connection = try RawHTTP(port: port)
        // The connection is served (its first request answered) before the slow one starts.
        connection.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(connection.receive { $0.contains("{\"status\":\"ok\"}") }.hasPrefix("HTTP/1.1 200"))
        let body = #"{"id":820982911946154508,"email":"jon@example.com"}"#
        let half = body.index(body.startIndex, offsetBy: body.count / 2)
        connection.send(
            "POST /webhooks/shopify/orders/create HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                + "X-Shopify-Hmac-Sha256: bm90LWEtc2lnbmF0dXJl\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body[..<half])
        // Nothing the server sends says it has read the head; give its event loop a moment to.
        try await Task.sleep(for: .milliseconds(200))
        process.signal(SIGTERM)
        // The listener closes first: new connections are refused while the request is open.
        let deadline = ContinuousClock.now + .seconds(10)
        while LocalProcess.accepts(port), ContinuousClock.now < deadline { await Task.yield() }
        #expect(!LocalProcess.accepts(port), "still accepting connections after SIGTERM")
        connection.send(String(body[half...]))
        let answer = connection.receive { $0.contains("\r\n\r\n") && $0.hasSuffix("}") }
        // An unsigned webhook is refused; what matters is that it was answered at all.
        #expect(answer.hasPrefix("HTTP/1.1 401"), "\(answer)")
        #expect(await process.waitForExit(timeout: .seconds(15)) == 0)
    }

    /// `/healthz` is answered in the channel pipeline; a pipelined request before it must still
    /// be answered first, and keep-alive must survive.
    @Test func livenessInThePipelineKeepsPipelinedOrder() async throws {
        let harness = try await BackendHarness()
        let (process, port) = try await serveBinary(harness)
        let request =
            "GET /api/designs HTTP/1.1\r\nHost: t\r\n\r\nGET /healthz HTTP/1.1\r\nHost: t\r\n\r\nGET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
        let answer = try RawHTTP.exchange(port: port, send: request, until: { $0.components(separatedBy: "HTTP/1.1 ").count - 1 == 3 })
        let statuses = answer.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix(3)) }
        #expect(statuses == ["401", "200", "200"], "\(answer)")
        #expect(answer.hasSuffix("{\"status\":\"ok\"}"))
        process.signal(SIGTERM)
        #expect(await process.waitForExit(timeout: .seconds(15)) == 0)
    }

    /// Keep-alive connections close after HTTP_IDLE_TIMEOUT_SECONDS without a request, whether
    /// their requests were answered in the pipeline or routed, but never while a request is read.
    @Test func idleConnectionsAreClosedBusyOnesAreNot() async throws {
        let harness = try await BackendHarness(["HTTP_IDLE_TIMEOUT_SECONDS": "1", "ENABLE_RATE_LIMITING": "false"])
        try await harness.withApp(on: .live) { client, _ in
            let port = try #require(client.port)
            try await Self.idleTimeouts(port: port)
        }
    }

    private struct IdleObservations: Sendable {
        var silentConnectionClosed = false
        var probeAnswers: [String] = []
        var slowBodyAnswer = ""
        var closedAfterLastRequest = false
        var http10Closed = false
    }

    private static func idleTimeouts(port: Int) async throws {
        let seen = try await RawHTTP.onOwnThread {
            var seen = IdleObservations()
            let silent = try RawHTTP(port: port)
            seen.silentConnectionClosed = silent.closesWithin(.seconds(3))

            // Probes every 300 ms for 2.4 s: answered in the pipeline, and the connection stays.
            let probing = try RawHTTP(port: port)
            for _ in 0..<8 {
                probing.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                seen.probeAnswers.append(probing.receive(timeout: .seconds(2)) { $0.hasSuffix("{\"status\":\"ok\"}") })
                Thread.sleep(forTimeInterval: 0.3)
            }
            // A request whose body is slow to come is not cut off; routed, it is answered (401: no token).
            probing.send("POST /api/designs HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n")
            Thread.sleep(forTimeInterval: 1.8)
            probing.send("{}")
            seen.slowBodyAnswer = probing.receive(timeout: .seconds(3)) { $0.contains("\r\n\r\n{") && $0.hasSuffix("}") }
            seen.closedAfterLastRequest = probing.closesWithin(.seconds(3))

            // An HTTP/1.0 client waiting for the end of the connection gets it.
            let old = try RawHTTP(port: port)
            old.send("GET /healthz HTTP/1.0\r\n\r\n")
            seen.http10Closed = old.closesWithin(.seconds(3))
            return seen
        }
        #expect(seen.silentConnectionClosed, "an idle connection stayed open")
        #expect(seen.probeAnswers.count == 8 && seen.probeAnswers.allSatisfy { $0.hasPrefix("HTTP/1.1 200") }, "\(seen.probeAnswers)")
        #expect(seen.slowBodyAnswer.hasPrefix("HTTP/1.1 401"), "\(seen.slowBodyAnswer)")
        #expect(seen.closedAfterLastRequest, "the connection stayed open after its last request")
        #expect(seen.http10Closed)
    }

    /// HTTP/1.0 without keep-alive ends with the connection (RFC 9112 §9.3), whether answered in
    /// the pipeline or routed; with keep-alive, and in HTTP/1.1, the connection stays. The idle
    /// timeout is far off, so only that rule can close it.
    @Test func http10ConnectionsCloseAfterTheirResponseUnlessKeptAlive() async throws {
        let harness = try await BackendHarness(["HTTP_IDLE_TIMEOUT_SECONDS": "60", "ENABLE_RATE_LIMITING": "false"])
        try await harness.withApp(on: .live) { client, _ in
            let port = try #require(client.port)
            for (request, status) in [("GET /healthz HTTP/1.0\r\n\r\n", "200"), ("GET /api/designs HTTP/1.0\r\n\r\n", "401")] {
                let old = try RawHTTP(port: port)
                old.send(request)
                let response = old.receive(timeout: .seconds(3)) { _ in false }
                #expect(response.hasPrefix("HTTP/1.1 \(status)") && response.hasSuffix("}"), "\(request): \(response)")
                #expect(old.closesWithin(.milliseconds(100)), "\(request): the connection stayed open")
            }
            for request in ["GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"] {
                let kept = try RawHTTP(port: port)
                for _ in 0..<2 {
                    kept.send(request)
                    #expect(kept.receive(timeout: .seconds(3)) { $0.hasSuffix("{\"status\":\"ok\"}") }.hasPrefix("HTTP/1.1 200"))
                }
                #expect(!kept.closesWithin(.seconds(1)), "\(request): closed although kept alive")
            }
        }
    }

    @Test func badEnvironmentListsEveryProblemAndExits78() async throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("pet-backend").path
        let log = NSTemporaryDirectory() + "pet-backend-config-\(UUID().uuidString).log"
        let process = try CleanProcess(
            binary, arguments: ["serve"], environment: ["ENCRYPTION_KEY": "too-short-key", "JWT_SECRET": "tiny"], output: log)
        #expect(await process.waitForExit(timeout: .seconds(10)) == 78)
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(output.contains("DATABASE_URL is required"))
        #expect(output.contains("ENCRYPTION_KEY must be exactly 32 characters (it has 13)"))
        #expect(!output.contains("too-short-key") && !output.contains("tiny"))
    }

    /// Every operation in the OpenAPI document exists on the router (a router miss is a plain
    /// 404, a handler's own 404 says `not_found`).
    @Test func everyDocumentedOperationIsRouted() async throws {
        let harness = try await BackendHarness()
        let operations = Self.operations(in: OpenAPIDocument.yaml)
        #expect(operations.count == 14)
        try await harness.withApp { client, _ in
            for (method, path) in operations {
                let concrete = path.replacingOccurrences(of: "{id}", with: UUID().uuidString).replacingOccurrences(
                    of: "{topic}", with: "orders/create")
                let response = try await client.execute(uri: concrete, method: HTTPRequest.Method(rawValue: method.uppercased()) ?? .get)
                let unrouted = response.status == .notFound && !response.text.contains("\"not_found\"")
                #expect(!unrouted, "\(method.uppercased()) \(path) is documented but not routed")
            }
            let served = try await client.execute(uri: "/openapi.yaml", method: .get)
            #expect(served.text == OpenAPIDocument.yaml)
        }
    }

    static func operations(in document: String) -> [(String, String)] {
        var current: String?
        var found: [(String, String)] = []
        for line in document.split(separator: "\n") {
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                current = String(line.dropFirst(2).dropLast())
            } else if let path = current, let method = ["get", "post", "put", "delete"].first(where: { line == "    \($0):" }) {
                found.append((method, path))
            } else if !line.hasPrefix(" ") {
                current = nil
            }
        }
        return found
    }
}

/// A plain TCP exchange, for what an HTTP client library would hide (pipelining).
