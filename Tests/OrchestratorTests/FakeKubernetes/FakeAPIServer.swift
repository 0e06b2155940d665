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
    let port: Int
    let store = FakeObjectStore()
    private let task: Task<Void, Error>

    var url: String { "http://127.0.0.1:\(port)" }

    init() async throws {
        let port = LocalProcess.freePort()
        self.port = port
        let router = Router()
        let store = store
        for method in [HTTPRequest.Method.get, .patch, .delete] {
            router.on("**", method: method) { request, _ in
                let body = try await request.body.collect(upTo: 8 << 20)
                return Self.handle(request, body: body, store: store)
            }
        }
        var logger = Logger(label: "fake-kubernetes")
        logger.logLevel = .critical
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
        task = Task {
            let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
            try await group.run()
        }
        guard await LocalProcess.portOpens(port) else {
            task.cancel()
            throw MissingServer(description: "the fake API server did not start")
        }
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

    static func handle(_ request: Request, body: ByteBuffer, store: FakeObjectStore) -> Response {
        guard request.headers[.authorization] == "Bearer \(token)" else {
            return status(401, reason: "Unauthorized", message: "Unauthorized")
        }
        let path = request.uri.path
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
                let result = try store.apply(
                    path, applied: applied, manager: manager, force: query["force"] == "true", dryRun: query["dryRun"] == "All")
                return json(result)
            } catch let conflict as FakeObjectStore.Conflict {
                let fields = conflict.fields.map { ".\($0)" }.joined(separator: ", ")
                return status(
                    409, reason: "Conflict",
                    message: "Apply failed with \(conflict.fields.count) conflict(s): conflict with \"\(conflict.manager)\": \(fields)")
            } catch {
                return status(500, reason: "InternalError", message: "\(error)")
            }
        case (.delete, let name?):
            guard store.delete(path) else { return status(404, reason: "NotFound", message: "\(target.kind.plural) \"\(name)\" not found") }
            return json(["kind": "Status", "apiVersion": "v1", "status": "Success", "details": ["name": name, "kind": target.kind.plural]])
        default:
            return status(405, reason: "MethodNotAllowed", message: "the server does not allow this method on the requested resource")
        }
    }

    static func json(_ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func status(_ code: Int, reason: String, message: String) -> Response {
        let body =
            #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"\#(message.replacingOccurrences(of: "\"", with: "\\\""))","reason":"\#(reason)","code":\#(code)}"#
        return Response(
            status: .init(code: code), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
