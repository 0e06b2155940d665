/// Checks across fields that catch outages a single value cannot show.
enum SpecChecks {
    static func run(_ spec: EnvironmentSpec, log: DiagnosticLog) {
        let checks: [(EnvironmentSpec, DiagnosticLog) -> Void] = [
            checkRanges, ConnectionBudgetCheck.run, checkResources, checkRedis, checkRollout, checkSecrets, checkProduction, checkFly,
        ]
        for check in checks { check(spec, log) }
    }

    static func checkRanges(_ spec: EnvironmentSpec, log: DiagnosticLog) {
        let pool = spec.database.pool
        if pool.min > pool.max {
            log.error(
                "database.pool.min (\(pool.min)) is above database.pool.max (\(pool.max))", at: spec.locations["database.pool.min"],
                path: "database.pool.min", fix: "make min at most \(pool.max), or raise max")
        }
        let replicas = spec.scaling.replicas
        if replicas.min > replicas.max {
            log.error(
                "scaling.replicas.min (\(replicas.min)) is above scaling.replicas.max (\(replicas.max))",
                at: spec.locations["scaling.replicas.min"], path: "scaling.replicas.min",
                fix: "make min at most \(replicas.max), or raise max")
        }
        if spec.scaling.scales && replicas.min == 0 && spec.targets.kubernetes != nil {
            log.error(
                "a Kubernetes HorizontalPodAutoscaler cannot scale to zero, but scaling.replicas.min is 0",
                at: spec.locations["scaling.replicas.min"], path: "scaling.replicas.min", fix: "set min to at least 1")
        }
        if replicas.max > replicas.min && spec.scaling.autoscaling == nil {
            log.error(
                "scaling.replicas allows \(replicas.min) to \(replicas.max) instances but no `scaling.autoscaling` says when to scale",
                at: spec.locations["scaling.replicas"], path: "scaling.autoscaling",
                fix: "add `autoscaling: { targetCPU: 70% }` under scaling, or set min and max equal")
        }
        if let metricsPort = spec.health.metricsPort, metricsPort == spec.app.port {
            log.error(
                "health.metricsPort (\(metricsPort)) is app.port: the metrics listener needs a port of its own",
                at: spec.locations["health.metricsPort"], path: "health.metricsPort",
                fix: "choose another port, such as 9091, or remove metricsPort to serve metrics on app.port")
        }
    }

    static func checkResources(_ spec: EnvironmentSpec, log: DiagnosticLog) {
        let resources = spec.resources
        if resources.limits.memory < resources.requests.memory {
            log.error(
                "the memory limit (\(resources.limits.memory)) is below the request (\(resources.requests.memory)); Kubernetes rejects such a pod",
                at: spec.locations["resources.limits.memory"], path: "resources.limits.memory",
                fix: "raise limits.memory to at least \(resources.requests.memory)")
        }
        if resources.limits.cpu < resources.requests.cpu {
            log.error(
                "the CPU limit (\(resources.limits.cpu)) is below the request (\(resources.requests.cpu)); Kubernetes rejects such a pod",
                at: spec.locations["resources.limits.cpu"], path: "resources.limits.cpu",
                fix: "raise limits.cpu to at least \(resources.requests.cpu)")
        }
    }

    static func checkRedis(_ spec: EnvironmentSpec, log: DiagnosticLog) {
        let redis = spec.redis
        if redis.maxMemory.bytes < 1 << 20 {
            let number = redis.maxMemory.text.prefix { $0.isNumber }
            log.error(
                "maxMemory \(redis.maxMemory) is only \(redis.maxMemory.bytes) bytes; Redis would evict almost every key at once",
                at: spec.locations["redis.maxMemory"], path: "redis.maxMemory", fix: "did you mean \(number)mb?")
        }
        if redis.ttl.milliseconds < 1000 {
            log.error(
                "a cache TTL of \(redis.ttl) is below Redis's one-second resolution", at: spec.locations["redis.ttl"], path: "redis.ttl",
                fix: "use at least 1s; the runbook uses 3600s")
        }
        // The queue lives in the same Redis: an allkeys-* policy may evict its stream and dead
        // letters under memory pressure, jobs lost without a trace; persistence does not stop
        // eviction. Every cache and rate-limit key has a TTL and the queue's keys have none, so a
        // volatile-* policy evicts the first and never the second.
        let evictsAnyKey = [.allKeysLRU, .allKeysLFU, .allKeysRandom].contains(redis.evictionPolicy)
        if spec.features.queue && evictsAnyKey {
            log.error(
                "the job queue is on and Redis may evict any key (\(redis.evictionPolicy.rawValue)), the queue's included: queued jobs would be lost without a trace (append-only persistence does not prevent eviction)",
                at: spec.locations["redis.evictionPolicy"], path: "redis.evictionPolicy",
                fix: "use volatile-lru (cache and rate-limit keys expire, the queue's do not), or noeviction")
        }
    }

    static func checkRollout(_ spec: EnvironmentSpec, log: DiagnosticLog) {
        let deploy = spec.deploy
        if [.canary, .bluegreen].contains(deploy.strategy) && spec.health.readiness == nil {
            log.error(
                "a \(deploy.strategy.rawValue) deploy decides on health, but no `health.readiness` check is defined",
                at: spec.locations["deploy.strategy"], path: "deploy.strategy",
                fix: "add `health.readiness: { path: /healthz }`, or use `strategy: rolling`")
        }
        if deploy.strategy == .rolling, spec.scaling.replicas.min > 0 {
            let unavailable = deploy.maxUnavailable.resolved(forTotal: spec.scaling.replicas.min, roundUp: false)
            if unavailable >= spec.scaling.replicas.min {
                log.error(
                    "maxUnavailable \(deploy.maxUnavailable) lets a rolling deploy stop all \(spec.scaling.replicas.min) instances at once (scaling.replicas.min)",
                    at: spec.locations["deploy.maxUnavailable"] ?? spec.locations["deploy.strategy"], path: "deploy.maxUnavailable",
                    fix: spec.scaling.replicas.min > 1
                        ? "set maxUnavailable to at most \(spec.scaling.replicas.min - 1)"
                        : "set `maxUnavailable: 0` with `maxSurge: 1`, or run at least 2 replicas")
            }
        }
        if let liveness = spec.health.liveness, liveness.initialDelay >= deploy.healthTimeout {
            log.error(
                "the liveness probe starts after \(liveness.initialDelay), but a deploy gives up after \(deploy.healthTimeout)",
                at: spec.locations["deploy.healthTimeout"] ?? spec.locations["health.liveness.initialDelay"], path: "deploy.healthTimeout",
                fix: "raise deploy.healthTimeout above \(liveness.initialDelay)")
        }
    }

    static func checkSecrets(_ spec: EnvironmentSpec, log: DiagnosticLog) {
        let storage = spec.backups?.storage
        let needed: [(name: String, reason: String, applies: Bool, rule: String)] = [
            ("DATABASE_URL", "the service connects to PostgreSQL", true, "format: url"),
            (
                "REDIS_URL", "cache, queue or rate limiting is on",
                spec.features.cache || spec.features.queue || spec.features.rateLimiting,
                "format: url"
            ),
            ("DATABASE_REPLICA_URL", "database.readReplica is configured", spec.database.readReplica != nil, "format: url"),
            (storage?.accessKeyIdSecret ?? "", "backups.storage names it as its access key id", storage != nil, "minLength: 16"),
            (storage?.secretAccessKeySecret ?? "", "backups.storage names it as its secret key", storage != nil, "minLength: 16"),
        ]
        for need in needed where need.applies {
            guard let secret = spec.secret(need.name) else {
                log.error(
                    "the secret \(need.name) is not declared, but \(need.reason)", at: spec.locations["secrets"], path: "secrets",
                    fix: "add `\(need.name): { required: true, \(need.rule) }` under secrets")
                continue
            }
            if !secret.required {
                log.error(
                    "\(need.name) is marked optional, but \(need.reason)", at: secret.location, path: "secrets.\(need.name)",
                    fix: "set `required: true`")
            }
        }
    }

    static func checkProduction(_ spec: EnvironmentSpec, log: DiagnosticLog) {
        let production = spec.app.runtime == .production
        if let clerk = spec.secret("CLERK_SECRET_KEY") {
            let wanted = production ? "sk_live_" : "sk_test_"
            if clerk.prefix != wanted {
                let reason =
                    production
                    ? "production must use Clerk's live keys"
                    : "only production may use Clerk's live keys; other environments use test keys"
                log.error(
                    "CLERK_SECRET_KEY must have the rule `prefix: \(wanted)` in a \(spec.app.runtime.rawValue) environment (\(reason))",
                    at: spec.locations["secrets.CLERK_SECRET_KEY.prefix"] ?? clerk.location, path: "secrets.CLERK_SECRET_KEY.prefix",
                    fix: "set `prefix: \(wanted)`")
            }
        }
        guard production else { return }
        for origin in spec.cors.origins where origin == "*" || origin.hasPrefix("http://") {
            log.error(
                "CORS origin `\(origin)` is not allowed in production", at: spec.locations["cors.origins"], path: "cors.origins",
                fix: "list the exact https origins of the web app")
        }
        if spec.backups == nil {
            log.error(
                "production has no `backups:`; the runbook backs up daily at 02:00 UTC", at: nil, path: "backups",
                fix: "add `backups: { schedule: \"0 2 * * *\", retention: 14d, storage: { endpoint: https://…, bucket: … } }`")
        }
    }

    static func checkFly(_ spec: EnvironmentSpec, log: DiagnosticLog) {
        guard let fly = spec.targets.fly else { return }
        if let backups = spec.backups, FlySchedule.from(cron: backups.schedule) == nil {
            log.error(
                "Fly starts scheduled machines hourly, daily, weekly or monthly; the backup schedule `\(backups.schedule)` is none of these",
                at: spec.locations["backups.schedule"], path: "backups.schedule",
                fix: "use a daily form such as \"0 2 * * *\" (Fly picks the time of day), or run the backup from CI")
        }
        if spec.deploy.strategy == .rolling, spec.deploy.maxUnavailable.resolved(forTotal: spec.scaling.replicas.max, roundUp: false) == 0 {
            log.error(
                "Fly's rolling deploy updates machines in place, so maxUnavailable \(spec.deploy.maxUnavailable) would never update one",
                at: spec.locations["deploy.maxUnavailable"] ?? spec.locations["deploy.strategy"], path: "deploy.maxUnavailable",
                fix: "set maxUnavailable to 1 or more, or use `strategy: canary` or `bluegreen` to start new machines first")
        }
        guard let memory = fly.memory else { return }
        if memory < spec.resources.requests.memory {
            log.error(
                "the Fly machine has \(memory) of memory, less than the \(spec.resources.requests.memory) the service requests",
                at: spec.locations["targets.fly.memory"], path: "targets.fly.memory",
                fix: "raise targets.fly.memory to at least \(spec.resources.requests.memory), or remove it to use resources.limits.memory")
        }
    }
}
