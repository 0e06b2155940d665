import Foundation
import ProcessSupport

/// An S3-compatible server on 127.0.0.1: moto in server mode (from PyPI, through
/// Tests/scripts/s3-server.py), which checks SigV4
/// signatures and payload hashes as S3 does. It keeps its buckets in memory and stops with the
/// test process.
public final class LocalS3: @unchecked Sendable {
    public let port: Int
    public let directory: String
    private let process: LocalProcess

    public var endpoint: String { "http://127.0.0.1:\(port)" }
    public private(set) var accessKeyID = ""
    public private(set) var secretAccessKey = ""

    public init() throws {
        port = LocalProcess.freePort()
        directory = try LocalProcess.temporaryDirectory("s3")
        // Signatures are checked once three calls have made the user whose key the tests sign with.
        process = try LocalProcess(
            name: "moto", command: "/usr/bin/env",
            arguments: ["INITIAL_NO_AUTH_ACTION_COUNT=3", "python3", Self.scriptPath("s3-server.py"), String(port)],
            logPath: directory + "/moto.log")
        guard LocalProcess.waitForPort(port, timeout: 60) else {
            throw MissingServer(
                description:
                    "moto did not start on port \(port) (scripts/test installs it with pip: moto[server]): \(process.log.suffix(2000))")
        }
        let key = try Self.script([endpoint, "user"]).split(separator: " ")
        guard key.count == 2 else { throw MissingServer(description: "moto made no access key: \(process.log.suffix(2000))") }
        accessKeyID = String(key[0])
        secretAccessKey = String(key[1]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Makes a bucket, with a signed request like any other.
    public func createBucket(_ name: String) throws {
        _ = try Self.script([endpoint, accessKeyID, secretAccessKey, name])
    }

    private static func scriptPath(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scripts/\(name)")
            .path
    }

    private static func script(_ arguments: [String]) throws -> String {
        let script = scriptPath("s3-credentials.py")
        let process = Process()
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = try output.fileHandleForReading.readAllRetryingInterrupts()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else { throw MissingServer(description: "s3-credentials.py failed: \(text.suffix(1500))") }
        return text
    }

    public func stop() {
        process.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { stop() }
}

extension LocalS3 {
    /// The one server a test process shares; suites isolate themselves in buckets of their own.
    public static let shared: Result<LocalS3, Error> = Result { try LocalS3() }
}
