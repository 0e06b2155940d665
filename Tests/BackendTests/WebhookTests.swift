import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

@testable import Backend

@Suite struct WebhookTests {
    static let order = #"{"id":820982911946154508,"total_price":"59.90","currency":"EUR","shop_domain":"harnesshe-ro.myshopify.com"}"#

    static func signature(_ body: String, secret: String = BackendHarness.webhookSecret) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Array(body.utf8), using: SymmetricKey(data: Array(secret.utf8)))).base64EncodedString()
    }

    static func headers(id: String, signature: String) -> HTTPFields {
        [
            .contentType: "application/json", .shopifyHmac: signature, .shopifyWebhookID: id,
            .shopifyShopDomain: "harnesshe-ro.myshopify.com",
        ]
    }

    @Test func badSignatureIsRefusedLoggedAndAudited() async throws {
        let harness = try await BackendHarness()
        try await harness.withApp { client, _ in
            for signature in [Self.signature(Self.order, secret: "wrong"), "", "%%%"] {
                let response = try await client.execute(
                    uri: "/webhooks/shopify/orders/create", method: .post, headers: Self.headers(id: "w1", signature: signature),
                    body: ByteBuffer(string: Self.order))
                #expect(response.status == .unauthorized)
            }
            let tampered = try await client.execute(
                uri: "/webhooks/shopify/orders/create", method: .post,
                headers: Self.headers(id: "w1", signature: Self.signature(Self.order)),
                body: ByteBuffer(string: Self.order.replacingOccurrences(of: "59.90", with: "0.01")))
            #expect(tampered.status == .unauthorized)
        }
        #expect(try await harness.query("SELECT outcome FROM webhook_logs") == ["rejected", "rejected", "rejected", "rejected"])
        #expect(try await harness.query("SELECT count(*) FROM audit_log WHERE action = 'webhook.signature_rejected'") == ["4"])
        #expect(try await harness.query("SELECT count(*) FROM processed_webhooks") == ["0"])
    }

    /// Through the queue: accepted once, acknowledged again on replay, processed once, and the
    /// order read back from the Shopify Admin API with the access token.
    /// A rejected request cannot make the service store more than a bounded amount.
    @Test func aRejectedWebhookStoresBoundedHeaders() async throws {
        let harness = try await BackendHarness()
        let huge = String(repeating: "x", count: 30_000)
        try await harness.withApp { client, _ in
            var headers = Self.headers(id: huge, signature: "unsigned")
            headers[.shopifyShopDomain] = huge
            let response = try await client.execute(
                uri: "/webhooks/shopify/orders/create", method: .post, headers: headers, body: ByteBuffer(string: Self.order))
            #expect(response.status == .unauthorized)
        }
        let lengths = try await harness.query("SELECT length(webhook_id) + length(shop_domain) FROM webhook_logs")
        #expect(lengths.compactMap { Int($0) }.allSatisfy { $0 <= 402 }, "\(lengths)")
        let actors = try await harness.query("SELECT length(actor) FROM audit_log")
        #expect(actors.compactMap { Int($0) }.allSatisfy { $0 <= 220 }, "\(actors)")
    }

    /// A signed order whose total cannot be stored is refused (422) before it is acknowledged,
    /// instead of acknowledged and then failing in the queue forever.
    @Test func anOrderWhoseTotalCannotBeStoredIsRefusedBeforeItIsAcknowledged() async throws {
        let harness = try await BackendHarness()
        try await harness.withApp { client, _ in
            for (index, total) in ["1e30", "inf", "0x1p3", "12345678901.00"].enumerated() {
                let body = Self.order.replacingOccurrences(of: "59.90", with: total)
                let response = try await client.execute(
                    uri: "/webhooks/shopify/orders/create", method: .post,
                    headers: Self.headers(id: "bad-total-\(index)", signature: Self.signature(body)), body: ByteBuffer(string: body))
                #expect(response.status == .unprocessableContent, "\(total): \(response.text)")
                #expect(response.text.contains("total_price"))
            }
        }
        #expect(try await harness.query("SELECT count(*) FROM processed_webhooks") == ["0"])
    }

    @Test func replayedWebhookIsAcknowledgedAndProcessedOnce() async throws {
        let shopify = try await StubServer(routes: [
            "/admin/api/2024-01/orders/820982911946154508.json": (
                .ok, #"{"order":{"id":820982911946154508,"total_price":"61.00","currency":"EUR"}}"#
            )
        ])
        let harness = try await BackendHarness([
            "ENABLE_QUEUE": "true", "SHOPIFY_ADMIN_API_ENDPOINT": shopify.url + "/admin/api/2024-01",
            "SHOPIFY_ADMIN_ACCESS_TOKEN": "shpat_test",
        ])
        try await harness.withApp { client, _ in
            for expected in ["accepted", "duplicate", "duplicate"] {
                let response = try await client.execute(
                    uri: "/webhooks/shopify/orders/create", method: .post,
                    headers: Self.headers(id: "webhook-42", signature: Self.signature(Self.order)),
                    body: ByteBuffer(string: Self.order))
                #expect(response.status == .ok)
                #expect(response.text == #"{"status":"\#(expected)"}"#)
            }
            var processed: [String] = []
            for _ in 0..<200 {
                processed = try await harness.query(
                    "SELECT processed_at IS NOT NULL FROM processed_webhooks WHERE webhook_id = 'webhook-42'")
                if processed == ["t"] { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(processed == ["t"])
        }
        #expect(try await harness.query("SELECT total_price FROM shopify_orders") == ["61.00"])
        #expect(try await harness.query("SELECT outcome FROM webhook_logs ORDER BY id") == ["accepted", "duplicate", "duplicate"])
        #expect(shopify.requests.map(\.headers["x-shopify-access-token"]) == ["shpat_test"])
    }

    @Test func withoutASecretWebhooksAreUnavailable() async throws {
        var harness = try await BackendHarness()
        harness.environment["SHOPIFY_WEBHOOK_SECRET"] = nil
        try await harness.withApp { client, _ in
            let response = try await client.execute(uri: "/webhooks/shopify/orders/create", method: .post, body: ByteBuffer(string: "{}"))
            #expect(response.status == .serviceUnavailable)
        }
    }

    @Test func analyticsBatchesGoThroughTheQueueIntoTheMonthlyPartition() async throws {
        let harness = try await BackendHarness(["ENABLE_QUEUE": "true"])
        try await harness.withApp { client, _ in
            let response = try await client.execute(
                uri: "/api/analytics/events", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(
                    string:
                        #"{"events":[{"name":"design.saved","properties":{"size":"M"}},{"name":"page.view","occurredAt":"2026-01-02T03:04:05Z"}]}"#
                ))
            #expect(response.status == .accepted)
            var count = ["0"]
            for _ in 0..<200 {
                count = try await harness.query("SELECT count(*) FROM analytics_events")
                if count == ["2"] { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(count == ["2"])
            let bad = try await client.execute(
                uri: "/api/analytics/events", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"events":[{"name":"bad name!"}]}"#))
            #expect(bad.status == .badRequest)
        }
        let partition = "analytics_events_" + Partitions.suffix(Date())
        #expect(try await harness.query("SELECT count(*) FROM \(partition)") == ["2"])
    }
}
