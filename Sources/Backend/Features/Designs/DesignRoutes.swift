import Foundation
import Hummingbird
import NIOCore

/// `/api/designs`: list (cursor pagination), create, get, replace, delete, for the signed-in
/// user only. Single reads are cached in Redis and invalidated on every write.
struct DesignRoutes: Sendable {
    let store: DesignStore
    let cache: DesignCache
    let cursors: CursorSigner
    let audit: AuditLog
    let metrics: ServiceMetrics
    let maxBodyBytes: Int

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("designs", use: list)
        group.post("designs", use: create)
        group.get("designs/:id", use: get)
        group.put("designs/:id", use: replace)
        group.delete("designs/:id", use: delete)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireUser()
        metrics.countDesignRequest("list")
        let limitText = request.uri.queryParameters["limit"].map(String.init)
        let limit =
            try limitText.map { text -> Int in
                guard let value = Int(text), (1...100).contains(value) else {
                    throw APIError.badRequest("`limit` must be a whole number from 1 to 100")
                }
                return value
            } ?? 20
        var position: CursorSigner.Position?
        if let cursor = request.uri.queryParameters["cursor"].map(String.init) {
            guard let decoded = cursors.decode(cursor), decoded.userID == user else {
                throw APIError.badRequest("`cursor` is not a cursor this API returned; start again without it")
            }
            position = decoded
        }
        let items = try await store.list(user: user, after: position, limit: limit + 1)
        let page = Array(items.prefix(limit))
        let next = items.count > limit ? page.last.map { cursors.encode(.init(createdAt: $0.createdAt, id: $0.id, userID: user)) } : nil
        return Response.json(bytes: Design.page(page, nextCursor: next))
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireUser()
        metrics.countDesignRequest("create")
        let input = try JSONBody.decode(DesignInput.self, from: try await JSONBody.data(request, limit: maxBodyBytes)).validated()
        let design = try await store.create(user: user, input: input)
        if input.privateNotes != nil {
            await audit.record(
                actor: user, action: "design.private_notes.write", subject: design.id.uuidString, requestID: context.requestID)
        }
        var response = Response.json(bytes: design.json, status: .created)
        response.headers[.location] = "/api/designs/\(design.id.uuidString.lowercased())"
        return response
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireUser()
        metrics.countDesignRequest("get")
        let id = try designID(context)
        let key = id.uuidString.lowercased()
        if let cached = await cache.get(user: user, design: key) {
            return Response.json(bytes: cached)
        }
        guard let design = try await store.get(user: user, id: id) else { throw APIError.notFound("the design \(key)") }
        let body = design.json
        await cache.set(user: user, design: key, body: body)
        return Response.json(bytes: body)
    }

    @Sendable func replace(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireUser()
        metrics.countDesignRequest("replace")
        let id = try designID(context)
        let input = try JSONBody.decode(DesignInput.self, from: try await JSONBody.data(request, limit: maxBodyBytes)).validated()
        guard let design = try await store.replace(user: user, id: id, input: input) else {
            throw APIError.notFound("the design \(id.uuidString.lowercased())")
        }
        await cache.invalidate(user: user, design: id.uuidString.lowercased())
        if input.privateNotes != nil {
            await audit.record(actor: user, action: "design.private_notes.write", subject: id.uuidString, requestID: context.requestID)
        }
        return Response.json(bytes: design.json)
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireUser()
        metrics.countDesignRequest("delete")
        let id = try designID(context)
        guard try await store.delete(user: user, id: id) else { throw APIError.notFound("the design \(id.uuidString.lowercased())") }
        await cache.invalidate(user: user, design: id.uuidString.lowercased())
        await audit.record(actor: user, action: "design.delete", subject: id.uuidString, requestID: context.requestID)
        return Response(status: .noContent)
    }

    private func designID(_ context: AppRequestContext) throws -> UUID {
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else {
            throw APIError.badRequest("the design id must be a UUID such as 3f2b8c1e-6a7d-4e1f-9c2b-1a2b3c4d5e6f")
        }
        return id
    }

}
