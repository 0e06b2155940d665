import Foundation
import ProcessSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A server process the tests start on 127.0.0.1. It stops by itself: a small shell watchdog
/// kills it as soon as the test process is gone, even if the tests crash.
public final class LocalProcess: @unchecked Sendable {
    public let name: String
    private let process: Process
    private let watchdog: Process
    private let logPath: String

    private let stopSignal: Int32

    /// `stopSignal` is what asks the server to stop; it must be one the server unblocks itself
    /// (PostgreSQL does, redis-server does not), else use SIGKILL.
    public init(name: String, command: String, arguments: [String], logPath: String, stopSignal: Int32 = SIGKILL) throws {
        self.name = name
        self.stopSignal = stopSignal
        self.logPath = logPath
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath) ?? FileHandle.nullDevice
        process = Process()
        process.executableURL = URL(fileURLWithPath: command)
        process.arguments = arguments
        // Holding the test runner's stdout would keep `swift test` waiting for EOF forever.
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        try process.run()
        watchdog = Process()
        watchdog.executableURL = URL(fileURLWithPath: "/bin/sh")
        watchdog.arguments = [
            "-c",
            "while kill -0 \(getpid()) 2>/dev/null && kill -0 \(process.processIdentifier) 2>/dev/null; do sleep 1; done; "
                + "kill -\(stopSignal) \(process.processIdentifier) 2>/dev/null; sleep 5; kill -9 \(process.processIdentifier) 2>/dev/null",
        ]
        watchdog.standardInput = FileHandle.nullDevice
        watchdog.standardOutput = FileHandle.nullDevice
        watchdog.standardError = FileHandle.nullDevice
        try watchdog.run()
    }

    public var log: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// Stops the server and waits for it to exit.
    /// Sends the stop signal, then SIGKILL if the server is still there after 10 s. A child spawned
    /// from a Dispatch worker thread inherits its blocked signals, hence SIGKILL by default.
    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, stopSignal)
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        if watchdog.isRunning { watchdog.terminate() }
    }

    public var processIdentifier: Int32 { process.processIdentifier }

    deinit { stop() }

    /// A port nothing listens on right now, from the kernel's ephemeral range.
    public static func freePort() -> Int { bindable(0) ?? 0 }

    /// The first of `size` consecutive ports that nothing holds, below the kernel's ephemeral
    /// range: a port in that range can be taken at any moment as the source of an outgoing
    /// connection (the control plane's, a registry client's), which a listener then cannot bind.
    public static func portBlock(size: Int) -> Int {
        let ephemeralStart =
            (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))
            .flatMap { $0.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } } ?? 32_768
        let blocks = max(1, (ephemeralStart - 10_000) / size)
        while true {
            let candidate = 10_000 + Int.random(in: 0..<blocks) * size
            if (candidate..<candidate + size).allSatisfy({ bindable($0) != nil }) { return candidate }
        }
    }

    /// Binds 127.0.0.1:port (0 for any) without SO_REUSEADDR and returns the port bound, or nil
    /// when a listener or a connection holds it.
    private static func bindable(_ port: Int) -> Int? {
        let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socketDescriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(socketDescriptor, socketAddress, length) == 0 && getsockname(socketDescriptor, socketAddress, &length) == 0
            }
        }
        return bound ? Int(UInt16(bigEndian: address.sin_port)) : nil
    }

    /// Waits until a TCP connect to 127.0.0.1:port succeeds.
    public static func waitForPort(_ port: Int, timeout: TimeInterval = 20) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if accepts(port) { return true }
            usleep(50_000)
        } while Date() < deadline
        return false
    }

    /// Whether a TCP connect to 127.0.0.1:port succeeds right now.
    public static func accepts(_ port: Int) -> Bool {
        let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socketDescriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketDescriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// Like `waitForPort`, without blocking a thread of the concurrency pool while it waits.
    public static func portOpens(_ port: Int, within timeout: Duration = .seconds(20)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if accepts(port) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    public static func temporaryDirectory(_ prefix: String) throws -> String {
        let path = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    public static func executable(_ name: String, searching extra: [String] = []) -> String? {
        ProcessLauncher.executable(name, searching: extra)
    }
}

public struct MissingServer: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) {
        self.description = description
    }
}

/// A child process started with an empty signal mask (posix_spawn with POSIX_SPAWN_SETSIGMASK),
/// so it receives SIGTERM as it would under an init system, whatever thread the test runs on.
public final class CleanProcess: @unchecked Sendable {
    public let pid: pid_t

    public init(_ path: String, arguments: [String], environment: [String: String], output: String) throws {
        do {
            pid = try ProcessLauncher.spawn(path, arguments: arguments, environment: environment, logPath: output)
        } catch {
            throw MissingServer(description: "\(error)")
        }
    }

    public func signal(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Waits for the exit and returns its status, or nil if it has not exited in time.
    public func waitForExit(timeout: Duration) async -> Int32? {
        await ProcessLauncher.waitForExit(pid, timeout: timeout)
    }

    deinit {
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == 0 {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
        }
    }
}
