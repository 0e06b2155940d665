import Foundation
import ProcessSupport
import TestSupport

/// Runs the built `orchestrate` binary as a user would, from a given working directory.
struct CommandRunner {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static let repositoryRoot = KubernetesControlPlane.repositoryRoot

    /// The binary sits next to the test bundle in the build folder; ORCHESTRATE_BINARY names
    /// another (the benchmark measures a release build).
    static let executable: String = {
        if let chosen = ProcessInfo.processInfo.environment["ORCHESTRATE_BINARY"] { return chosen }
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("orchestrate").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return repositoryRoot + "/.build/debug/orchestrate"
    }()

    static func run(_ arguments: [String], in directory: String = repositoryRoot) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes concurrently with the process so neither can fill up and block it.
        let errData = ErrorCollector(err.fileHandleForReading)
        let outData = try out.fileHandleForReading.readAllRetryingInterrupts()
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData.wait(), as: UTF8.self))
    }
}

extension CommandRunner {
    /// The same without holding a thread of the concurrency pool while the command runs (deploys
    /// take seconds; on two cores a blocked pool thread stalls every other test).
    static func run(
        _ arguments: [String], in directory: String = repositoryRoot, environment: [String: String] = [:], input: String? = nil,
        standardInput: FileHandle? = nil
    ) async throws -> Outcome {
        let process = Process()
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let stdin = Pipe()
        process.standardInput = standardInput ?? (input == nil ? FileHandle.nullDevice : stdin)
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        if let input {
            DispatchQueue.global().async {
                stdin.fileHandleForWriting.write(Data(input.utf8))
                try? stdin.fileHandleForWriting.close()
            }
        }
        let outData = ErrorCollector(out.fileHandleForReading)
        let errData = ErrorCollector(err.fileHandleForReading)
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        return Outcome(
            status: status, stdout: String(decoding: outData.wait(), as: UTF8.self),
            stderr: String(decoding: errData.wait(), as: UTF8.self))
    }
}

private final class ErrorCollector: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        DispatchQueue.global().async {
            // Reading a pipe fails only with EINTR, which is retried.
            self.data = (try? handle.readAllRetryingInterrupts()) ?? Data()
            self.done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}

/// A temporary project folder with `environments/` and a copy of the shipped `templates/`.
final class ScratchProject {
    let path: String

    init(environments: [String: String]) throws {
        path = NSTemporaryDirectory() + "orchestrate-cli-" + UUID().uuidString
        let manager = FileManager.default
        try manager.createDirectory(atPath: path + "/environments", withIntermediateDirectories: true)
        try manager.copyItem(atPath: CommandRunner.repositoryRoot + "/templates", toPath: path + "/templates")
        for (name, text) in environments {
            try Data(text.utf8).write(to: URL(fileURLWithPath: "\(path)/environments/\(name)"))
        }
    }

    func contents(of relativePath: String) -> String? {
        try? String(contentsOfFile: "\(path)/\(relativePath)", encoding: .utf8)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

extension CommandRunner {
    /// Starts a command, sends it SIGKILL after `delay` and waits for it to die, as a lost laptop
    /// or an OOM kill would end it. Says whether it was still running when killed.
    @discardableResult
    static func runKilled(
        _ arguments: [String], in directory: String = repositoryRoot, environment: [String: String] = [:], after delay: Duration
    ) async throws -> Bool {
        let process = Process()
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try await Task.sleep(for: delay)
        let running = process.isRunning
        kill(process.processIdentifier, SIGKILL)
        try await OffPool.run { process.waitUntilExit() }
        return running
    }
}
