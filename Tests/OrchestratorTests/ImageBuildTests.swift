import Foundation
import Manifests
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `orchestrate build` against a real registry, checked with the real tools: skopeo reads the
/// manifest and config and verifies every blob digest on copy, umoci unpacks it, and the unpacked
/// image runs (runc, or chroot where runc cannot) and answers /healthz.
@Suite(.serialized) struct ImageBuildTests {
    let scratch: String
    let petBackend = URL(fileURLWithPath: CommandRunner.executable).deletingLastPathComponent().appendingPathComponent("pet-backend").path

    init() throws {
        scratch = try LocalProcess.temporaryDirectory("image-build")
    }

    @Test func buildIsReproduciblePushesByDigestAndTheImageRuns() async throws {
        let registry = try LocalRegistry()
        defer {
            registry.stop()
            try? FileManager.default.removeItem(atPath: scratch)
        }
        let repository = "\(registry.host)/pet-backend"
        let first = try await CommandRunner.run(["build", "--binary", petBackend, "--out", scratch + "/one", "--push", repository])
        #expect(first.status == 0, "\(first.stderr)")
        let reference = first.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(reference.range(of: "^\(repository)@sha256:[0-9a-f]{64}$", options: .regularExpression) != nil, "\(reference)")
        let digest = String(reference.split(separator: "@").last ?? "")

        // Same input, same digest; the registry already has every blob.
        let second = try await CommandRunner.run(["build", "--binary", petBackend, "--out", scratch + "/two", "--push", repository])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == reference)
        #expect(second.stderr.components(separatedBy: "already there, skipped").count - 1 == 3, "\(second.stderr)")

        let inspected = try await tool("skopeo", ["inspect", "--tls-verify=false", "docker://\(reference)"])
        let manifest = try JSONSerialization.jsonObject(with: Data(inspected.utf8)) as? [String: Any]
        #expect(manifest?["Digest"] as? String == digest)
        let configText = try await tool("skopeo", ["inspect", "--config", "--tls-verify=false", "docker://\(reference)"])
        let config = (try JSONSerialization.jsonObject(with: Data(configText.utf8)) as? [String: Any])?["config"] as? [String: Any]
        #expect(config?["User"] as? String == "10001:10001")
        #expect(config?["Entrypoint"] as? [String] == ["/usr/local/bin/pet-backend"])
        // Fly runs a release command (and a machine's init.cmd) as arguments to this entrypoint:
        // the spec's `pet-backend migrate` must become exactly `pet-backend migrate`, not twice.
        let arguments = try #require(ImageEntrypoint.arguments(for: ["pet-backend", "migrate"]))
        #expect((config?["Entrypoint"] as? [String] ?? []) + arguments == ["/usr/local/bin/pet-backend", "migrate"])
        #expect((config?["ExposedPorts"] as? [String: Any])?.keys.first == "3001/tcp")
        #expect((config?["Labels"] as? [String: String])?["org.opencontainers.image.revision"]?.count == 40)

        _ = try await tool("skopeo", ["copy", "--src-tls-verify=false", "docker://\(reference)", "oci:\(scratch)/copy:test"])
        let bundle = scratch + "/bundle"
        _ = try await tool("umoci", ["unpack", "--image", "\(scratch)/copy:test", bundle])
        let passwd = try String(contentsOfFile: bundle + "/rootfs/etc/passwd", encoding: .utf8)
        #expect(passwd.contains("app:x:10001:10001"))
        #expect(FileManager.default.isExecutableFile(atPath: bundle + "/rootfs/usr/local/bin/pet-backend"))
        #expect(FileManager.default.fileExists(atPath: bundle + "/rootfs/etc/ssl/certs/ca-certificates.crt"))
        #expect(FileManager.default.fileExists(atPath: bundle + "/rootfs/usr/share/zoneinfo/UTC"))
        // `pet-backend backup` (the scheduled backup) needs pg_dump, pg_restore and psql with
        // their libraries: pg_dump runs from the image's files alone.
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: bundle + "/rootfs/usr/lib/postgresql")) ?? []
        let bin = try #require(versions.first.map { "/usr/lib/postgresql/\($0)/bin" }, "no PostgreSQL client tools in the image")
        #expect(
            ["pg_dump", "pg_restore", "psql"].allSatisfy {
                FileManager.default.isExecutableFile(atPath: bundle + "/rootfs" + bin + "/" + $0)
            })
        if getuid() == 0 {
            #expect(try await tool("chroot", [bundle + "/rootfs", bin + "/pg_dump", "--version"]).contains("pg_dump (PostgreSQL)"))
        }

        try await expectImageAnswersHealth(bundle: bundle)
    }

    @Test func pushToARegistryWithBasicAuth() async throws {
        let registry = try LocalRegistry(auth: .basic(user: "deployer", password: "correct-horse-battery"))
        defer {
            registry.stop()
            try? FileManager.default.removeItem(atPath: scratch)
        }
        let repository = "\(registry.host)/team/pet-backend:candidate"
        let anonymous = try await CommandRunner.run(["build", "--binary", petBackend, "--out", scratch + "/auth", "--push", repository])
        #expect(anonymous.status == 1)
        #expect(anonymous.stderr.contains("needs a username and password"), "\(anonymous.stderr)")
        let wrong = try await CommandRunner.run(
            ["build", "--binary", petBackend, "--out", scratch + "/auth", "--push", repository, "--username", "deployer"],
            environment: ["REGISTRY_PASSWORD": "wrong-password"])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("HTTP 401"), "\(wrong.stderr)")
        #expect(!wrong.stderr.contains("wrong-password"))
        let pushed = try await CommandRunner.run(
            ["build", "--binary", petBackend, "--out", scratch + "/auth", "--push", repository, "--username", "deployer"],
            environment: ["REGISTRY_PASSWORD": "correct-horse-battery"])
        #expect(pushed.status == 0, "\(pushed.stderr)")
        #expect(pushed.stdout.hasPrefix("\(registry.host)/team/pet-backend@sha256:"))
        #expect(!pushed.stderr.contains("correct-horse-battery") && !pushed.stdout.contains("correct-horse-battery"))
        let tags = try await tool(
            "skopeo",
            ["list-tags", "--tls-verify=false", "--creds", "deployer:correct-horse-battery", "docker://\(registry.host)/team/pet-backend"])
        #expect(tags.contains("\"candidate\""))
    }

    /// Runs the unpacked image with runc sharing the host network; where runc cannot run here
    /// (nested containers) it falls back to chroot and records that as a known issue.
    private func expectImageAnswersHealth(bundle: String) async throws {
        let port = LocalProcess.freePort()
        let environment = [
            "NODE_ENV=development", "PORT=\(port)", "HOST=127.0.0.1", "DATABASE_URL=postgres://nobody:x@127.0.0.1:1/none",
            "REDIS_URL=redis://127.0.0.1:1", "JWT_SECRET=" + String(repeating: "j", count: 40),
            "REFRESH_TOKEN_SECRET=" + String(repeating: "r", count: 40), "SESSION_SECRET=" + String(repeating: "s", count: 40),
            "ENCRYPTION_KEY=" + String(repeating: "e", count: 32), "CLERK_SECRET_KEY=sk_test_image",
        ]
        let configPath = bundle + "/config.json"
        var config = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: configPath))) as? [String: Any])
        var process = try #require(config["process"] as? [String: Any])
        process["terminal"] = false
        process["env"] = ((process["env"] as? [String]) ?? []) + environment
        config["process"] = process
        if var linux = config["linux"] as? [String: Any] {
            linux["namespaces"] = ((linux["namespaces"] as? [[String: Any]]) ?? []).filter { $0["type"] as? String != "network" }
            config["linux"] = linux
        }
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: configPath))

        let id = "orchestrate-test-\(port)"
        let runcRoot = scratch + "/runc"
        let runc = try #require(
            LocalProcess.executable("runc", searching: ["/usr/sbin"]), "runc is not installed (scripts/test installs it)")
        var runner = try LocalProcess(
            name: "runc", command: runc, arguments: ["--root", runcRoot, "run", "-b", bundle, id], logPath: scratch + "/runc.log")
        var answered = await LocalProcess.portOpens(port, within: .seconds(10))
        if !answered {
            // Where runc cannot run containers (nested in one that forbids it) the image is still
            // checked, with chroot, and the test says so instead of passing as if runc had run it.
            let log = (try? String(contentsOfFile: scratch + "/runc.log", encoding: .utf8)) ?? ""
            withKnownIssue("runc could not run the image here; checked with chroot instead") {
                Issue.record("runc: \(log.suffix(500))")
            }
            runner.stop()
            let chroot = try #require(LocalProcess.executable("chroot", searching: ["/usr/sbin"]))
            runner = try LocalProcess(
                name: "chroot", command: "/usr/bin/env",
                arguments: ["-i"] + environment + [
                    chroot, "--userspec=10001:10001", bundle + "/rootfs", "/usr/local/bin/pet-backend", "serve",
                ],
                logPath: scratch + "/chroot.log")
            answered = await LocalProcess.portOpens(port, within: .seconds(10))
        }
        defer {
            runner.stop()
            _ = try? LocalPostgres.runBlocking(runc, ["--root", runcRoot, "delete", "--force", id])
        }
        #expect(answered, "the unpacked image did not listen on \(port)")
        let url = try #require(URL(string: "http://127.0.0.1:\(port)/healthz"))
        let (body, response) = try await URLSession.shared.data(from: url)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: body, as: UTF8.self).contains("\"ok\""))
    }

    /// Runs a tool, expects success and returns what it printed.
    private func tool(_ name: String, _ arguments: [String]) async throws -> String {
        let path = try #require(LocalProcess.executable(name, searching: ["/usr/sbin"]), "\(name) is not installed")
        let log = scratch + "/\(name)-\(UUID().uuidString).log"
        let status = try await LocalPostgres.run(path, arguments, log: log)
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(status == 0, "\(name) \(arguments.joined(separator: " ")): \(output)")
        return output
    }
}
