import Crypto
import Foundation
import Manifests
import ProcessSupport

/// `--target local`: the environment on this machine.
struct LocalPlatform: FleetPlatform {
    let spec: EnvironmentSpec
    let target: LocalTarget
    let paths: LocalPaths
    let templates: TemplateSet
    let localFleet: LocalFleet

    var targetName: String { "local" }

    func verifyRoute(to instance: InstanceStatus) -> VerifyRoute { VerifyRoute(endpoints: [instance.address]) }
    var fleet: any InstanceFleet { localFleet }
    var history: any ReleaseHistory { LocalReleaseHistory(paths: paths) }
    var postgres: LocalPostgres { LocalPostgres(paths: paths, port: target.postgresPort) }
    var redis: LocalRedis { LocalRedis(paths: paths, port: target.redisPort) }

    init(spec: EnvironmentSpec, stateDirectory: String, templates: TemplateSet, orchestratePath: String) throws {
        guard let target = spec.targets.local else {
            throw DeployFailure(
                kind: .invalid,
                message:
                    "\(spec.name) has no `targets.local` in \(spec.files.last ?? "its spec"); add `targets: { local: { basePort: 15400 } }`"
            )
        }
        self.spec = spec
        self.target = target
        self.templates = templates
        paths = LocalPaths(stateDirectory: stateDirectory, environment: spec.name)
        localFleet = LocalFleet(environment: spec.name, paths: paths, target: target, orchestratePath: orchestratePath)
    }

    func observe() async throws -> LiveState {
        let secretsPresent = FileManager.default.fileExists(atPath: paths.secrets)
        let components = [
            ComponentStatus(name: "secrets", present: secretsPresent, detail: "generated values in \(paths.secrets) (mode 0600)"),
            ComponentStatus(name: "postgres", present: await postgres.isAccepting(), detail: postgres.detail),
            ComponentStatus(name: "redis", present: redis.runningPID != nil, detail: redis.detail),
        ]
        var instances = try await localFleet.instances()
        let current = try await history.current()
        // Whether it answers now: the rollout's crash-loop rule (restarts within a minute) is a
        // verdict on a release, not on an instance that serves again.
        for index in instances.indices where instances[index].state == .running {
            let path = current?.configuration.livenessPath ?? "/healthz"
            instances[index].healthy = await HTTPProbe.get(instances[index].address + path) == .healthy
        }
        return LiveState(components: components, current: current, instances: instances)
    }

    /// What the spec asks for with this build; secrets that do not exist yet count as their
    /// future values' digest so a first plan and its apply agree.
    func desired(binary: String) throws -> DesiredState {
        let artifact = Artifact(digest: try FileDigest.sha256(of: binary), reference: binary)
        let secrets = try LocalSecrets.load(paths.secrets)
        let digest = secrets?.digest(of: spec.secrets.map(\.name)) ?? "(generated at apply)"
        var configuration = ReleaseConfiguration(spec: spec, artifact: artifact, secretsDigest: digest)
        configuration.secretDigests = secrets?.digests(of: spec.secrets.map(\.name))
        return DesiredState(
            components: [
                ComponentStatus(name: "secrets", present: true, detail: "generated values in \(paths.secrets) (mode 0600)"),
                ComponentStatus(name: "postgres", present: true, detail: postgres.detail),
                ComponentStatus(name: "redis", present: true, detail: redis.detail),
            ], configuration: configuration)
    }

    func prepare(_ desired: DesiredState, progress: any ProgressReporter) async throws -> ReleaseConfiguration {
        let secrets = try await ensureComponents(progress: progress)
        try importArtifact(desired.configuration.artifact)
        var configuration = desired.configuration
        configuration.secretsDigest = secrets.digest(of: spec.secrets.map(\.name))
        configuration.secretDigests = secrets.digests(of: spec.secrets.map(\.name))
        return configuration
    }

    func startComponents(progress: any ProgressReporter) async throws {
        _ = try await ensureComponents(progress: progress)
    }

    private func ensureComponents(progress: any ProgressReporter) async throws -> LocalSecrets {
        try FileManager.default.createDirectory(atPath: paths.root, withIntermediateDirectories: true)
        // The backup bucket's keys are real keys or nothing: never generated.
        let secrets = try LocalSecrets.ensure(
            paths.secrets, secrets: spec.secrets.filter { !spec.backupOnlySecrets.contains($0.name) },
            provided: [
                "DATABASE_URL": LocalPostgres.url(port: target.postgresPort, password: LocalSecrets.randomText(count: 32)),
                "REDIS_URL": LocalRedis.url(port: target.redisPort, password: LocalSecrets.randomText(count: 32)),
            ])
        let rendered = try Renderer.render(spec, options: RenderOptions(targets: []), templates: templates)
        func file(_ path: String) -> String { rendered.first { $0.path == path }?.contents ?? "" }
        try await postgres.ensure(
            password: Self.password(in: secrets.values["DATABASE_URL"]), tuningSQL: file("postgres/primary.sql"), progress: progress)
        try await redis.ensure(
            renderedConfig: file("redis.conf"), password: Self.password(in: secrets.values["REDIS_URL"]), progress: progress)
        return secrets
    }

    /// Keeps the build by digest; refuses when the file changed since the plan was made.
    private func importArtifact(_ artifact: Artifact) throws {
        let stored = paths.artifact(artifact.digest)
        if FileManager.default.fileExists(atPath: stored) { return }
        guard try FileDigest.sha256(of: artifact.reference) == artifact.digest else {
            throw DeployFailure(kind: .stalePlan, message: "\(artifact.reference) changed since the plan was made; plan again")
        }
        try FileManager.default.createDirectory(atPath: (stored as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: stored + ".partial")
        try FileManager.default.copyItem(atPath: artifact.reference, toPath: stored + ".partial")
        chmod(stored + ".partial", 0o755)
        guard rename(stored + ".partial", stored) == 0 else { throw LocalServiceError("cannot store the build at \(stored)") }
    }

    func runReleaseCommand(of release: ReleaseRecord, progress: any ProgressReporter) async throws {
        guard let command = release.configuration.releaseCommand, !command.isEmpty else { return }
        let binary = paths.artifact(release.configuration.artifact.digest)
        // `pet-backend migrate` runs with this release's build, not whatever is on PATH.
        let program = command[0] == "pet-backend" ? binary : (ProcessLauncher.executable(command[0]) ?? command[0])
        progress.step("release command: \(command.joined(separator: " "))")
        var environment = release.configuration.variables
        environment.merge((try LocalSecrets.load(paths.secrets))?.values ?? [:]) { _, secret in secret }
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let log = paths.releaseCommandLog(release.id)
        let status = try await ProcessLauncher.run(
            program, arguments: Array(command.dropFirst()), environment: environment, logPath: log,
            timeout: .seconds(release.configuration.releaseCommandTimeoutSeconds))
        guard status == 0 else {
            let lines = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").suffix(15).map(String.init)
            let reason =
                status.map { "exited with status \($0)" } ?? "timed out after \(release.configuration.releaseCommandTimeoutSeconds)s"
            throw RolloutFailure(instance: "release command", check: command.joined(separator: " "), reason: reason, logLines: lines)
        }
    }

    /// Stops instances, then Redis and PostgreSQL; data, secrets and releases stay.
    func down(progress: any ProgressReporter) async throws {
        for instance in try await localFleet.instances() {
            progress.instance(instance.name, "stopping")
            try await localFleet.stop(instance.name)
            progress.instance(instance.name, "stopped")
        }
        progress.step("stopping Redis")
        await redis.stop()
        progress.step("stopping PostgreSQL")
        try await postgres.stop()
    }

    static func password(in url: String?) -> String {
        guard let url, let components = URLComponents(string: url) else { return "" }
        return components.password ?? ""
    }
}

enum FileDigest {
    static func sha256(of path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DeployFailure(kind: .invalid, message: "cannot read the build \(path); build it first or pass --binary")
        }
        defer { try? handle.close() }
        var hash = SHA256()
        while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty {
            hash.update(data: chunk)
        }
        return "sha256:" + hash.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
