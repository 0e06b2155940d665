import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A scratch project with one environment, `test`, deployed with `--target local` into a state
/// folder of its own on ports no other test uses.
final class LocalDeployment: @unchecked Sendable {
    let project: ScratchProject
    let basePort: Int
    var root: String { project.path }
    var stateDirectory: String { root + "/.orchestrate" }
    /// The pet-backend built with the tests.
    let goodBuild: String
    let replicas: Int

    /// `liveness`: the spec's `health.liveness` for this environment.
    /// The process environment of every command (secrets a test hands over as CI would).
    var environment: [String: String] = [:]

    /// `extra`: more of the spec, appended to the environment's file.
    init(replicas: Int = 2, liveness: String = "{ initialDelay: 1s }", extra: String = "") throws {
        self.replicas = replicas
        // PostgreSQL, Redis and the instances use basePort + 0, 1 and 10..<20. The block lies
        // below the ephemeral range: there an outgoing connection took PostgreSQL's port between
        // the pick and the start, twice in fresh-clone runs.
        basePort = LocalProcess.portBlock(size: 20)
        let base = try String(contentsOfFile: CommandRunner.repositoryRoot + "/environments/base.yaml", encoding: .utf8)
        let test = """
            extends: base
            features: { queue: false }
            scaling:
              replicas: { min: \(replicas), max: \(replicas) }
            health:
              liveness: \(liveness)
              readiness: { initialDelay: 1s }
            deploy:
              healthTimeout: 6s
            targets:
              local: { basePort: \(basePort) }
              default: local
            \(extra)
            """
        project = try ScratchProject(environments: ["base.yaml": base, "test.yaml": test])
        goodBuild = URL(fileURLWithPath: CommandRunner.executable).deletingLastPathComponent().appendingPathComponent("pet-backend").path
    }

    func orchestrate(_ arguments: [String], withEnvironment: Bool = true) async throws -> CommandRunner.Outcome {
        try await CommandRunner.run(self.arguments(arguments, withEnvironment: withEnvironment), in: root, environment: environment)
    }

    /// `VERB test ARGS --state-dir …`, with the good build where a plan or apply names none.
    func arguments(_ arguments: [String], withEnvironment: Bool = true) -> [String] {
        var full = Array(arguments.prefix(1))
        if withEnvironment { full.append("test") }
        full += arguments.dropFirst()
        if withEnvironment, ["plan", "apply"].contains(arguments[0]), !arguments.contains("--binary") {
            full += ["--binary", goodBuild]
        }
        return full + ["--state-dir", stateDirectory]
    }

    func startInBackground(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandRunner.executable)
        process.arguments = [arguments[0], "test"] + arguments.dropFirst() + ["--state-dir", stateDirectory]
        process.currentDirectoryURL = URL(fileURLWithPath: root)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    func waitForLockHolder() async throws {
        let note = stateDirectory + "/test/lock.holder.json"
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: note) {
            try await Task.sleep(for: .milliseconds(25))
        }
    }

    /// Until a file whose name starts with `prefix` appears in PostgreSQL's folder (polled every
    /// 2 ms: some steps last only tens of milliseconds); false after a minute.
    func waitForPostgresFile(startingWith prefix: String) async throws -> Bool {
        let link = stateDirectory + "/test/postgres"
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let folder = (try? FileManager.default.destinationOfSymbolicLink(atPath: link)) ?? link
            if ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).contains(where: { $0.hasPrefix(prefix) }) {
                return true
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        return false
    }

    func eventually(
        _ what: String, within timeout: Duration = .seconds(20), sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("not within \(timeout): \(what)", sourceLocation: sourceLocation)
    }

    /// The pid of an instance's `pet-backend` process, from its supervisor's state file.
    func instancePID(_ name: String) -> Int32? {
        struct State: Decodable { var childPID: Int32? }
        let path = stateDirectory + "/test/instances/\(name).state.json"
        return (try? JSONDecoder().decode(State.self, from: Data(contentsOf: URL(fileURLWithPath: path))))?.childPID
    }

    /// Until release `id` is recorded with `outcome` (an apply in the background got that far).
    func waitForRelease(_ id: Int, outcome: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if try await history().releases.contains(where: { $0.id == id && $0.outcome == outcome }) { return }
        }
        Issue.record("release \(id) was never \(outcome)", sourceLocation: sourceLocation)
    }

    /// The first apply of a fresh environment: v1 live on its instances.
    func firstApply(sourceLocation: SourceLocation = #_sourceLocation) async throws -> CommandRunner.Outcome {
        let first = try await orchestrate(["apply"])
        #expect(first.status == 0, "\(first.stderr)", sourceLocation: sourceLocation)
        try await expectServing(release: 1, instances: replicas, sourceLocation: sourceLocation)
        return first
    }

    /// The good build with bytes appended: runs the same, has another digest.
    func newBuild(_ name: String) throws -> String {
        try Self.build(name, from: goodBuild, in: root)
    }

    static func build(_ name: String, from goodBuild: String, in root: String) throws -> String {
        let path = root + "/pet-backend-\(name)"
        try FileManager.default.copyItem(atPath: goodBuild, toPath: path)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("build \(name)".utf8))
        try handle.close()
        return path
    }

    /// A "build" that runs migrations with the good build and otherwise does `body`.
    func script(_ name: String, body: String) throws -> String {
        let path = root + "/build-\(name).sh"
        let text = "#!/bin/sh\nif [ \"$1\" = migrate ]; then exec \(goodBuild) \"$@\"; fi\n\(body)\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o755)
        return path
    }

    struct Status: Decodable {
        struct Instance: Decodable {
            var name: String
            var releaseID: Int
            var address: String
            var state: String
            var healthy: Bool?
        }
        struct Current: Decodable {
            var id: Int
            var configuration: Configuration
        }
        struct Configuration: Decodable {
            var artifact: ArtifactInfo
        }
        struct ArtifactInfo: Decodable {
            var digest: String
        }
        var current: Current?
        var instances: [Instance]
    }

    struct History: Decodable {
        struct Release: Decodable {
            var id: Int
            var outcome: String
            var configuration: Status.Configuration
        }
        var current: Int?
        var releases: [Release]
    }

    func history() async throws -> History {
        let outcome = try await orchestrate(["releases", "--json"])
        return try JSONDecoder().decode(History.self, from: Data(outcome.stdout.utf8))
    }

    /// `release` is current, `instances` of it run healthy and answer /healthz, and (optionally)
    /// it runs the build of release `digestOf`.
    func expectServing(
        release: Int, instances: Int, digestOf: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let outcome = try await orchestrate(["status", "--json"])
        let status = try JSONDecoder().decode(Status.self, from: Data(outcome.stdout.utf8))
        #expect(status.current?.id == release, sourceLocation: sourceLocation)
        #expect(status.instances.count == instances, "\(outcome.stdout)", sourceLocation: sourceLocation)
        for instance in status.instances {
            #expect(instance.releaseID == release && instance.state == "running", "\(instance)", sourceLocation: sourceLocation)
            #expect(instance.healthy == true, "\(instance.name)", sourceLocation: sourceLocation)
            let url = try #require(URL(string: instance.address + "/healthz"))
            let (_, response) = try await URLSession.shared.data(from: url)
            #expect((response as? HTTPURLResponse)?.statusCode == 200, sourceLocation: sourceLocation)
        }
        if let digestOf {
            let releases = try await history().releases
            let expected = releases.first { $0.id == digestOf }?.configuration.artifact.digest
            #expect(status.current?.configuration.artifact.digest == expected, sourceLocation: sourceLocation)
        }
    }

    func expectNoSecretValueShown(in outcomes: [CommandRunner.Outcome]) async throws {
        let secrets = try String(contentsOfFile: stateDirectory + "/test/secrets.env", encoding: .utf8)
        let values = secrets.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line in
            line.firstIndex(of: "=").map { String(line[line.index(after: $0)...]) }
        }
        #expect(values.count >= 7)
        var texts = outcomes.flatMap { [$0.stdout, $0.stderr] }
        texts.append(try await orchestrate(["status", "--json"]).stdout)
        texts.append(try await orchestrate(["releases", "--json"]).stdout)
        let records = try FileManager.default.contentsOfDirectory(atPath: stateDirectory + "/test/releases")
        for record in records {
            texts.append(try String(contentsOfFile: stateDirectory + "/test/releases/" + record, encoding: .utf8))
        }
        for value in values {
            #expect(!texts.contains { $0.contains(value) }, "a secret value was shown")
        }
    }

    /// Stops whatever the test left running, even after a failure.
    func tearDown() {
        Self.down("test", stateDirectory: stateDirectory, root: root)
    }

    /// `orchestrate down ENV`, whatever happened before it.
    static func down(_ environment: String, stateDirectory: String, root: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandRunner.executable)
        process.arguments = ["down", environment, "--state-dir", stateDirectory]
        process.currentDirectoryURL = URL(fileURLWithPath: root)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? process.run()
        process.waitUntilExit()
    }
}
