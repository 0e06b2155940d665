import Foundation
import TestSupport
import Testing

/// Two environments on this machine, `staging` and `prod`, each with its own ports, PostgreSQL
/// and Redis, in one project and one state folder, as a team would run them locally.
final class PromotionProject: @unchecked Sendable {
    let project: ScratchProject
    var root: String { project.path }
    var stateDirectory: String { root + "/.orchestrate" }
    let goodBuild: String

    /// `prodDeploy`: prod's `deploy:` map (its strategy).
    init(prodReplicas: Int, prodDeploy: String) throws {
        let base = try String(contentsOfFile: CommandRunner.repositoryRoot + "/environments/base.yaml", encoding: .utf8)
        // Production's own rules (https origins, live Clerk keys, backups) hold in prod.
        let production = """
            cors: { origins: [https://app.example.com] }
            secrets:
              CLERK_SECRET_KEY: { prefix: sk_live_ }
              BACKUP_S3_ACCESS_KEY_ID: { minLength: 16 }
              BACKUP_S3_SECRET_ACCESS_KEY: { minLength: 16 }
            backups:
              schedule: "0 2 * * *"
              retention: 7d
              storage: { endpoint: "https://s3.example.com", bucket: pet-backups }
              beforeRelease: false    # promotion is what these tests measure; backups have their own
            """
        func environment(runtime: String, replicas: Int, deploy: String) -> String {
            """
            extends: base
            app: { runtime: \(runtime) }
            \(runtime == "production" ? production : "")
            features: { queue: false }
            scaling:
              replicas: { min: \(replicas), max: \(replicas) }
            health:
              liveness: { initialDelay: 1s }
              readiness: { initialDelay: 1s }
            deploy: \(deploy)
            verify: { rate: 20, duration: 2s, warmup: 500ms }
            # Far from both builds' answers (milliseconds and 1 s): a busy CI machine cannot move a verdict.
            slo: { p95Latency: 800ms, p99Latency: 2s, errorRate: 1% }
            targets:
              local: { basePort: \(LocalProcess.portBlock(size: 20)) }
              default: local
            """
        }
        project = try ScratchProject(environments: [
            "base.yaml": base,
            "staging.yaml": environment(runtime: "staging", replicas: 1, deploy: "{ healthTimeout: 6s }"),
            "prod.yaml": environment(runtime: "production", replicas: prodReplicas, deploy: prodDeploy),
        ])
        goodBuild = URL(fileURLWithPath: CommandRunner.executable).deletingLastPathComponent().appendingPathComponent("pet-backend").path
    }

    func orchestrate(_ arguments: [String], environment: [String: String] = [:]) async throws -> CommandRunner.Outcome {
        try await CommandRunner.run(arguments + ["--state-dir", stateDirectory], in: root, environment: environment)
    }

    /// The good build with bytes appended: runs the same, has another digest.
    func newBuild(_ name: String) throws -> String {
        try LocalDeployment.build(name, from: goodBuild, in: root)
    }

    /// A build that passes every health check but answers 1 s late in production (fast in
    /// staging): what only production's load shows. Its migrations are the good build's.
    func slowInProductionBuild() throws -> String {
        let server = root + "/slow-in-production.py"
        try Data(
            """
            import http.server, os, socketserver, time
            delay = 1.0 if os.environ.get("NODE_ENV") == "production" else 0
            class Handler(http.server.BaseHTTPRequestHandler):
                protocol_version = "HTTP/1.1"
                def do_GET(self):
                    time.sleep(delay)
                    body = b'{"status":"ok"}'
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                def log_message(self, *arguments):
                    pass
            class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
                daemon_threads = True
                allow_reuse_address = True
            Server((os.environ.get("HOST", "127.0.0.1"), int(os.environ["PORT"])), Handler).serve_forever()
            """.utf8
        ).write(to: URL(fileURLWithPath: server))
        let path = root + "/build-slow.sh"
        let text = "#!/bin/sh\nif [ \"$1\" = migrate ]; then exec \(goodBuild) \"$@\"; fi\nexec python3 \(server)\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o755)
        return path
    }

    struct Releases: Decodable {
        struct Release: Decodable {
            struct Configuration: Decodable {
                struct Artifact: Decodable { var digest: String }
                var artifact: Artifact
            }
            struct Verification: Decodable {
                var passed: Bool
                var missed: [String]
            }
            struct Origin: Decodable {
                var environment: String
                var release: String
                var digest: String
            }
            var id: Int
            var outcome: String
            var message: String?
            var configuration: Configuration
            var verification: Verification?
            var promotedFrom: Origin?
        }
        var current: Int?
        var releases: [Release]

        var live: Release? { releases.first { $0.id == current } }
    }

    func releases(_ environment: String) async throws -> Releases {
        let outcome = try await orchestrate(["releases", environment, "--json"])
        return try JSONDecoder().decode(Releases.self, from: Data(outcome.stdout.utf8))
    }

    /// The digest every running instance of `environment` was started from.
    func servingDigests(_ environment: String) async throws -> Set<String> {
        struct Status: Decodable {
            struct Instance: Decodable {
                var releaseID: Int
                var state: String
            }
            var instances: [Instance]
        }
        let status = try JSONDecoder().decode(
            Status.self, from: Data(try await orchestrate(["status", environment, "--json"]).stdout.utf8))
        let releases = try await releases(environment).releases
        return Set(
            status.instances.filter { $0.state == "running" }.compactMap { instance in
                releases.first { $0.id == instance.releaseID }?.configuration.artifact.digest
            })
    }

    /// Runs `arguments` in the background and interrupts it (SIGINT, as Ctrl-C) once its
    /// standard error shows `moment`; returns its exit status and what it printed there.
    func interrupt(_ arguments: [String], when moment: String) async throws -> (status: Int32, stderr: String) {
        let log = root + "/interrupted-\(UUID().uuidString).log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandRunner.executable)
        process.arguments = arguments + ["--state-dir", stateDirectory]
        process.currentDirectoryURL = URL(fileURLWithPath: root)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try process.run()
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline, process.isRunning {
            if (try? String(contentsOfFile: log, encoding: .utf8))?.contains(moment) == true {
                kill(process.processIdentifier, SIGINT)
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        while process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        return (process.terminationStatus, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    func tearDown() {
        for environment in ["staging", "prod"] {
            LocalDeployment.down(environment, stateDirectory: stateDirectory, root: root)
        }
    }
}
