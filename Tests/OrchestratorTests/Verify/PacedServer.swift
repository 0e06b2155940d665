import AsyncHTTPClient
import Foundation
import TestSupport

/// A server whose latency is known (`Tests/scripts/paced-server.py`, which says what it answers),
/// run as a process of its own and stopped with the test. Unchecked: its one mutable part is the
/// Process, which is only terminated.
final class PacedServer: @unchecked Sendable {
    let port: Int
    private let process: Process

    var url: String { "http://127.0.0.1:\(port)" }

    init(latency: Duration) async throws {
        port = LocalProcess.freePort()
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let milliseconds = latency.components.seconds * 1000 + latency.components.attoseconds / 1_000_000_000_000_000
        process.arguments = [
            "python3", CommandRunner.repositoryRoot + "/Tests/scripts/paced-server.py", String(port), String(milliseconds),
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard await LocalProcess.portOpens(port) else {
            process.terminate()
            throw PacedServerError.didNotStart
        }
    }

    /// Holds every `/paced` answer from now for `duration`.
    func stall(for duration: Duration) async throws {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        var request = HTTPClientRequest(url: url + "/stall?ms=\(milliseconds)")
        request.method = .POST
        _ = try await HTTPClient.shared.execute(request, timeout: .seconds(10)).body.collect(upTo: 1024)
    }

    /// Holds every `/paced` answer for `duration` once `count` more have been answered, as the
    /// server counts them: the stall falls inside a run's measured time however late a busy
    /// machine starts the run, and no timer of the test's has to fire on time.
    func stall(for duration: Duration, after count: Int) async throws {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        var request = HTTPClientRequest(url: url + "/stall?ms=\(milliseconds)&after=\(count)")
        request.method = .POST
        _ = try await HTTPClient.shared.execute(request, timeout: .seconds(10)).body.collect(upTo: 1024)
    }

    /// The `fly-force-instance-id` of every request that carried one, as Fly's proxy would route it.
    func forcedInstances() async throws -> [String] {
        let answer = try await HTTPClient.shared.execute(HTTPClientRequest(url: url + "/forced"), timeout: .seconds(10))
        let body = try await answer.body.collect(upTo: 1 << 20)
        return try JSONDecoder().decode([String].self, from: Data(buffer: body))
    }

    deinit { process.terminate() }
}

enum PacedServerError: Error {
    case didNotStart
}
