import Manifests

/// What a Fly release sets on its machines beyond the build and environment: kept in the
/// release so that a rollback restores the guest size, services, checks and secrets version too.
struct FlyMachineSettings: Codable, Equatable, Sendable {
    struct Check: Codable, Equatable, Sendable {
        var path: String
        var intervalSeconds: Int
        var timeoutSeconds: Int
        var gracePeriodSeconds: Int
    }

    var cpuKind: String
    var cpus: Int
    var memoryMB: Int
    var internalPort: Int
    var concurrencyType: String
    var softLimit: Int
    var hardLimit: Int
    var autoStop: String
    var autoStart: Bool
    var minRunning: Int
    /// By check name: `alive` (liveness), `ready` (readiness), `detailed` (detailed health).
    var checks: [String: Check]
    /// Region code → machine count.
    var regions: [String: Int]
    var primaryRegion: String
    /// The app secrets version the release's machines must see (`min_secrets_version`).
    var secretsVersion: Int?
    var stopTimeoutSeconds: Int

    init(spec: EnvironmentSpec, fly: FlyTarget, secretsVersion: Int?) {
        let size = fly.vmSize.rawValue
        cpuKind = size.hasPrefix("performance") ? "performance" : "shared"
        cpus = Int(size.split(separator: "-").last?.dropLast() ?? "1") ?? 1
        memoryMB = Int((fly.memory ?? spec.resources.limits.memory).wholeMebibytes)
        internalPort = spec.app.port
        concurrencyType = fly.concurrency.type.rawValue
        softLimit = fly.concurrency.softLimit
        hardLimit = fly.concurrency.hardLimit
        autoStop = fly.autoStopMachines.rawValue
        autoStart = fly.autoStartMachines
        minRunning = spec.scaling.replicas.min
        var checks: [String: Check] = [:]
        func check(_ probe: HealthSpec.Probe) -> Check {
            Check(
                path: probe.path, intervalSeconds: Int(probe.period.seconds), timeoutSeconds: Int(probe.timeout.seconds),
                gracePeriodSeconds: Int(probe.initialDelay.seconds))
        }
        if let liveness = spec.health.liveness { checks["alive"] = check(liveness) }
        if let readiness = spec.health.readiness { checks["ready"] = check(readiness) }
        checks["detailed"] = Check(path: spec.health.detailedPath, intervalSeconds: 15, timeoutSeconds: 5, gracePeriodSeconds: 10)
        self.checks = checks
        regions = Dictionary(fly.machinesPerRegion(spec.scaling.replicas.min).map { ($0.region, $0.count) }, uniquingKeysWith: +)
        primaryRegion = fly.primaryRegion
        self.secretsVersion = secretsVersion
        stopTimeoutSeconds = 30
    }

    /// The settings as plan rows: `field → value`, compared between releases.
    var fields: [String: String] {
        var fields = [
            "guest": "\(cpus) \(cpuKind) cpu, \(memoryMB) MB",
            "concurrency": "\(concurrencyType) \(softLimit)/\(hardLimit)",
            "auto stop/start": "\(autoStop)/\(autoStart), min \(minRunning) running",
            "internal port": String(internalPort),
            "secrets version": secretsVersion.map(String.init) ?? "-",
        ]
        for (region, count) in regions { fields["machines in \(region)"] = String(count) }
        for (name, check) in checks {
            fields["check \(name)"] = "GET \(check.path) every \(check.intervalSeconds)s, timeout \(check.timeoutSeconds)s"
        }
        return fields
    }
}
