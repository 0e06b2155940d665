import FlyMachinesAPI
import Foundation
import Manifests

/// `--target fly`: one Fly app per environment, its machines the engine's instances, its
/// release history and lock on the app's ledger machine (FlyLedger).
struct FlyPlatform: FleetPlatform {
    let spec: EnvironmentSpec
    let target: FlyTarget
    let api: FlyAPI
    let ledger: FlyLedger
    let flyFleet: FlyFleet
    /// How long to wait before asking again about a release machine Fly does not list yet.
    var releaseCommandPollInterval: Duration = .seconds(1)

    var targetName: String { "fly" }
    var fleet: any InstanceFleet { flyFleet }
    var history: any ReleaseHistory { ledger }

    /// Fly's proxy sends a request carrying `fly-force-instance-id` to that machine only.
    func verifyRoute(to instance: InstanceStatus) -> VerifyRoute {
        VerifyRoute(endpoints: [target.verifyAddress], headers: [("fly-force-instance-id", instance.name)])
    }

    init(spec: EnvironmentSpec, target: FlyTarget, api: FlyAPI) {
        self.spec = spec
        self.target = target
        self.api = api
        ledger = FlyLedger(api: api, environment: spec.name)
        flyFleet = FlyFleet(api: api, environment: spec.name, actor: DeployOptions.actor)
    }

    func observe() async throws -> LiveState {
        guard try await api.appExists() else {
            return LiveState(
                components: [ComponentStatus(name: "app", present: false, detail: "Fly app \(target.app) does not exist")],
                current: nil, instances: [])
        }
        let missing = try await missingSecrets()
        let components = [
            ComponentStatus(name: "app", present: true, detail: "Fly app \(target.app) in \(target.org)"),
            ComponentStatus(
                name: "secrets", present: missing.isEmpty,
                detail: missing.isEmpty ? "every required secret is set" : "not set on Fly: \(missing.joined(separator: ", "))"),
        ]
        return LiveState(components: components, current: try await ledger.current(), instances: try await flyFleet.instances())
    }

    /// What the spec asks for with `image`; secrets count by the digests Fly keeps of them.
    func desired(image: String) async throws -> DesiredState {
        guard let at = image.range(of: "@sha256:") else {
            throw DeployFailure(
                kind: .invalid,
                message:
                    "Fly deploys an image by digest, and `\(image)` has none; pass --image REPO@sha256:… (`orchestrate build` prints it)")
        }
        let artifact = Artifact(digest: String(image[at.lowerBound...].dropFirst()), reference: image)
        let exists = try await api.appExists()
        var configuration = ReleaseConfiguration(
            spec: spec, artifact: artifact, secretsDigest: exists ? try await secretsDigest() : "(none set yet)")
        // Fly's proxy sets Fly-Client-IP (a client cannot forge it); the fly.toml says the same.
        for variable in FlyConfigRenderer.platformVariables { configuration.variables[variable.name] = variable.value }
        configuration.secretDigests = exists ? try await secretDigests() : nil
        configuration.fly = FlyMachineSettings(
            spec: spec, fly: target, secretsVersion: exists ? try await ledger.secretsVersion() : nil)
        return DesiredState(
            components: [
                ComponentStatus(name: "app", present: true, detail: "Fly app \(target.app) in \(target.org)"),
                ComponentStatus(name: "secrets", present: true, detail: "every required secret is set"),
            ], configuration: configuration)
    }

    func prepare(_ desired: DesiredState, progress: any ProgressReporter) async throws -> ReleaseConfiguration {
        if try await !api.appExists() {
            progress.step("creating Fly app \(target.app) in \(target.org)")
            try await api.createApp(org: target.org)
        }
        let missing = try await missingSecrets()
        guard missing.isEmpty else {
            throw DeployFailure(
                kind: .invalid,
                message:
                    "\(target.app) lacks required secrets: \(missing.joined(separator: ", ")); set them with `orchestrate secrets set \(spec.name) \(missing.joined(separator: " ")) --target fly` (values from standard input)"
            )
        }
        var configuration = desired.configuration
        configuration.secretsDigest = try await secretsDigest()
        configuration.secretDigests = try await secretDigests()
        configuration.fly?.secretsVersion = try await ledger.secretsVersion()
        return configuration
    }

    func startComponents(progress: any ProgressReporter) async throws {}

    private func missingSecrets() async throws -> [String] {
        let present = Set(try await api.secrets().compactMap(\.name))
        return spec.secrets.filter { $0.required && !present.contains($0.name) }.map(\.name).sorted()
    }

    /// Changes when any value changes, from the digests Fly keeps; values never leave Fly.
    private func secretsDigest() async throws -> String {
        Fingerprint.sha256(try await secretDigests().sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n"))
    }

    private func secretDigests() async throws -> [String: String] {
        let wanted = Set(spec.secrets.map(\.name))
        return Dictionary(
            try await api.secrets().compactMap { secret in
                secret.name.flatMap { wanted.contains($0) ? ($0, secret.digest ?? "") : nil }
            }, uniquingKeysWith: { $1 })
    }

    /// The release command on a one-off machine with the release's image and the app's secrets;
    /// its exit code comes from the machine's last exit event.
    func runReleaseCommand(of release: ReleaseRecord, progress: any ProgressReporter) async throws {
        guard let command = release.configuration.releaseCommand, !command.isEmpty else { return }
        progress.step("release command on a one-off machine: \(command.joined(separator: " "))")
        let config = FlyMachineConfig.releaseCommand(release.configuration, command: command, environment: spec.name, release: release.id)
        try await runOneOff(
            config, name: "release-\(release.name)", label: "release command", command: command,
            timeoutSeconds: release.configuration.releaseCommandTimeoutSeconds, secretsVersion: release.configuration.fly?.secretsVersion)
        progress.step("release command exited 0")
    }

    /// `pet-backend backup` on a one-off machine with the new release's image (which carries
    /// pg_dump) and the app's secrets (DATABASE_URL and the bucket's keys).
    func backupBeforeRelease(of release: ReleaseRecord, serving current: ReleaseRecord?, progress: any ProgressReporter) async throws {
        guard let backups = spec.backups, backups.takesBackupBeforeRelease(production: spec.app.runtime == .production) else { return }
        progress.step("backing up the database before \(release.name)'s release command, on a one-off machine (backups.beforeRelease)")
        let command = FlyMachineConfig.backupCommand
        let config = FlyMachineConfig.backup(
            release.configuration, spec: spec, backups: backups, environment: spec.name, release: release.id)
        do {
            try await runOneOff(
                config, name: "backup-before-\(release.name)", label: "backup", command: command,
                timeoutSeconds: release.configuration.releaseCommandTimeoutSeconds,
                secretsVersion: release.configuration.fly?.secretsVersion)
        } catch let failure as RolloutFailure {
            throw BackupBeforeReleaseFailure(reason: failure.description)
        }
        progress.step("backup taken (the machine exited 0)")
    }

    private func runOneOff(
        _ config: MachineConfig, name: String, label: String, command: [String], timeoutSeconds timeout: Int, secretsVersion: Int?
    ) async throws {
        let machine = try await api.createOnce(
            .init(config: .init(value1: config), min_secrets_version: secretsVersion, name: name, region: target.primaryRegion))
        guard let id = machine.id else {
            throw FlyAPIError(operation: "Machines_create", status: 200, message: "no machine id in the answer")
        }
        let deadline = ContinuousClock.now + .seconds(timeout)
        var finished = false
        while !finished, ContinuousClock.now < deadline {
            try Task.checkCancellation()
            do {
                finished = try await api.wait(id, version: machine.instance_id, state: .destroyed, timeoutSeconds: 60)
            } catch let error as FlyAPIError where error.status == 404 {
                try await Task.sleep(for: releaseCommandPollInterval)
            }
            if !finished, let now = try await api.machine(id), ["stopped", "destroyed", "failed"].contains(now.state ?? "") {
                finished = true
            }
        }
        let events = try await api.events(id)
        let lines = FlyFleet.describe(events)
        let check = command.joined(separator: " ")
        guard finished else {
            try? await api.destroy(id)
            throw RolloutFailure(instance: label, check: check, reason: "did not finish within \(timeout)s", logLines: lines)
        }
        let exit = events.filter { $0._type == "exit" }.max { ($0.timestamp ?? 0) < ($1.timestamp ?? 0) }
        guard let code = exit.flatMap(FlyFleet.exitCode) else {
            throw RolloutFailure(instance: label, check: check, reason: "its machine left no exit code", logLines: lines)
        }
        guard code == 0 else {
            throw RolloutFailure(instance: label, check: check, reason: "exited with code \(code)", logLines: lines)
        }
    }

    /// Stops every serving machine and keeps them, their configuration and the history.
    func down(progress: any ProgressReporter) async throws -> Int {
        let running = try await flyFleet.instances().filter { $0.state != .stopped }
        for instance in running {
            progress.instance(instance.name, "stopping")
            try await flyFleet.halt(instance.name)
            progress.instance(instance.name, "stopped")
        }
        return running.count
    }
}
