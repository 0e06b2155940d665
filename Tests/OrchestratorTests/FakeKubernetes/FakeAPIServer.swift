import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import TestSupport

@testable import Orchestrator

/// A local stand-in for a Kubernetes API server, following the official API for what the
/// orchestrator uses so far: REST paths of the core and named groups, bearer tokens, GET of one
/// object and of a collection with a label selector, server-side apply (PATCH
/// application/apply-patch+yaml with fieldManager, force and dryRun=All) with defaults and field
/// owners, DELETE, and `kind: Status` error bodies with reason and code.
final class FakeAPIServer: Sendable {
    static let token = "test-token"
    /// What tests use to set the scene; its requests are not what orchestrate asked for.
    static let seedToken = "seed-token"
    let port: Int
    let store = FakeObjectStore()
    let controllers: FakeControllers
    private let failures = Failures()
    private let expiredWatches = Failures()
    /// Every request as `VERB GROUP RESOURCE[/SUBRESOURCE] NAME?`, the way RBAC sees it.
    let requests = RequestLog()
    private let task: Task<Void, Error>

    /// Answers the next `count` requests whose path starts with `prefix` with `status` (429, 500…),
    /// or with status 0, never in time: the answer comes after 30 s.
    func failNext(_ count: Int, status: Int, pathPrefix: String) {
        failures.add(count: count, status: status, prefix: pathPrefix)
    }

    /// The next `count` watches under `pathPrefix` find their resourceVersion compacted away: the
    /// API server's usual answer is a 200 stream with one ERROR event holding a 410 Status; with
    /// `asHTTPStatus`, the request itself is answered 410. Either way the client must list again.
    func expireNextWatches(_ count: Int, pathPrefix: String, asHTTPStatus: Bool = false) {
        expiredWatches.add(count: count, status: asHTTPStatus ? 410 : 200, prefix: pathPrefix)
    }

    /// Expired watches not yet asked for.
    var expiredWatchesLeft: Int { expiredWatches.remaining }

    var url: String { "http://127.0.0.1:\(port)" }

    init() async throws {
        let port = LocalProcess.freePort()
        self.port = port
        let router = Router()
        let store = store
        let controllers = FakeControllers(store: store)
        self.controllers = controllers
        let failures = failures
        let expiredWatches = expiredWatches
        let requests = requests
        for method in [HTTPRequest.Method.get, .patch, .delete, .post, .put] {
            router.on("**", method: method) { request, _ in
                if request.headers[.authorization] == "Bearer \(Self.token)" { requests.record(request) }
                if let status = failures.take(for: request.uri.path) {
                    if status == 0 { try await Task.sleep(for: .seconds(30)) }
                    return Self.status(status, reason: status == 429 ? "TooManyRequests" : "InternalError", message: "injected by the test")
                }
                if request.uri.queryParameters["watch"] == "1", let status = expiredWatches.take(for: request.uri.path) {
                    return Self.expiredWatch(asHTTPStatus: status == 410, resourceVersion: store.resourceVersion)
                }
                let body = try await request.body.collect(upTo: 8 << 20)
                return Self.handle(request, body: body, store: store, controllers: controllers)
            }
        }
        var logger = Logger(label: "fake-kubernetes")
        logger.logLevel = .critical
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
        task = try await LocalApplication.start(app, port: port, name: "the fake API server", logger: logger)
    }

    func stop() { task.cancel() }

    /// A kubeconfig pointing at this server with one context, `test`.
    func kubeconfig(in folder: String, token: String = FakeAPIServer.token) throws -> String {
        let path = folder + "/kubeconfig-\(UUID().uuidString)"
        let text = """
            apiVersion: v1
            kind: Config
            current-context: test
            clusters: [{ name: fake, cluster: { server: "\(url)" } }]
            contexts: [{ name: test, context: { cluster: fake, user: deployer } }]
            users: [{ name: deployer, user: { token: \(token) } }]
            """
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Parses `/api/v1/namespaces/NS/PLURAL[/NAME]`, `/apis/GROUP/VERSION/...` and cluster-scoped paths.
    struct Target {
        var kind: ResourceKind
        var namespace: String?
        var name: String?
        var path: String
        var collection: String
    }

    static func target(_ path: String) -> Target? {
        var parts = path.split(separator: "/").map(String.init)
        guard let root = parts.first else { return nil }
        let apiVersion: String
        if root == "api", parts.count >= 2 {
            apiVersion = parts[1]
            parts.removeFirst(2)
        } else if root == "apis", parts.count >= 3 {
            apiVersion = "\(parts[1])/\(parts[2])"
            parts.removeFirst(3)
        } else {
            return nil
        }
        var namespace: String?
        if parts.count >= 3, parts[0] == "namespaces" {
            namespace = parts[1]
            parts.removeFirst(2)
        } else if parts.count == 2, parts[0] == "namespaces" {
            guard let kind = ResourceKind.of(apiVersion: "v1", kind: "Namespace") else { return nil }
            return Target(kind: kind, namespace: nil, name: parts[1], path: path, collection: "/api/v1/namespaces")
        }
        guard let plural = parts.first, let kind = ResourceKind.all.first(where: { $0.apiVersion == apiVersion && $0.plural == plural })
        else { return nil }
        let name = parts.count > 1 ? parts[1] : nil
        return Target(kind: kind, namespace: namespace, name: name, path: path, collection: kind.collectionPath(namespace: namespace))
    }

    static func handle(_ request: Request, body: ByteBuffer, store: FakeObjectStore, controllers: FakeControllers) -> Response {
        guard [token, seedToken].map({ "Bearer \($0)" }).contains(request.headers[.authorization] ?? "") else {
            return status(401, reason: "Unauthorized", message: "Unauthorized")
        }
        let path = request.uri.path
        if let special = subresource(request, path: path, controllers: controllers) { return special }
        guard let target = target(path) else {
            return status(404, reason: "NotFound", message: "the server could not find the requested resource")
        }
        let query = request.uri.queryParameters
        switch (request.method, target.name) {
        case (.get, let name?):
            guard let object = store.get(path) else {
                return status(404, reason: "NotFound", message: "\(target.kind.plural) \"\(name)\" not found")
            }
            return json(object)
        case (.get, nil) where query["watch"] == "1":
            let after = Int(query["resourceVersion"].map(String.init) ?? "0") ?? 0
            let timeout = Int(query["timeoutSeconds"].map(String.init) ?? "30") ?? 30
            let events = store.watch(target.collection, after: after)
            let lines = AsyncStream<ByteBuffer> { continuation in
                let pump = Task {
                    for await event in events {
                        let line = ["type": event.type, "object": event.object] as [String: Any]
                        var data = (try? JSONSerialization.data(withJSONObject: line)) ?? Data()
                        data.append(0x0A)
                        continuation.yield(ByteBuffer(bytes: data))
                    }
                }
                let timer = Task {
                    try? await Task.sleep(for: .seconds(timeout))
                    pump.cancel()
                    continuation.finish()
                }
                continuation.onTermination = { _ in
                    pump.cancel()
                    timer.cancel()
                }
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(asyncSequence: lines))
        case (.get, nil):
            let labels = Dictionary(
                (query["labelSelector"].map(String.init) ?? "").split(separator: ",").compactMap { pair -> (String, String)? in
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
                }, uniquingKeysWith: { $1 })
            return json([
                "kind": "\(target.kind.kind)List", "apiVersion": target.kind.apiVersion,
                "metadata": ["resourceVersion": store.resourceVersion], "items": store.list(target.collection, labels: labels),
            ])
        case (.patch, let name?) where request.headers[.contentType] == "application/merge-patch+json":
            guard let live = store.get(path) else {
                return status(404, reason: "NotFound", message: "\(target.kind.plural) \"\(name)\" not found")
            }
            guard let patch = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] else {
                return status(400, reason: "BadRequest", message: "the body is not a JSON object")
            }
            return json(store.put(path, FakeObjectStore.merge(live, patch)) ?? [:])
        case (.patch, let name?):
            guard request.headers[.contentType] == "application/apply-patch+yaml" else {
                return status(415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format")
            }
            guard let manager = query["fieldManager"].map(String.init), !manager.isEmpty else {
                return status(400, reason: "BadRequest", message: "fieldManager is required for apply requests")
            }
            if let namespace = target.namespace, store.get("/api/v1/namespaces/\(namespace)") == nil {
                return status(404, reason: "NotFound", message: "namespaces \"\(namespace)\" not found")
            }
            guard let applied = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] else {
                return status(400, reason: "BadRequest", message: "the body is not a JSON or YAML object")
            }
            do {
                let dryRun = query["dryRun"] == "All"
                let result = try store.apply(path, applied: applied, manager: manager, force: query["force"] == "true", dryRun: dryRun)
                if !dryRun { controllers.applied(path, result) }
                return json(result)
            } catch let conflict as FakeObjectStore.Conflict {
                let fields = conflict.fields.map { ".\($0)" }.joined(separator: ", ")
                return status(
                    409, reason: "Conflict",
                    message: "Apply failed with \(conflict.fields.count) conflict(s): conflict with \"\(conflict.manager)\": \(fields)")
            } catch {
                return status(500, reason: "InternalError", message: "\(error)")
            }
        case (.post, nil):
            guard var object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any],
                let name = (object["metadata"] as? [String: Any])?["name"] as? String
            else { return status(400, reason: "BadRequest", message: "the body is not an object with metadata.name") }
            let itemPath = target.collection + "/" + name
            if store.get(itemPath) != nil {
                return status(409, reason: "AlreadyExists", message: "\(target.kind.plural) \"\(name)\" already exists")
            }
            object["metadata"] = (object["metadata"] as? [String: Any] ?? [:]).merging(["namespace": target.namespace ?? ""]) { a, _ in a }
            return json(store.put(itemPath, object) ?? [:], status: 201)
        case (.put, let name?):
            guard let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] else {
                return status(400, reason: "BadRequest", message: "the body is not an object")
            }
            guard store.get(path) != nil else {
                return status(404, reason: "NotFound", message: "\(target.kind.plural) \"\(name)\" not found")
            }
            let expected = (object["metadata"] as? [String: Any])?["resourceVersion"] as? String
            guard let stored = store.put(path, object, expectedVersion: expected) else {
                return status(
                    409, reason: "Conflict",
                    message:
                        "Operation cannot be fulfilled on \(target.kind.plural) \"\(name)\": the object has been modified; please apply your changes to the latest version and try again"
                )
            }
            return json(stored)
        case (.delete, let name?):
            guard store.delete(path) else { return status(404, reason: "NotFound", message: "\(target.kind.plural) \"\(name)\" not found") }
            return json(["kind": "Status", "apiVersion": "v1", "status": "Success", "details": ["name": name, "kind": target.kind.plural]])
        default:
            return status(405, reason: "MethodNotAllowed", message: "the server does not allow this method on the requested resource")
        }
    }

    static func json(_ object: [String: Any], status: Int = 200) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(
            status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// `pods/NAME/log` and `services/NAME:PORT/proxy/PATH`.
    static func subresource(_ request: Request, path: String, controllers: FakeControllers) -> Response? {
        let parts = path.split(separator: "/").map(String.init)
        if parts.count == 7, parts[4] == "pods", parts[6] == "log" {
            guard let lines = controllers.log(of: parts[5]) else {
                return status(404, reason: "NotFound", message: "pods \"\(parts[5])\" not found")
            }
            let tail = Int(request.uri.queryParameters["tailLines"].map(String.init) ?? "") ?? lines.count
            return Response(
                status: .ok, headers: [.contentType: "text/plain"],
                body: .init(byteBuffer: ByteBuffer(string: lines.suffix(tail).joined(separator: "\n") + "\n")))
        }
        if parts.count >= 7, parts[4] == "services", parts[6] == "proxy" {
            let unhealthy = controllers.isUnhealthy
            let body = unhealthy ? #"{"status":"down","failing":["database"]}"# : #"{"status":"ok"}"#
            return Response(
                status: unhealthy ? .serviceUnavailable : .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        return nil
    }

    static func expiredWatch(asHTTPStatus: Bool, resourceVersion: String) -> Response {
        let message = "too old resource version: 1 (\(resourceVersion))"
        if asHTTPStatus { return status(410, reason: "Expired", message: message) }
        let status = (try? JSONSerialization.jsonObject(with: statusBody(410, reason: "Expired", message: message))) ?? [:]
        var line = (try? JSONSerialization.data(withJSONObject: ["type": "ERROR", "object": status])) ?? Data()
        line.append(0x0A)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: line)))
    }

    static func status(_ code: Int, reason: String, message: String) -> Response {
        Response(
            status: .init(code: code), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: statusBody(code, reason: reason, message: message))))
    }

    /// A `kind: Status` error body as the API server writes it.
    static func statusBody(_ code: Int, reason: String, message: String) -> Data {
        let status: [String: Any] = [
            "kind": "Status", "apiVersion": "v1", "metadata": [String: Any](), "status": "Failure", "message": message, "reason": reason,
            "code": code,
        ]
        return (try? JSONSerialization.data(withJSONObject: status, options: [.sortedKeys])) ?? Data()
    }
}

/// Failures a test injects: the next N requests under a path answer with a status.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var pending: [(prefix: String, status: Int, count: Int)] = []

    func add(count: Int, status: Int, prefix: String) {
        lock.withLock { pending.append((prefix, status, count)) }
    }

    var remaining: Int { lock.withLock { pending.reduce(0) { $0 + $1.count } } }

    func take(for path: String) -> Int? {
        lock.withLock {
            guard let index = pending.firstIndex(where: { path.hasPrefix($0.prefix) && $0.count > 0 }) else { return nil }
            pending[index].count -= 1
            return pending[index].status
        }
    }
}

/// The requests the fake server saw, as RBAC attributes: verb, API group, resource, name.
final class RequestLog: @unchecked Sendable {
    struct Access: Hashable {
        var verb: String
        var group: String
        var resource: String
        var name: String?
    }

    private let lock = NSLock()
    private var seen: Set<Access> = []
    private var templates: Set<String> = []

    var accesses: Set<Access> { lock.withLock { seen } }
    /// `METHOD /path/{namespace}/…/{name}` of every request, as the OpenAPI documents write paths.
    var pathTemplates: Set<String> { lock.withLock { templates } }

    func record(_ request: Request) {
        let parts = request.uri.path.split(separator: "/").map(String.init)
        var rest: ArraySlice<String>
        var group = ""
        if parts.first == "api" {
            rest = parts.dropFirst(2)
        } else if parts.first == "apis", parts.count > 2 {
            group = parts[1]
            rest = parts.dropFirst(3)
        } else {
            return
        }
        if rest.first == "namespaces", rest.count >= 3 { rest = rest.dropFirst(2) }
        let items = Array(rest)
        guard let resource = items.first else { return }
        let name = items.count > 1 ? items[1].split(separator: ":").first.map(String.init) : nil
        let subresource = items.count > 2 ? "/" + items[2] : ""
        let query = request.uri.queryParameters
        let verb: String
        switch request.method {
        case .get: verb = name == nil ? (query["watch"] == "1" ? "watch" : "list") : "get"
        case .post: verb = "create"
        case .put: verb = "update"
        case .patch: verb = "patch"
        case .delete: verb = "delete"
        default: verb = request.method.rawValue.lowercased()
        }
        var template = parts.prefix(parts.first == "api" ? 2 : 3).joined(separator: "/")
        if parts.contains("namespaces"), items.count != parts.count - (parts.first == "api" ? 2 : 3) {
            template += "/namespaces/{namespace}"
        }
        template += "/" + resource
        if name != nil { template += "/{name}" }
        if items.count > 2 { template += "/" + items[2] }
        if items.count > 3 { template += "/{path}" }
        let method = request.method.rawValue.lowercased()
        lock.withLock {
            _ = seen.insert(Access(verb: verb, group: group, resource: resource + subresource, name: name))
            _ = templates.insert("\(method) /\(template)")
        }
    }
}
