import FlyFake
import FlyMachinesAPI
import Foundation
import Manifests
import TestSupport

@testable import Orchestrator

/// One Fly app on the fake Fly server, with its own environments folder, and `orchestrate`
/// run against it as a user would (FLY_API_HOSTNAME, FLY_API_TOKEN).
struct FlyHarness {
    static let environment = "fly-e2e"
    static let app = "pet-backend-e2e"
    static func image(_ letter: Character) -> String {
        "registry.fly.io/pet-backend@sha256:" + String(repeating: letter, count: 64)
    }

    let server: FakeFlyServer
    let folder: String
    var fly: FakeFly { server.fly }

    /// `deploy` adds keys to the spec's `deploy:` (`strategy: canary`), `overrides` top-level ones.
    init(
        _ label: String, deploy: String = "", fly: String = "", overrides: String = "", appExists: Bool = true,
        secrets: Bool = true, latency: Duration = .zero
    ) async throws {
        server = try await FakeFlyServer(latency: latency)
        folder = try LocalProcess.temporaryDirectory("fly-\(label)")
        let environments = folder + "/environments"
        try FileManager.default.createDirectory(atPath: environments, withIntermediateDirectories: true)
        for file in ["base.yaml", "staging.yaml"] {
            try FileManager.default.copyItem(
                atPath: "\(CommandRunner.repositoryRoot)/environments/\(file)", toPath: "\(environments)/\(file)")
        }
        try Self.spec(deploy: deploy, fly: fly, overrides: overrides).write(
            toFile: "\(environments)/\(Self.environment).yaml", atomically: true, encoding: .utf8)
        if appExists { server.fly.createApp(Self.app, org: "pet-org") }
        if secrets { try setRequiredSecrets() }
    }

    /// `fly` adds keys to `targets.fly` (`regions: [fra]`).
    static func spec(deploy: String, fly: String = "", overrides: String) -> String {
        """
        extends: staging
        health:
          liveness: { path: /healthz, initialDelay: 1s, period: 10s, timeout: 2s, failureThreshold: 3 }
          readiness: { path: /healthz, initialDelay: 1s, period: 5s, timeout: 2s, failureThreshold: 3 }
        deploy:
          healthTimeout: 15s
          releaseCommandTimeout: 20s
          \(deploy)
        targets:
          fly:
            app: \(Self.app)
            org: pet-org
            primaryRegion: iad
            \(fly)
        \(overrides)
        """
    }

    func spec() throws -> EnvironmentSpec {
        try SpecLoader.load(path: "\(folder)/environments/\(Self.environment).yaml").get()
    }

    /// Values that meet the spec's rules for every required secret, set as `fly secrets set` would.
    func setRequiredSecrets() throws {
        for secret in try spec().secrets where secret.required {
            fly.setSecret(
                secret.name, secret.format == .url ? "postgres://user:pw@db.internal:5432/app" : LocalSecrets.generate(for: secret))
        }
    }

    func orchestrate(_ arguments: [String], token: String? = "test-token", input: String? = nil) async throws -> CommandRunner.Outcome {
        guard !arguments.isEmpty else { throw FlyHarnessError.noCommand }
        return try await CommandRunner.run(self.arguments(arguments), in: folder, environment: environment(token: token), input: input)
    }

    /// What `orchestrate` is run with: FLY_API_HOSTNAME and the token.
    func environment(token: String? = "test-token") -> [String: String] {
        ["FLY_API_HOSTNAME": server.url, "FLY_API_TOKEN": token ?? ""]
    }

    func arguments(_ arguments: [String]) -> [String] {
        // `secrets set ENV …`: the environment follows the whole command's name.
        let words = arguments.first == "secrets" ? 2 : 1
        return Array(arguments.prefix(words)) + [Self.environment] + arguments.dropFirst(words) + [
            "--target", "fly", "--environments", folder + "/environments",
        ]
    }

    /// Rewrites the environment's own spec file (the staging spec stays under it).
    func respec(deploy: String = "", overrides: String = "") throws {
        try Self.spec(deploy: deploy, overrides: overrides).write(
            toFile: "\(folder)/environments/\(Self.environment).yaml", atomically: true, encoding: .utf8)
    }

    var serving: [Components.Schemas.Machine] { fly.servingMachines }
}

extension Components.Schemas.Machine {
    var metadata: [String: String] { config?.metadata?.additionalProperties ?? [:] }
    var env: [String: String] { config?.env?.additionalProperties ?? [:] }
}

enum FlyHarnessError: Error {
    case noCommand
}
