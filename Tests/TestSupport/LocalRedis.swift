import Foundation

/// A real `redis-server` in a temporary folder on 127.0.0.1, without persistence.
public final class LocalRedis: @unchecked Sendable {
    public let port: Int
    public let directory: String
    private let process: LocalProcess

    public var url: String { "redis://127.0.0.1:\(port)" }

    public init(password: String? = nil) throws {
        guard let server = LocalProcess.executable("redis-server", searching: ["/usr/bin", "/usr/local/bin"]) else {
            throw MissingServer(description: "redis-server is not installed; scripts/test installs it with apt-get")
        }
        port = LocalProcess.freePort()
        directory = try LocalProcess.temporaryDirectory("redis")
        var arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory]
        if let password { arguments += ["--requirepass", password] }
        process = try LocalProcess(name: "redis", command: server, arguments: arguments, logPath: directory + "/redis.log")
        guard LocalProcess.waitForPort(port) else {
            throw MissingServer(description: "redis-server did not start on port \(port): \(process.log)")
        }
    }

    /// The one instance a test process shares; tests isolate themselves by key prefix.
    public static let shared: Result<LocalRedis, Error> = Result { try LocalRedis() }

    public func stop() {
        process.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { stop() }
}
