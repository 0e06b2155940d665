import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real PostgreSQL server in a temporary folder on 127.0.0.1, run as the `postgres` user
/// (PostgreSQL refuses to run as root), with durability off for speed: test data is disposable.
public final class LocalPostgres: @unchecked Sendable {
    public let port: Int
    public let directory: String
    private let process: LocalProcess

    public init() throws {
        guard let bin = Self.binaryDirectory() else {
            throw MissingServer(description: "PostgreSQL is not installed; scripts/test installs it with apt-get")
        }
        port = LocalProcess.freePort()
        directory = try LocalProcess.temporaryDirectory("postgres")
        let asPostgres = ["/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"]
        let running = getuid() == 0
        if running { _ = try Self.runBlocking("/bin/chown", ["-R", "postgres:postgres", directory]) }
        let initdb =
            (running ? asPostgres : []) + [
                "\(bin)/initdb", "-D", "\(directory)/data", "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8",
            ]
        let status = try Self.runBlocking(initdb[0], Array(initdb.dropFirst()), log: "\(directory)/initdb.log")
        guard status == 0 else {
            throw MissingServer(
                description: "initdb failed: \((try? String(contentsOfFile: "\(directory)/initdb.log", encoding: .utf8)) ?? "")")
        }
        let server =
            (running ? asPostgres : []) + [
                "\(bin)/postgres", "-D", "\(directory)/data", "-p", String(port), "-k", directory, "-c", "listen_addresses=127.0.0.1",
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=300",
            ]
        process = try LocalProcess(
            name: "postgres", command: server[0], arguments: Array(server.dropFirst()), logPath: "\(directory)/postgres.log",
            stopSignal: SIGQUIT)
        guard LocalProcess.waitForPort(port) else {
            throw MissingServer(description: "postgres did not start on port \(port): \(process.log)")
        }
    }

    public func url(database: String = "postgres") -> String {
        "postgresql://postgres@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// The one server a test process shares; suites isolate themselves in databases of their own.
    public static let shared: Result<LocalPostgres, Error> = Result { try LocalPostgres() }

    public func stop() {
        process.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { stop() }

    /// The newest installed major version's binaries.
    static func binaryDirectory() -> String? {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        return versions.last.map { "\(root)/\($0)/bin" }
    }

    /// Runs a command to completion without holding a thread of the concurrency pool (on two
    /// cores a blocked pool thread stalls every other test's work).
    @discardableResult
    public static func run(_ command: String, _ arguments: [String], log: String? = nil) async throws -> Int32 {
        let process = try makeProcess(command, arguments, log: log)
        return await withCheckedContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(returning: -1)
            }
        }
    }

    @discardableResult
    public static func runBlocking(_ command: String, _ arguments: [String], log: String? = nil) throws -> Int32 {
        let process = try makeProcess(command, arguments, log: log)
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    private static func makeProcess(_ command: String, _ arguments: [String], log: String?) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        if let log {
            FileManager.default.createFile(atPath: log, contents: nil)
            let handle = FileHandle(forWritingAtPath: log)
            process.standardOutput = handle
            process.standardError = handle
        } else {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }
        return process
    }
}
