import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// `POST /webhooks/shopify/<topic>`: verified with HMAC-SHA256 of the raw body, deduplicated by
/// webhook id (acknowledged every time, processed once), logged, and processed through the queue.
struct ShopifyWebhookRoutes: Sendable {
    let secret: Sensitive?
    let pools: DatabasePools
    let queue: JobQueue?
    let handlers: JobHandlers
    let audit: AuditLog
    let logger: Logger
    let maxBodyBytes: Int

    func register(on router: RouterGroup<AppRequestContext>) {
        router.post("webhooks/shopify/**", use: receive)
    }

    @Sendable func receive(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let secret else {
            throw APIError(.serviceUnavailable, code: "webhooks_not_configured", "SHOPIFY_WEBHOOK_SECRET is not set on this service")
        }
        // What a request can make us store is bounded before anything is stored: a rejected
        // request's headers could otherwise put 30 kB each into the logs.
        let topic = Self.bounded(context.parameters.getCatchAll().joined(separator: "/"))
        let body = try await JSONBody.data(request, limit: maxBodyBytes)
        let shop = request.headers[.shopifyShopDomain].map(Self.bounded)
        guard let signature = request.headers[.shopifyHmac], MessageSignature.isValid(base64: signature, for: body, secret: secret) else {
            await log(webhookID: Self.bounded(request.headers[.shopifyWebhookID] ?? "-"), topic: topic, shop: shop, outcome: "rejected")
            await audit.record(
                actor: "shopify:\(shop ?? "unknown")", action: "webhook.signature_rejected", subject: topic, requestID: context.requestID)
            throw APIError(.unauthorized, code: "invalid_signature", "the X-Shopify-Hmac-Sha256 header does not match the body")
        }
        guard let webhookID = request.headers[.shopifyWebhookID], !webhookID.isEmpty, webhookID.count <= 200 else {
            throw APIError.badRequest("the X-Shopify-Webhook-Id header is required")
        }
        guard let document = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            throw APIError.badRequest("the webhook body is not a JSON object")
        }
        // Checked before acknowledging: an order whose total cannot be stored would be
        // acknowledged and then fail in the queue forever.
        if topic.hasPrefix("orders/"), let problem = ShopifyOrder.problem(in: document) {
            await log(webhookID: webhookID, topic: topic, shop: shop, outcome: "invalid")
            throw APIError(.unprocessableContent, code: "invalid_webhook_payload", problem)
        }
        let payload = String(decoding: body, as: UTF8.self)
        if payload.contains("\\u0000") {
            throw APIError.badRequest("the webhook body contains a NUL character (\\u0000), which cannot be stored")
        }
        let isNew = try await pools.write { connection in
            let rows = try await connection.query(
                """
                INSERT INTO processed_webhooks (webhook_id, topic, payload) VALUES (\(webhookID), \(topic), \(payload)::jsonb)
                ON CONFLICT (webhook_id) DO NOTHING RETURNING webhook_id
                """, logger: logger)
            for try await _ in rows.decode(String.self) { return true }
            return false
        }
        guard isNew else {
            await log(webhookID: webhookID, topic: topic, shop: shop, outcome: "duplicate")
            return Self.acknowledgement("duplicate")
        }
        if let queue {
            _ = try await queue.enqueue(kind: JobHandlers.webhookKind, payload: webhookID)
        } else {
            try await handlers.processWebhook(id: webhookID)
        }
        await log(webhookID: webhookID, topic: topic, shop: shop, outcome: "accepted")
        return Self.acknowledgement("accepted")
    }

    private func log(webhookID: String, topic: String, shop: String?, outcome: String) async {
        do {
            try await pools.write { connection in
                try await connection.query(
                    "INSERT INTO webhook_logs (webhook_id, topic, shop_domain, outcome) VALUES (\(webhookID), \(topic), \(shop), \(outcome))",
                    logger: logger)
            }
        } catch {
            logger.error("cannot write the webhook log", metadata: ["error": "\(String(reflecting: type(of: error)))"])
        }
    }

    /// At most 200 characters of a header or path a client chose.
    static func bounded(_ text: String) -> String {
        text.count <= 200 ? text : String(text.prefix(200)) + "…"
    }

    static func acknowledgement(_ status: String) -> Response {
        Response.json(bytes: ByteBuffer(string: "{\"status\":\"\(status)\"}"))
    }
}
