/// Renders `fly.toml` for an environment with a `targets.fly`, merged over `templates/fly.toml`.
public enum FlyConfigRenderer {
    /// What every machine on Fly is told besides the service's own environment. Fly's proxy sets
    /// Fly-Client-IP itself (a client cannot forge it); without it every client would share the
    /// proxy's address in the rate limiter.
    public static let platformVariables: [(name: String, value: String)] = [("TRUSTED_CLIENT_IP_HEADER", "Fly-Client-IP")]

    static func render(_ spec: EnvironmentSpec, fly: FlyTarget, image: String, template: ManifestValue) -> ManifestValue {
        let variables = ServiceEnvironment.variables(for: spec) + platformVariables
        let env = ManifestValue.map(variables.map { ManifestField($0.name, .string($0.value)) })
        let overlay: ManifestValue = [
            "app": .string(fly.app),
            "primary_region": .string(fly.primaryRegion),
            "build": ["image": .string(image)],
            "env": env,
            "http_service": [
                "internal_port": .integer(spec.app.port),
                "auto_stop_machines": .string(fly.autoStopMachines.rawValue),
                "auto_start_machines": .boolean(fly.autoStartMachines),
                "min_machines_running": .integer(spec.scaling.replicas.min),
                "concurrency": [
                    "type": .string(fly.concurrency.type.rawValue),
                    "soft_limit": .integer(fly.concurrency.softLimit),
                    "hard_limit": .integer(fly.concurrency.hardLimit),
                ],
                "checks": .optional(spec.health.readiness.map { [check($0)] }),
            ],
            "deploy": deploySection(spec),
            "vm": [
                [
                    "size": .string(fly.vmSize.rawValue),
                    "memory": .string("\((fly.memory ?? spec.resources.limits.memory).wholeMebibytes)mb"),
                ]
            ],
            "metrics": ["port": .integer(spec.health.metricsPort ?? spec.app.port), "path": .string(spec.health.metricsPath)],
        ]
        return template.merging(overlay)
    }

    private static func check(_ probe: HealthSpec.Probe) -> ManifestValue {
        [
            "grace_period": .string(probe.initialDelay.description),
            "interval": .string(probe.period.description),
            "timeout": .string(probe.timeout.description),
            "method": "GET",
            "path": .string(probe.path),
        ]
    }

    private static func deploySection(_ spec: EnvironmentSpec) -> ManifestValue {
        let maxUnavailable: ManifestValue
        switch spec.deploy.maxUnavailable {
        case .count(let count): maxUnavailable = .integer(count)
        case .percent(let share): maxUnavailable = .number(share.fraction)
        }
        return [
            "strategy": .string(spec.deploy.strategy.rawValue),
            "release_command": .optional(
                spec.deploy.releaseCommand.map { .string(ShellWords.join(ImageEntrypoint.arguments(for: $0) ?? $0)) }),
            "max_unavailable": spec.deploy.strategy == .rolling ? maxUnavailable : .null,
            "wait_timeout": .string(spec.deploy.healthTimeout.description),
        ]
    }
}

/// Joins argv back into one command line that splits the same way (for `release_command`).
enum ShellWords {
    static func join(_ words: [String]) -> String {
        words.map { word in
            let plain = !word.isEmpty && word.allSatisfy { $0.isLetter || $0.isNumber || "-_./:=@%+,".contains($0) }
            return plain ? word : "'" + word.replacingSingleQuotes + "'"
        }.joined(separator: " ")
    }
}

extension String {
    fileprivate var replacingSingleQuotes: String {
        split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''")
    }
}
