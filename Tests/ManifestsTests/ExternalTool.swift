import Foundation

/// Runs a command-line validator (installed by the test command) and captures what it says.
struct ExternalTool {
    var name: String

    struct Outcome {
        var status: Int32
        var output: String
    }

    /// The tool's path on PATH; tests fail with the install command when it is missing.
    var path: String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    func run(_ arguments: [String]) throws -> Outcome {
        guard let path else {
            throw ToolMissing(name: name)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    struct ToolMissing: Error, CustomStringConvertible {
        var name: String
        var description: String {
            "\(name) is not on PATH; install it with `pip install kubernetes-validate check-jsonschema` (scripts/test does)"
        }
    }
}

/// A fresh temporary folder, removed when the value goes away.
final class TemporaryFolder {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "orchestrate-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func write(_ files: [(path: String, contents: String)]) throws {
        for file in files {
            let full = "\(path)/\(file.path)"
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(file.contents.utf8).write(to: URL(fileURLWithPath: full))
        }
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}
