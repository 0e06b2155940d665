import FlyMachinesAPI
import Manifests

/// A release's machine configuration, built from the same merged spec as the rendered fly.toml:
/// image by digest, the non-secret environment, the HTTP service, checks, guest, restart policy,
/// stop signal and metadata naming the environment, process group and release.
enum FlyMachineConfig {
    static let appGroup = "app"
    static let releaseKey = "orchestrate_release"
    static let environmentKey = "orchestrate_environment"
    /// A token per create: a create whose answer was lost is found by it instead of created twice.
    static let createKey = "orchestrate_create"

    static func serving(_ configuration: ReleaseConfiguration, settings: FlyMachineSettings, environment: String, release: Int)
        -> MachineConfig
    {
        var config = MachineConfig()
        config.image = configuration.artifact.reference
        config.env = .init(additionalProperties: configuration.variables)
        config.guest = .init(cpu_kind: settings.cpuKind, cpus: settings.cpus, memory_mb: settings.memoryMB)
        config.services = [
            .init(
                autostart: settings.autoStart, autostop: .init(rawValue: settings.autoStop),
                concurrency: .init(hard_limit: settings.hardLimit, soft_limit: settings.softLimit, _type: settings.concurrencyType),
                internal_port: settings.internalPort, min_machines_running: settings.minRunning,
                ports: [
                    .init(force_https: true, handlers: ["http"], port: 80),
                    .init(handlers: ["tls", "http"], port: 443),
                ], _protocol: "tcp")
        ]
        config.checks = .init(
            additionalProperties: settings.checks.mapValues { check in
                .init(
                    grace_period: "\(check.gracePeriodSeconds)s", interval: "\(check.intervalSeconds)s", method: "GET", path: check.path,
                    port: settings.internalPort, timeout: "\(check.timeoutSeconds)s", _type: "http")
            })
        config.restart = .init(max_retries: 10, policy: .on_hyphen_failure)
        config.stop_config = .init(signal: .SIGTERM, timeout: "\(settings.stopTimeoutSeconds)s")
        config.metadata = .init(additionalProperties: [
            "fly_platform_version": "v2", "fly_process_group": appGroup, environmentKey: environment, releaseKey: String(release),
        ])
        return config
    }

    /// The one-off machine that runs the release command: the release's image and environment,
    /// the command as arguments to the image's entrypoint, never restarted, destroyed when done.
    static let backupCommand = ["pet-backend", "backup"]
    static let backupGroup = "backup"
    static let scheduledBackupName = "backup-schedule"

    /// The scheduled backup: the backup's one-off shape, kept (not destroyed) and started by Fly on
    /// its schedule; the process exits and the machine stops until the next time.
    static func scheduledBackup(_ configuration: ReleaseConfiguration, spec: EnvironmentSpec, backups: BackupSpec, release: Int)
        -> MachineConfig?
    {
        guard let schedule = FlySchedule.from(cron: backups.schedule) else { return nil }
        var config = backup(configuration, spec: spec, backups: backups, environment: spec.name, release: release)
        config.env?.additionalProperties["RELEASE_COMMAND"] = nil
        config.auto_destroy = false
        config.schedule = schedule
        return config
    }

    /// The backup's one-off machine: the release command's shape, with the backup's settings.
    static func backup(_ configuration: ReleaseConfiguration, spec: EnvironmentSpec, backups: BackupSpec, environment: String, release: Int)
        -> MachineConfig
    {
        let extra = Dictionary(BackupJobEnvironment.settings(spec, backups: backups).map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
        return releaseCommand(
            configuration, command: backupCommand, environment: environment, release: release, extra: extra, processGroup: backupGroup)
    }

    static func releaseCommand(
        _ configuration: ReleaseConfiguration, command: [String], environment: String, release: Int, extra: [String: String] = [:],
        processGroup: String = "fly_app_release_command"
    ) -> MachineConfig {
        var config = MachineConfig()
        config.image = configuration.artifact.reference
        var env = configuration.variables
        env["RELEASE_COMMAND"] = "1"
        env.merge(extra) { $1 }
        config.env = .init(additionalProperties: env)
        if let arguments = ImageEntrypoint.arguments(for: command) {
            config._init = .init(cmd: arguments)
        } else {
            config._init = .init(cmd: Array(command.dropFirst()), entrypoint: [command[0]])
        }
        config.guest = configuration.fly.map { .init(cpu_kind: $0.cpuKind, cpus: $0.cpus, memory_mb: $0.memoryMB) }
        config.restart = .init(policy: .no)
        config.auto_destroy = true
        config.metadata = .init(additionalProperties: [
            "fly_platform_version": "v2", "fly_process_group": processGroup, environmentKey: environment,
            releaseKey: String(release),
        ])
        return config
    }
}
