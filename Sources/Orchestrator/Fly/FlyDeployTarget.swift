import Foundation
import Manifests

/// Fly behind the deploy seam: the engine's plan, rollout and rollback over the app's machines,
/// locked by a lease on the app's ledger machine.
struct FlyDeployTarget: DeployTarget {
    let spec: EnvironmentSpec
    let target: FlyTarget
    let platform: FlyPlatform
    /// The image to deploy, by digest; nil: the current release's.
    let image: String?

    /// Where the API is and who calls it: FLY_API_HOSTNAME (else `targets.fly.apiHostname`, else
    /// Fly's) and FLY_API_TOKEN, which is never taken from the command line.
    static func connect(
        spec: EnvironmentSpec, requestTimeout: Duration, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> FlyAPI {
        guard let target = spec.targets.fly else {
            throw DeployFailure(kind: .invalid, message: "\(spec.name) has no `targets.fly` in \(spec.files.last ?? "its spec")")
        }
        guard let token = environment["FLY_API_TOKEN"]?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
            throw DeployFailure(
                kind: .invalid,
                message:
                    "FLY_API_TOKEN is not set; create a deploy token with `fly tokens create deploy -a \(target.app)` and export it as FLY_API_TOKEN"
            )
        }
        let host = environment["FLY_API_HOSTNAME"].flatMap { $0.isEmpty ? nil : $0 } ?? target.apiHostname ?? "https://api.machines.dev"
        return try FlyAPI(app: target.app, host: host, token: token, requestTimeout: requestTimeout)
    }

    private var commands: FleetCommands { FleetCommands(spec: spec, platform: platform) }
    private var api: FlyAPI { platform.api }

    func locked<Value: Sendable>(command: String, _ body: @Sendable () async throws -> Value) async throws -> Value {
        try await translatingErrors {
            if try await !api.appExists() {
                guard command.hasPrefix("orchestrate apply") else {
                    throw DeployFailure(
                        kind: .invalid,
                        message:
                            "Fly app \(target.app) does not exist; `orchestrate apply \(spec.name) --target fly` creates it in \(target.org)"
                    )
                }
                try await checkRegions()
                Progress.reporter().step("creating Fly app \(target.app) in \(target.org)")
                try await api.createApp(org: target.org)
            }
            let current = try await platform.ledger.current()
            guard let ledgerImage = image ?? current?.configuration.artifact.reference else {
                throw DeployFailure(kind: .invalid, message: "nothing has been deployed to \(target.app) yet; `orchestrate apply` first")
            }
            let ledger = try await platform.ledger.ensure(image: ledgerImage, region: target.primaryRegion)
            let lease = FlyLease(
                api: api, machine: ledger, description: "\(command) by \(DeployOptions.actor)",
                // Two lease lifetimes: a dead run's last refresh may land after its release.
                patience: .seconds(65))
            do {
                return try await lease.holding(body)
            } catch let held as FlyLease.Held {
                throw DeployFailure(kind: .locked, message: "\(target.app) is locked: \(held)")
            }
        }
    }

    func plan() async throws -> Plan {
        try await translatingErrors {
            var plan = try await commands.plan(desired: try await platform.desired(image: try await imageToDeploy()))
            // `apply PLANFILE` reopens the target with it: the ledger of a first deploy needs an image.
            plan.image = plan.desired?.configuration.artifact.reference
            return plan
        }
    }

    func liveFingerprint() async throws -> String {
        try await translatingErrors { try await platform.observe().fingerprint }
    }

    func apply(_ plan: Plan, gates: ReleaseGates) async throws -> TargetReport {
        try await translatingErrors {
            try await checkRegions()
            let report = try await commands.apply(plan, gates: gates)
            try await platform.ensureBackupSchedule(progress: Progress.reporter())
            return report
        }
    }

    func publicEndpoints() async throws -> [String] { [target.verifyAddress] }
    func deployable(_ artifact: Artifact) -> String { artifact.reference }

    func currentRelease() async throws -> ReleaseSummary? {
        try await translatingErrors { try await api.appExists() ? try await commands.currentRelease() : nil }
    }

    func record(on release: ReleaseSummary, verification: VerificationRecord?, origin: PromotionOrigin?, failed: String?) async throws {
        try await translatingErrors {
            try await commands.record(on: release, verification: verification, origin: origin, failed: failed)
        }
    }

    func rollback(to release: String?) async throws -> TargetReport {
        try await translatingErrors {
            let report = try await commands.rollback(to: release)
            try await platform.ensureBackupSchedule(progress: Progress.reporter())
            return report
        }
    }

    func releases() async throws -> TargetReport {
        try await translatingErrors { try await commands.releases() }
    }

    func status() async throws -> TargetReport {
        try await translatingErrors { try await commands.status() }
    }

    func down() async throws -> TargetReport {
        try await translatingErrors {
            let stopped = try await platform.down(progress: Progress.reporter())
            return TargetReport(
                text: "\(spec.name): stopped \(stopped) machine(s) of \(target.app); `orchestrate apply \(spec.name)` starts them again",
                json: try JSONCoding.encode(["environment": spec.name, "state": "stopped", "machinesStopped": String(stopped)]))
        }
    }

    func secretStore() throws -> any SecretStore { FlySecretStore(api: api, ledger: platform.ledger) }

    func close() async {}

    private func imageToDeploy() async throws -> String {
        if let image { return image }
        if try await api.appExists(), let current = try await platform.ledger.current() { return current.configuration.artifact.reference }
        throw DeployFailure(
            kind: .invalid, message: "Fly needs the image to deploy: pass --image REPO@sha256:… (`orchestrate build` prints it)")
    }

    /// Every region of the spec must be one Fly has, or the first create would fail half-way.
    private func checkRegions() async throws {
        let known = Set(try await api.regions())
        guard !known.isEmpty else { return }
        for region in [target.primaryRegion] + target.regions where !known.contains(region) {
            throw DeployFailure(
                kind: .invalid,
                message:
                    "Fly has no region `\(region)` (targets.fly in \(spec.files.last ?? "the spec")); `fly platform regions` lists them, such as \(known.sorted().prefix(6).joined(separator: ", "))"
            )
        }
    }

    /// Fly's answers the user can act on, said so.
    private func translatingErrors<Value>(_ body: () async throws -> Value) async throws -> Value {
        do {
            return try await body()
        } catch let error as FlyAPIError where error.status == 401 || error.status == 403 {
            throw DeployFailure(
                kind: .invalid,
                message:
                    "Fly refused FLY_API_TOKEN (\(error.status): \(error.message)); create a deploy token with `fly tokens create deploy -a \(target.app)` and export it as FLY_API_TOKEN"
            )
        } catch let error as FlyAPIError {
            throw DeployFailure(kind: .invalid, message: error.description)
        } catch let held as FlyLease.Held {
            throw DeployFailure(kind: .locked, message: held.description)
        }
    }
}
