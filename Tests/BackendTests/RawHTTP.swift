import Foundation
import TestSupport

/// A plain TCP connection to a local server, for what an HTTP client library hides: pipelined
/// requests, HTTP/1.0, and whether and when the server closes the connection.
final class RawHTTP {
    private let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            throw MissingServer(description: "cannot connect to \(port)")
        }
    }

    deinit { close(descriptor) }

    func send(_ text: String) {
        _ = text.withCString { Foundation.send(descriptor, $0, strlen($0), 0) }
    }

    /// What arrives until `complete` says so, the server closes, or `timeout` passes.
    func receive(timeout: Duration = .seconds(5), until complete: (String) -> Bool) -> String {
        var received = ""
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let deadline = ContinuousClock.now + timeout
        while !complete(received), let count = read(into: &buffer, before: deadline), count > 0 {
            received += String(decoding: buffer[0..<count], as: UTF8.self)
        }
        return received
    }

    /// True when the server closes the connection within `timeout` (anything it sends first is read and dropped).
    func closesWithin(_ timeout: Duration) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let deadline = ContinuousClock.now + timeout
        while let count = read(into: &buffer, before: deadline) {
            if count <= 0 { return true }
        }
        return false
    }

    /// Bytes read, 0 when closed, nil when `deadline` passed first.
    private func read(into buffer: inout [UInt8], before deadline: ContinuousClock.Instant) -> Int? {
        let left = deadline - ContinuousClock.now
        guard left > .zero else { return nil }
        var descriptors = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptors, 1, Int32(max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))) > 0
        else { return nil }
        return recv(descriptor, &buffer, buffer.count, 0)
    }

    /// Runs timed socket work on a thread of its own. On the cooperative pool (two threads here),
    /// other tests' blocking waits can hold a sleeping task past the timeouts being measured.
    /// `body` returns what it saw; the test checks it afterwards, in its own task.
    static func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    static func exchange(port: Int, send request: String, until complete: (String) -> Bool) throws -> String {
        let connection = try RawHTTP(port: port)
        connection.send(request)
        return connection.receive(until: complete)
    }
}
