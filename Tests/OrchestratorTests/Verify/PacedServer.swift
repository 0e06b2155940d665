import Foundation
import Hummingbird
import Logging
import Synchronization
import TestSupport

/// A server whose latency is known: `/paced` answers after `latency`, and after the end of a
/// stall if one is on (every request that arrives or waits during it is held until it ends).
/// `/slow` answers after 1 s, `/teapot` answers 418 at once.
final class PacedServer: Sendable {
    let port: Int
    private final class Stall: Sendable {
        let end = Mutex<ContinuousClock.Instant?>(nil)
        let forcedInstances = Mutex<[String]>([])
    }

    private let stall = Stall()
    private let task: Task<Void, Error>

    var url: String { "http://127.0.0.1:\(port)" }

    init(latency: Duration) async throws {
        let port = LocalProcess.freePort()
        self.port = port
        let stall = stall
        let router = Router()
        router.get("/paced") { request, _ -> String in
            if let instance = request.headers.first(where: { $0.name.canonicalName == "fly-force-instance-id" })?.value {
                stall.forcedInstances.withLock { $0.append(instance) }
            }
            try await Task.sleep(for: latency)
            while let end = stall.end.withLock({ $0 }), ContinuousClock.now < end {
                try await Task.sleep(until: end)
            }
            return "ok"
        }
        router.get("/slow") { _, _ -> String in
            try await Task.sleep(for: .seconds(1))
            return "late"
        }
        router.get("/teapot") { _, _ -> Response in Response(status: .init(code: 418)) }
        var logger = Logger(label: "paced")
        logger.logLevel = .critical
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
        task = try await LocalApplication.start(app, port: port, name: "the paced server", logger: logger)
    }

    /// Holds every answer from now for `duration`.
    func stall(for duration: Duration) {
        stall.end.withLock { $0 = ContinuousClock.now + duration }
    }

    /// The `fly-force-instance-id` of every request that carried one, as Fly's proxy would route it.
    var forcedInstances: [String] { stall.forcedInstances.withLock { $0 } }

    deinit { task.cancel() }
}
