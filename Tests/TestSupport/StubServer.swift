import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import TestSupport

/// A local HTTP server a test stands in for an outside service with (Clerk's JWKS endpoint,
/// Sentry, the Shopify Admin API). It records what it receives and stops with the test.
public final class StubServer: Sendable {
    public struct Received: Sendable {
        public var method: String
        public var path: String
        /// By lower-case name.
        public var headers: [String: String]
        public var body: String
    }

    public let port: Int
    private let received = RequestLog()
    private let task: Task<Void, Error>

    public var url: String { "http://127.0.0.1:\(port)" }
    public var requests: [Received] { received.entries.withLock { $0 } }

    public init(routes: [String: (status: HTTPResponse.Status, body: String)]) async throws {
        let port = LocalProcess.freePort()
        self.port = port
        let router = Router()
        let log = received
        router.middlewares.add(
            ClosureMiddleware { request, context, next in
                var headers: [String: String] = [:]
                for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
                let body = try await request.body.collect(upTo: 1 << 20)
                log.entries.withLock {
                    $0.append(
                        Received(method: request.method.rawValue, path: request.uri.path, headers: headers, body: String(buffer: body)))
                }
                return try await next(request, context)
            })
        for (path, answer) in routes {
            router.on(RouterPath(path), method: .get) { _, _ in
                Response(status: answer.status, body: .init(byteBuffer: ByteBuffer(string: answer.body)))
            }
            router.on(RouterPath(path), method: .post) { _, _ in
                Response(status: answer.status, body: .init(byteBuffer: ByteBuffer(string: answer.body)))
            }
        }
        var logger = Logger(label: "stub")
        logger.logLevel = .critical
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
        task = try await LocalApplication.start(app, port: port, name: "the stub server", logger: logger)
    }

    deinit { task.cancel() }
}

final class RequestLog: Sendable {
    let entries = Mutex<[StubServer.Received]>([])
}

/// Middleware from a closure, for the stub's request log.
public struct ClosureMiddleware<Context: RequestContext>: RouterMiddleware {
    let body: @Sendable (Request, Context, (Request, Context) async throws -> Response) async throws -> Response

    public init(_ body: @escaping @Sendable (Request, Context, (Request, Context) async throws -> Response) async throws -> Response) {
        self.body = body
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await body(request, context, next)
    }
}

/// Runs a Hummingbird application as a test's local server until the returned task is cancelled;
/// returns once its port accepts connections.
public enum LocalApplication {
    public static func start(_ app: some Service, port: Int, name: String, logger: Logger) async throws -> Task<Void, Error> {
        let task = Task {
            let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
            try await group.run()
        }
        guard await LocalProcess.portOpens(port) else {
            task.cancel()
            let outcome = await task.result
            throw MissingServer(description: "\(name) did not start: \(outcome)")
        }
        return task
    }
}
