import Testing

@testable import Manifests

/// Each bad input is rejected with what is wrong, where (file:line:column) and how to fix it.
@Suite struct BadSpecTests {
    let file = "env/test.yaml"

    private func single(_ errors: [Diagnostic], sourceLocation: Testing.SourceLocation = #_sourceLocation) -> Diagnostic? {
        #expect(
            errors.count == 1, "expected one error, got:\n\(errors.map(\.description).joined(separator: "\n"))",
            sourceLocation: sourceLocation)
        return errors.first
    }

    /// Oversized numbers trapped (an overflowing multiplication, exit 132) in validate, render
    /// and plan; each is now an error at its place.
    @Test(arguments: [
        (
            "deploy: { releaseCommandTimeout: 99999999999999999d }", "deploy.releaseCommandTimeout", 34,
            "is longer than any setting here can use"
        ),
        ("redis: { maxMemory: 99999999999999gb }", "redis.maxMemory", 21, "is more memory than any machine has"),
        ("resources: { limits: { memory: 99999999999Ti } }", "resources.limits.memory", 32, "is more memory than any machine has"),
        ("resources: { limits: { cpu: 99999999999999999999 } }", "resources.limits.cpu", 29, "is more CPU than any machine has"),
        ("scaling: { replicas: { min: 2, max: 9223372036854775807 } }", "scaling.replicas.max", 37, "is beyond any value this spec takes"),
        ("database: { pool: { max: -9223372036854775808 } }", "database.pool.max", 26, "is beyond any value this spec takes"),
    ])
    func oversizedNumbersAreErrorsNotTraps(line: String, path: String, column: Int, message: String) throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\n\(line)\n")))
        #expect(error.location == .at(file, 2, column))
        #expect(error.path == path)
        #expect(error.message.contains(message), "\(error.message)")
    }

    /// Nested aliases ("billion laughs"): nine levels of nine stand for 387 million values; the
    /// expansion stops at a bound with an error instead of taking minutes and gigabytes.
    @Test func anAliasBombIsRefused() throws {
        var lines = ["extends: base", "app:", #"  a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]"#]
        for level in 1...9 {
            lines.append("  a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ",") + "]")
        }
        let started = ContinuousClock.now
        let error = try #require(single(SpecFixtures.errors(lines.joined(separator: "\n") + "\n")))
        #expect(error.message.contains("expands to more than 20000 values"), "\(error.message)")
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test func aSpecFileBeyondOneMebibyteIsRefusedBeforeParsing() throws {
        let origins = (0..<60_000).map { "    - https://a\($0).example\n" }.joined()
        let error = try #require(single(SpecFixtures.errors("extends: base\ncors:\n  origins:\n" + origins)))
        #expect(error.message.hasSuffix("a spec file may be at most 1024 KiB"), "\(error.message)")
    }

    @Test func extendsCannotLeaveTheEnvironmentsFolder() throws {
        for base in ["../base", "/etc/passwd", "..", "nested/base"] {
            let error = try #require(single(SpecFixtures.errors("extends: \(base)\n")))
            #expect(error.message == "`extends: \(base)` leaves the environments folder")
            #expect(error.location == .at(file, 1, 10))
        }
    }

    /// A huge value is quoted as an excerpt, never echoed whole (a 500 KB string was).
    @Test func aHugeValueIsQuotedAsAnExcerpt() throws {
        let huge = String(repeating: "x", count: 500_000)
        let errors = SpecFixtures.errors("extends: base\napp: { port: \"\(huge)\" }\nredis: { maxMemory: \(huge)mb }\n")
        #expect(errors.count == 2)
        for error in errors {
            #expect(error.description.count < 1_500, "\(error.description.prefix(200))")
        }
    }

    @Test func misspeltKeyGetsTheClosestValidName() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\ndeploy:\n  maxUnavailabel: 1\n")))
        #expect(error.location == .at(file, 3, 3))
        #expect(error.path == "deploy.maxUnavailabel")
        #expect(error.message == "unknown key `maxUnavailabel`")
        #expect(error.fix == "did you mean `maxUnavailable`?")
    }

    @Test func misspeltTopLevelSection() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\ndatabse:\n  pool: { max: 5 }\n")))
        #expect(error.location == .at(file, 2, 1))
        #expect(error.fix == "did you mean `database`?")
    }

    @Test func quotedNumberIsAWrongType() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\napp:\n  port: \"3001\"\n")))
        #expect(error.location == .at(file, 3, 9))
        #expect(error.message == "expected an integer, found the quoted string \"3001\"")
        #expect(error.fix == "remove the quotes: `port: 3001`")
    }

    @Test func wordWhereANumberBelongs() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\nscaling:\n  replicas: { min: two, max: 4 }\n")))
        #expect(error.location == .at(file, 3, 20))
        #expect(error.message == "expected a whole number, found the string \"two\"")
    }

    @Test func memoryInRedisUnitsForKubernetes() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\nresources:\n  requests: { cpu: 250m, memory: 512MB }\n")))
        #expect(error.location == .at(file, 3, 34))
        #expect(error.message == "`512MB` uses the unit `MB`, which Kubernetes does not accept")
        #expect(error.fix == "write 512Mi")
    }

    @Test func redisMemoryInKubernetesUnits() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\nredis:\n  maxMemory: 2Gi\n")))
        #expect(error.location == .at(file, 3, 14))
        #expect(error.message == "`2Gi` is a Kubernetes unit; Redis does not understand `Gi`")
        #expect(error.fix == "write 2gb")
    }

    @Test func redisMemoryWithoutUnitIsBytes() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\nredis:\n  maxMemory: 256\n")))
        #expect(error.message == "`256` has no unit, so Redis would read it as 256 bytes")
        #expect(error.fix == "add a unit, such as 256mb")
    }

    @Test func redisMemoryInDecimalKilobytesIsFarTooSmall() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\nredis:\n  maxMemory: 256k\n")))
        #expect(error.location == .at(file, 3, 3))
        #expect(error.message.contains("only 256000 bytes"))
        #expect(error.fix == "did you mean 256mb?")
    }

    @Test func cpuWithAMemoryUnit() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\nresources:\n  limits: { cpu: 250mb, memory: 512Mi }\n")))
        #expect(error.location == .at(file, 3, 18))
        #expect(error.message == "`250mb` is not a CPU amount (unit `mb`)")
    }

    @Test func durationWithoutUnit() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\nhealth:\n  liveness: { path: /healthz, initialDelay: 30 }\n")))
        #expect(error.location == .at(file, 3, 45))
        #expect(error.path == "health.liveness.initialDelay")
        #expect(error.fix == "add one: 30s, 30m or 30ms")
    }

    @Test func portOutOfRange() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\napp:\n  port: 70000\n")))
        #expect(error.location == .at(file, 3, 3))
        #expect(error.message == "70000 is out of range; it must be between 1 and 65535")
    }

    @Test func metricsPortOnTheServicePort() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\napp:\n  port: 3001\nhealth:\n  metricsPort: 3001\n")))
        #expect(error.location == .at(file, 5, 3))
        #expect(error.message == "health.metricsPort (3001) is app.port: the metrics listener needs a port of its own")
    }

    @Test func misspeltStrategy() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\ndeploy:\n  strategy: blue-green\n")))
        #expect(error.location == .at(file, 3, 13))
        #expect(error.fix == "did you mean `bluegreen`? allowed values: rolling, canary, bluegreen, immediate")
    }

    @Test func poolMinAboveMax() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\ndatabase:\n  pool: { min: 12, max: 10 }\n")))
        #expect(error.location == .at(file, 3, 11))
        #expect(error.message == "database.pool.min (12) is above database.pool.max (10)")
    }

    @Test func replicasMinAboveMax() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\nscaling:\n  replicas: { min: 5, max: 4 }\n")))
        #expect(error.location == .at(file, 3, 15))
        #expect(error.message == "scaling.replicas.min (5) is above scaling.replicas.max (4)")
    }

    /// The runbook's own production numbers: 10 replicas × pool 50 against max_connections 200.
    @Test func runbookProductionNumbersExceedTheConnectionBudget() throws {
        let runbook = """
            extends: base
            database:
              pool: { min: 2, max: 50 }
              server: { maxConnections: 200, reservedConnections: 10 }
            scaling:
              replicas: { min: 2, max: 10 }
            deploy:
              strategy: immediate

            """
        let error = try #require(single(SpecFixtures.errors(runbook)))
        #expect(error.location == .at(file, 3, 19))
        #expect(error.path == "database.pool.max")
        #expect(
            error.message
                == "connection budget exceeded on the primary: at peak 10 instances (scaling.replicas.max 10; an immediate deploy stops old instances first) × database.pool.max 50 = 500 connections, but the primary allows 190 (database.server.maxConnections 200 − reservedConnections 10)"
        )
        #expect(
            error.fix
                == "lower database.pool.max to 19 or less; or cap the peak at 3 instances (scaling.replicas.max and the deploy strategy); or raise database.server.maxConnections to at least 510 (size the server for it, or put PgBouncer in front)"
        )
    }

    @Test func bluegreenDoublesThePeakConnections() throws {
        let spec = "extends: base\ndeploy:\n  strategy: bluegreen\ndatabase:\n  pool: { max: 12 }\n"
        let error = try #require(single(SpecFixtures.errors(spec)))
        #expect(error.message.contains("at peak 8 instances (scaling.replicas.max 4 twice"))
        #expect(error.message.contains("= 96 connections, but the primary allows 90"))
    }

    @Test func readReplicaPoolMustFitTheReplica() throws {
        let spec = """
            extends: base
            secrets:
              DATABASE_REPLICA_URL: { format: url }
            database:
              readReplica:
                poolMax: 30

            """
        let error = try #require(single(SpecFixtures.errors(spec)))
        #expect(error.location == .at(file, 6, 5))
        #expect(error.message.hasPrefix("connection budget exceeded on the read replica: at peak 5 instances"))
        #expect(error.message.contains("× database.readReplica.poolMax 30 = 150 connections, but the read replica allows 90"))
    }

    @Test func readReplicaNeedsItsSecret() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\ndatabase:\n  readReplica: { poolMax: 5 }\n")))
        #expect(error.message == "the secret DATABASE_REPLICA_URL is not declared, but database.readReplica is configured")
        #expect(error.location == .at("env/base.yaml", 15, 1))
    }

    @Test func memoryLimitBelowRequest() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\nresources:\n  limits: { cpu: 500m, memory: 128Mi }\n")))
        #expect(error.location == .at(file, 3, 24))
        #expect(error.message == "the memory limit (128Mi) is below the request (256Mi); Kubernetes rejects such a pod")
        #expect(error.fix == "raise limits.memory to at least 256Mi")
    }

    @Test func canaryNeedsAReadinessCheck() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\nhealth:\n  readiness: null\ndeploy:\n  strategy: canary\n")))
        #expect(error.location == .at(file, 5, 3))
        #expect(error.message == "a canary deploy decides on health, but no `health.readiness` check is defined")
    }

    @Test func productionNeedsTheLiveClerkKey() throws {
        let spec = """
            extends: base
            app: { runtime: production }
            backups: { schedule: "0 2 * * *", retention: 14d, storage: { endpoint: "https://s3.example.com", bucket: backups-1 } }
            secrets: { BACKUP_S3_ACCESS_KEY_ID: { minLength: 16 }, BACKUP_S3_SECRET_ACCESS_KEY: { minLength: 16 } }
            cors: { origins: [https://harnesshe.ro] }
            redis: { appendOnly: true }

            """
        let error = try #require(single(SpecFixtures.errors(spec)))
        #expect(error.path == "secrets.CLERK_SECRET_KEY.prefix")
        #expect(error.location == .at("env/base.yaml", 18, 23))
        #expect(error.message.hasPrefix("CLERK_SECRET_KEY must have the rule `prefix: sk_live_` in a production environment"))
        #expect(error.fix == "set `prefix: sk_live_`")
    }

    @Test func liveClerkKeyOutsideProduction() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\nsecrets:\n  CLERK_SECRET_KEY: { prefix: sk_live_ }\n")))
        #expect(error.location == .at(file, 3, 23))
        #expect(error.fix == "set `prefix: sk_test_`")
    }

    @Test func rollingDeployThatStopsEveryInstance() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\ndeploy:\n  maxUnavailable: 100%\n")))
        #expect(error.location == .at(file, 3, 3))
        #expect(error.message == "maxUnavailable 100% lets a rolling deploy stop all 2 instances at once (scaling.replicas.min)")
        #expect(error.fix == "set maxUnavailable to at most 1")
    }

    @Test func flyRollingDeployCannotKeepEveryMachineUp() throws {
        let spec = "extends: base\ndeploy:\n  maxUnavailable: 0\ntargets:\n  fly: { app: shop, org: acme, primaryRegion: iad }\n"
        let error = try #require(single(SpecFixtures.errors(spec)))
        #expect(error.location == .at(file, 3, 3))
        #expect(error.message == "Fly's rolling deploy updates machines in place, so maxUnavailable 0 would never update one")
    }

    @Test(arguments: [
        ("regions: [fra, Paris]", "targets.fly.regions[1]", "`Paris` is not a Fly region code"),
        ("regions: [fra, fra]", "targets.fly.regions", "region fra is listed twice"),
        ("regions: [iad]", "targets.fly.regions", "region iad is listed twice"),
        ("apiHostname: api.machines.dev", "targets.fly.apiHostname", "apiHostname `api.machines.dev` is not a base URL"),
        ("apiHostname: https://api.machines.dev/v1", "targets.fly.apiHostname", "is not a base URL"),
    ])
    func flyRegionsAndAPIHostAreChecked(setting: String, path: String, message: String) throws {
        let spec = "extends: base\ntargets:\n  fly: { app: shop, org: acme, primaryRegion: iad, \(setting) }\n"
        let error = try #require(single(SpecFixtures.errors(spec)))
        #expect(error.path == path)
        #expect(error.message.contains(message), "\(error.message)")
        #expect(error.location != nil)
    }

    /// verify may run against production: writes need saying so, credentials stay out of specs,
    /// and every number has a range.
    @Test(arguments: [
        (
            "verify: { scenarios: [{ name: add, method: POST, path: /api/designs }] }", "verify.scenarios[0].method",
            "POST changes data, and verify may run against production"
        ),
        (
            "verify: { scenarios: [{ name: x, path: /, headers: { Authorization: Bearer abc } }] }",
            "verify.scenarios[0].headers.Authorization", "a credential does not belong in a spec"
        ),
        ("verify: { scenarios: [{ name: x, path: api }] }", "verify.scenarios[0].path", "`api` is not an HTTP path"),
        ("verify: { scenarios: [{ name: x, path: /, status: 42 }] }", "verify.scenarios[0].status", "42 is out of range"),
        (
            "verify: { scenarios: [{ name: x, path: /, tokenFrom: my-token }] }", "verify.scenarios[0].tokenFrom",
            "`my-token` is not an environment variable name"
        ),
        ("verify: { scenarios: [] }", "verify.scenarios", "`scenarios` is empty"),
        ("verify: { rate: 0 }", "verify.rate", "0 is out of range"),
        ("verify: { rate: 1000000 }", "verify.rate", "1000000 is out of range"),
        ("verify: { duration: 0s }", "verify.duration", "is out of range"),
        ("slo: { maxInFlight: 0 }", "slo.maxInFlight", "0 is out of range"),
        (
            "targets:\n  kubernetes: { namespace: shop, secretName: shop, publicURL: shop.example.com }",
            "targets.kubernetes.publicURL", "publicURL `shop.example.com` is not a base URL"
        ),
        (
            "targets:\n  fly: { app: shop, org: acme, primaryRegion: iad, publicURL: \"https://shop.fly.dev/api\" }",
            "targets.fly.publicURL", "is not a base URL"
        ),
    ])
    func verifySettingsAreChecked(setting: String, path: String, message: String) throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\n\(setting)\n")))
        #expect(error.path == path)
        #expect(error.message.contains(message), "\(error.message)")
        #expect(error.location != nil)
    }

    @Test func verifyDefaultsToTheLivenessPathAndReadsScenarios() throws {
        let plain = try #require(SpecFixtures.spec("extends: base\n"))
        #expect(plain.verify.scenarios.map(\.path) == [plain.health.liveness?.path ?? "/healthz"])
        #expect(plain.verify.rate == 20 && plain.verify.duration == .seconds(30))
        let spec = try #require(
            SpecFixtures.spec(
                """
                extends: base
                slo: { maxInFlight: 50, minThroughput: 10 }
                verify:
                  rate: 200
                  scenarios:
                    - { name: list, path: /api/designs, tokenFrom: VERIFY_TOKEN, weight: 3, headers: { Accept: application/json } }
                    - { name: health, path: /healthz }
                targets:
                  fly: { app: shop, org: acme, primaryRegion: iad }
                """))
        #expect(spec.verify.rate == 200 && spec.verify.scenarios.map(\.weight) == [3, 1])
        #expect(spec.verify.scenarios[0].headers == ["Accept": "application/json"])
        #expect(spec.slo.maxInFlight == 50 && spec.slo.minThroughput == 10 && spec.slo.p95Latency == SpecDuration(milliseconds: 200))
        #expect(spec.targets.fly?.verifyAddress == "https://shop.fly.dev")
    }

    @Test func kubernetesAutoscalerCannotScaleToZero() throws {
        let spec = "extends: base\nscaling:\n  replicas: { min: 0 }\ntargets:\n  kubernetes: { namespace: shop, secretName: shop }\n"
        let error = try #require(single(SpecFixtures.errors(spec)))
        #expect(error.location == .at(file, 3, 15))
        #expect(error.message == "a Kubernetes HorizontalPodAutoscaler cannot scale to zero, but scaling.replicas.min is 0")
    }

    /// Persistence does not stop eviction: with the queue on, a policy that may evict any key is
    /// refused whatever `appendOnly` says.
    @Test func aQueueOnARedisThatMayEvictAnyKeyIsRefused() throws {
        for policy in ["allkeys-lru", "allkeys-lfu", "allkeys-random"] {
            let error = try #require(single(SpecFixtures.errors("extends: base\nredis: { evictionPolicy: \(policy), appendOnly: true }\n")))
            #expect(error.location == .at(file, 2, 10))
            #expect(error.path == "redis.evictionPolicy")
            #expect(error.message.hasPrefix("the job queue is on and Redis may evict any key (\(policy))"))
            #expect(error.fix == "use volatile-lru (cache and rate-limit keys expire, the queue's do not), or noeviction")
        }
        // Without the queue, evicting any key is the runbook's cache setting and allowed.
        #expect(throws: Never.self) {
            try SpecFixtures.load("extends: base\nredis: { evictionPolicy: allkeys-lru }\nfeatures: { queue: false }\n").get()
        }
    }

    @Test func yamlSyntaxErrorPointsAtTheLine() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\napp:\n  port: 3001\n logLevel: info\n")))
        #expect(error.location?.file == file)
        #expect(error.location?.line == 4)
        #expect(error.message.hasPrefix("invalid YAML:"))
    }

    @Test func duplicateKey() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\napp:\n  port: 3001\n  port: 3002\n")))
        #expect(error.location == .at(file, 3, 3))
        #expect(error.message == "the key `port` appears more than once in this map")
    }

    @Test func extendsAMissingEnvironment() throws {
        let error = try #require(single(SpecFixtures.errors("extends: bsae\n")))
        #expect(error.location == .at(file, 1, 10))
        #expect(error.message == "`extends: bsae` names env/bsae.yaml, which does not exist")
        #expect(error.fix == "did you mean `base`? environments here: base")
    }

    @Test func extendsCycle() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\n", base: "extends: test\n")))
        #expect(error.location == .at("env/base.yaml", 1, 10))
        #expect(error.message == "`extends: test` makes a cycle: env/test.yaml → env/base.yaml → env/test.yaml")
    }

    @Test func secretNameThatIsNoVariable() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\nsecrets:\n  jwt-secret: { minLength: 32 }\n")))
        #expect(error.location == .at(file, 3, 3))
        #expect(error.fix == "use upper-case letters, digits and '_', such as JWT_SECRET")
    }

    @Test func corsOriginWithTrailingSlash() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\ncors:\n  origins: [https://harnesshe.ro/]\n")))
        #expect(error.location == .at(file, 3, 13))
        #expect(error.fix == "write `https://harnesshe.ro`")
    }

    static let storage = "storage: { endpoint: \"https://s3.example.com\", bucket: pet-backups }"
    static let backupSecrets = "secrets: { BACKUP_S3_ACCESS_KEY_ID: { minLength: 16 }, BACKUP_S3_SECRET_ACCESS_KEY: { minLength: 16 } }\n"

    @Test func backupScheduleWithSixFields() throws {
        let spec = "extends: base\nbackups: { schedule: \"0 0 2 * * *\", retention: 7d, \(Self.storage) }\n" + Self.backupSecrets
        let error = try #require(single(SpecFixtures.errors(spec)))
        #expect(error.location == .at(file, 2, 12))
        #expect(error.message == "`0 0 2 * * *` has 6 fields; a schedule has 5 (minute hour day-of-month month day-of-week)")
    }

    @Test func flySchedulesAreHourlyDailyWeeklyOrMonthly() {
        #expect(FlySchedule.from(cron: "0 2 * * *") == "daily")
        #expect(FlySchedule.from(cron: "15 * * * *") == "hourly")
        #expect(FlySchedule.from(cron: "0 3 * * 0") == "weekly")
        #expect(FlySchedule.from(cron: "0 3 1 * *") == "monthly")
        #expect(FlySchedule.from(cron: "*/5 * * * *") == nil)
        #expect(FlySchedule.from(cron: "0 2 * * 1-5") == nil)
        #expect(FlySchedule.from(cron: "0 2 1 6 *") == nil)
    }

    @Test func backupsNeedABucket() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\nbackups: { schedule: \"0 2 * * *\", retention: 7d }\n")))
        #expect(error.location == .at(file, 2, 10))
        #expect(error.message == "the required key `storage` is missing")
    }

    @Test func backupStorageOverPlainHTTPElsewhereThanThisMachine() throws {
        let spec = """
            extends: base
            backups:
              schedule: "0 2 * * *"
              retention: 7d
              storage: { endpoint: "http://minio.internal:9000", bucket: pet-backups }
            \(Self.backupSecrets)
            """
        let error = try #require(single(SpecFixtures.errors(spec)))
        #expect(error.location == .at(file, 5, 14))
        #expect(error.message == "endpoint `http://minio.internal:9000` would send the store's keys unencrypted")
        if case .failure(let failure) = SpecFixtures.load(spec.replacingOccurrences(of: "minio.internal", with: "127.0.0.1")) {
            Issue.record("a local S3 server over http is refused: \(failure.diagnostics.map(\.message))")
        }
    }

    @Test func backupBucketNameAndPrefix() throws {
        let spec = """
            extends: base
            backups:
              schedule: "0 2 * * *"
              retention: 7d
              storage: { endpoint: "https://s3.example.com", bucket: Pet_Backups, prefix: "../escape" }
            \(Self.backupSecrets)
            """
        let errors = SpecFixtures.errors(spec)
        #expect(errors.map(\.path) == ["backups.storage.bucket", "backups.storage.prefix"])
        #expect(errors.first?.message == "bucket `Pet_Backups` is not a valid bucket name")
    }

    @Test func backupKeysMustBeDeclaredSecrets() throws {
        let spec = "extends: base\nbackups: { schedule: \"0 2 * * *\", retention: 7d, \(Self.storage) }\n"
        let errors = SpecFixtures.errors(spec)
        #expect(
            errors.map(\.message) == [
                "the secret BACKUP_S3_ACCESS_KEY_ID is not declared, but backups.storage names it as its access key id",
                "the secret BACKUP_S3_SECRET_ACCESS_KEY is not declared, but backups.storage names it as its secret key",
            ])
    }

    @Test func yesIsNotABoolean() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\nfeatures:\n  queue: yes\n")))
        #expect(error.location == .at(file, 3, 10))
        #expect(error.message == "expected true or false, found the string \"yes\"")
    }

    @Test func imageWithATag() throws {
        let error = try #require(single(SpecFixtures.errors("extends: base\napp:\n  image: registry.example.com/pet-backend:latest\n")))
        #expect(error.location == .at(file, 3, 3))
        #expect(error.message == "`registry.example.com/pet-backend:latest` includes a tag or digest")
    }

    @Test func missingRequiredKeyNamesTheSectionAndAMisspelling() throws {
        let base = SpecFixtures.base.replacingOccurrences(of: "  logLevel: info\n", with: "  loglevel: info\n")
        let errors = SpecFixtures.errors("extends: base\n", base: base)
        #expect(
            errors.contains {
                $0.message == "the required key `logLevel` is missing (`loglevel` is there: a misspelling?)"
                    && $0.location == .at("env/base.yaml", 2, 3)
            })
        #expect(errors.contains { $0.message == "unknown key `loglevel`" && $0.fix == "did you mean `logLevel`?" })
    }

    @Test func everyProblemIsReportedInOneRun() {
        let spec = """
            extends: base
            app:
              port: 0
              logLevel: verbose
            redis:
              maxMemory: 2Gi
            resources:
              requests: { cpu: 250m, memory: 512MB }

            """
        let errors = SpecFixtures.errors(spec)
        #expect(errors.map { $0.location?.line } == [3, 4, 6, 8])
    }
}
