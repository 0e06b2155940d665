import Foundation
import Hummingbird
import Logging
import Synchronization
import TestSupport

/// A server whose latency is known: `/paced` answers after `latency`, and after the end of a
/// stall if one is on (every request that arrives or waits during it is held until it ends).
/// `/teapot` answers 418 at once.
final class PacedServer: Sendable {
    let port: Int
    private final class Stall: Sendable {
        let end = Mutex<ContinuousClock.Instant?>(nil)
    }

    private let stall = Stall()
    private let task: Task<Void, Error>

    var url: String { "http://127.0.0.1:\(port)" }

    init(latency: Duration) async throws {
        let port = LocalProcess.freePort()
        self.port = port
        let stall = stall
        let router = Router()
        router.get("/paced") { _, _ -> String in
            try await Task.sleep(for: latency)
            while let end = stall.end.withLock({ $0 }), ContinuousClock.now < end {
                try await Task.sleep(until: end)
            }
            return "ok"
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

    deinit { task.cancel() }
}
