import Foundation
import Hummingbird
import Logging
import PostgresNIO

struct AnalyticsEvent: Codable, Sendable, Equatable {
    var name: String
    var occurredAt: Date?
    var properties: JSONValue?
}

struct AnalyticsBatch: Codable, Sendable, StrictlyDecodable {
    static let allowedKeys: Set<String> = ["events"]
    static let maximumEvents = 100

    var events: [AnalyticsEvent]
    var userID: String?

    func validated() throws -> AnalyticsBatch {
        guard (1...Self.maximumEvents).contains(events.count) else {
            throw APIError.badRequest("`events` must hold 1 to \(Self.maximumEvents) events")
        }
        for (index, event) in events.enumerated() {
            let nameOK =
                (1...100).contains(event.name.count)
                && event.name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.:-".contains($0)) }
            guard nameOK else {
                throw APIError.badRequest("`events[\(index)].name` must be 1 to 100 letters, digits, '_', '.', ':' or '-'")
            }
            if let properties = event.properties, case .object = properties {
            } else if event.properties != nil {
                throw APIError.badRequest("`events[\(index)].properties` must be a JSON object")
            }
            if event.properties?.containsNUL == true {
                throw APIError.badRequest("`events[\(index)].properties` must not contain the NUL character (\\u0000)")
            }
        }
        return self
    }
}

/// Stores analytics events in the monthly-partitioned `analytics_events`, in one statement per batch.
struct AnalyticsStore: Sendable {
    let pools: DatabasePools
    let logger: Logger

    func insert(_ batch: AnalyticsBatch) async throws {
        let now = Date()
        let times = batch.events.map { $0.occurredAt ?? now }
        let names = batch.events.map(\.name)
        let properties = try batch.events.map { event in
            String(decoding: try APIJSON.encoder.encode(event.properties ?? .object([:])), as: UTF8.self)
        }
        try await pools.write { connection in
            try await connection.query(
                """
                INSERT INTO analytics_events (occurred_at, user_id, name, properties)
                SELECT occurred, \(batch.userID), name, props::jsonb
                FROM unnest(\(times)::timestamptz[], \(names)::text[], \(properties)::text[]) AS input(occurred, name, props)
                """, logger: logger)
        }
    }
}

/// `POST /api/analytics/events`: a batch goes through the queue when it is on, else straight in.
struct AnalyticsRoutes: Sendable {
    let store: AnalyticsStore
    let queue: JobQueue?
    let maxBodyBytes: Int

    func register(on group: RouterGroup<AppRequestContext>) {
        group.post("analytics/events", use: ingest)
    }

    @Sendable func ingest(_ request: Request, context: AppRequestContext) async throws -> Response {
        let data = try await JSONBody.data(request, limit: maxBodyBytes)
        var batch = try JSONBody.decode(AnalyticsBatch.self, from: data).validated()
        batch.userID = context.userID
        if let queue {
            _ = try await queue.enqueue(
                kind: JobHandlers.analyticsKind, payload: String(decoding: try APIJSON.encoder.encode(batch), as: UTF8.self))
        } else {
            try await store.insert(batch)
        }
        return Response.json(bytes: ByteBuffer(string: "{\"accepted\":\(batch.events.count)}"), status: .accepted)
    }
}
