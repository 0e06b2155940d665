import Foundation
import TestSupport
import Testing

/// `orchestrate secrets` on the local target: secrets.env in the state folder, mode 0600.
@Suite struct LocalSecretsCommandTests {
    @Test func setListUnsetChangeSecretsEnvAndNeverShowValues() async throws {
        let state = try LocalProcess.temporaryDirectory("secrets-local")
        func run(_ words: [String], input: String? = nil, environment: [String: String] = [:]) async throws -> CommandRunner.Outcome {
            try await CommandRunner.run(
                ["secrets", words[0], "dev"] + words.dropFirst() + ["--target", "local", "--state-dir", state], environment: environment,
                input: input)
        }
        let set = try await run(["set", "JWT_SECRET"], input: String(repeating: "j", count: 40) + "\n")
        #expect(set.status == 0, "\(set.stderr)")
        let file = state + "/dev/secrets.env"
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains("JWT_SECRET=" + String(repeating: "j", count: 40) + "\n"))
        let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        let fromEnvironment = try await run(
            ["set", "SESSION_SECRET", "--from-env"], environment: ["SESSION_SECRET": String(repeating: "s", count: 33)])
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.stderr)")
        let tooShort = try await run(["set", "REFRESH_TOKEN_SECRET"], input: "short")
        #expect(tooShort.status == 1)
        #expect(tooShort.stderr.contains("must be at least 32 characters") && !tooShort.stderr.contains("short\n"), "\(tooShort.stderr)")

        let list = try await run(["list"])
        #expect(list.stdout.contains("JWT_SECRET") && list.stdout.contains("SESSION_SECRET"), "\(list.stdout)")
        #expect(!list.stdout.contains(String(repeating: "j", count: 40)))
        #expect(list.stdout.contains("required, NOT SET"), "required secrets without a value are named: \(list.stdout)")
        #expect(try await run(["unset", "JWT_SECRET"]).status == 0)
        #expect(!(try String(contentsOfFile: file, encoding: .utf8)).contains("JWT_SECRET"))
    }

    /// Standard input that cannot be read (a folder given with `<`) is an error that says what to
    /// do, not the trap inside Foundation's readDataToEndOfFile (the process died by SIGILL).
    @Test func unreadableStandardInputIsAClearError() async throws {
        let state = try LocalProcess.temporaryDirectory("secrets-stdin")
        let folder = try #require(FileHandle(forReadingAtPath: state))
        defer { try? folder.close() }
        let set = try await CommandRunner.run(
            ["secrets", "set", "dev", "JWT_SECRET", "--target", "local", "--state-dir", state], standardInput: folder)
        #expect(set.status == 1, "\(set.stderr)")
        #expect(set.stderr.contains("cannot read the values from standard input") && set.stderr.contains("--from-file"), "\(set.stderr)")
        #expect(!FileManager.default.fileExists(atPath: state + "/dev/secrets.env"))
    }
}
