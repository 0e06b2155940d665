import AsyncHTTPClient
import Foundation
import Logging
import PostgresNIO

/// What each kind of queued job does. Handlers are idempotent: a job retried after a crash
/// (XAUTOCLAIM) has the same effect as one run once.
struct JobHandlers: Sendable {
    static let webhookKind = "shopify.webhook"
    static let analyticsKind = "analytics.batch"

    let pools: DatabasePools
    let analytics: AnalyticsStore
    let shopify: ShopifyAdminClient?
    let logger: Logger

    struct UnknownJob: Error {
        var kind: String
    }

    func run(kind: String, payload: String) async throws {
        switch kind {
        case Self.webhookKind:
            try await processWebhook(id: payload)
        case Self.analyticsKind:
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            try await analytics.insert(try decoder.decode(AnalyticsBatch.self, from: Data(payload.utf8)))
        default:
            throw UnknownJob(kind: kind)
        }
    }

    /// Applies a stored webhook: order topics upsert the order; every topic is marked processed.
    func processWebhook(id: String) async throws {
        let stored: (String, String)? = try await pools.write { connection in
            let rows = try await connection.query(
                "SELECT topic, payload::text FROM processed_webhooks WHERE webhook_id = \(id)", logger: logger)
            for try await row in rows.decode((String, String).self) { return row }
            return nil
        }
        guard let (topic, payload) = stored else { return }
        if topic.hasPrefix("orders/") {
            var order = (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any] ?? [:]
            if let shopify, let orderID = Self.int64(order["id"]), let fetched = try await shopify.order(id: orderID) {
                order = fetched
            }
            if let orderID = Self.int64(order["id"]) {
                let total = ShopifyOrder.storableTotal(order["total_price"])
                let currency = order["currency"] as? String
                let shop = order["shop_domain"] as? String
                let json = String(decoding: try JSONSerialization.data(withJSONObject: order), as: UTF8.self)
                try await pools.write { connection in
                    try await connection.query(
                        """
                        INSERT INTO shopify_orders (order_id, shop_domain, total_price, currency, payload)
                        VALUES (\(orderID), \(shop), \(total)::numeric, \(currency), \(json)::jsonb)
                        ON CONFLICT (order_id) DO UPDATE SET total_price = excluded.total_price, currency = excluded.currency,
                            payload = excluded.payload
                        """, logger: logger)
                }
            }
        }
        try await pools.write { connection in
            try await connection.query("UPDATE processed_webhooks SET processed_at = now() WHERE webhook_id = \(id)", logger: logger)
        }
    }

    static func int64(_ value: Any?) -> Int64? {
        switch value {
        case let number as NSNumber: return number.int64Value
        case let text as String: return Int64(text)
        default: return nil
        }
    }
}

/// Reads orders from the Shopify Admin API with SHOPIFY_ADMIN_ACCESS_TOKEN, so that processing
/// works from Shopify's current record rather than a possibly stale webhook body.
struct ShopifyAdminClient: Sendable {
    let endpoint: String
    let token: Sensitive
    let httpClient: HTTPClient

    func order(id: Int64) async throws -> [String: Any]? {
        var request = HTTPClientRequest(url: "\(endpoint)/orders/\(id).json")
        request.headers.add(name: "X-Shopify-Access-Token", value: token.revealed)
        request.headers.add(name: "Accept", value: "application/json")
        let response = try await httpClient.execute(request, timeout: .seconds(10))
        guard response.status == .ok else { return nil }
        let body = try await response.body.collect(upTo: 4 << 20)
        let object = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
        return object?["order"] as? [String: Any]
    }
}
