import FlyFake
import FlyMachinesAPI
import Foundation
import Testing

/// Fly deploys that go wrong: each strategy with a bad image, crash loops, rollback.
@Suite(.serialized) struct FlyFailureTests {
    typealias Harness = FlyHarness
    static func image(_ letter: Character) -> String { Harness.image(letter) }
    static func digest(_ letter: Character) -> String { String(repeating: letter, count: 64) }

    @Test(arguments: ["canary", "bluegreen", "rolling"])
    func aCrashLoopingImageFailsAtOnceAndLeavesNoOrphanMachines(strategy: String) async throws {
        // bluegreen runs both fleets at once: smaller pools keep the connection budget.
        let fly = try await Harness(
            "crash-\(strategy)", deploy: "strategy: \(strategy)", overrides: "database: { pool: { min: 2, max: 10 } }")
        let first = try await fly.orchestrate(["apply", "--image", Self.image("a")])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let before = Set(fly.serving.compactMap(\.id))
        fly.fly.behave(Self.digest("b"), .crashLoops(exitCode: 2))
        let failed = try await fly.orchestrate(["apply", "--image", Self.image("b")])
        #expect(failed.status == 3, "\(failed.stdout)\(failed.stderr)")
        #expect(failed.stderr.contains("exited with code 2"), "\(failed.stderr)")
        #expect(failed.stderr.contains("rolled back to v1"), "\(failed.stderr)")
        #expect(failed.stderr.contains("failed start-up"), "judged a crash loop at once: \(failed.stderr)")
        #expect(!failed.stderr.contains("not healthy within"), "not left to the health timeout: \(failed.stderr)")
        let after = fly.serving
        #expect(after.count == 2, "no orphans: \(after.map { "\($0.id ?? "") \($0.config?.image ?? "")" })")
        #expect(after.allSatisfy { $0.config?.image == Self.image("a") })
        if strategy != "rolling" {
            #expect(Set(after.compactMap(\.id)) == before, "\(strategy) created new machines and removed them again")
        }
        let releases = try await fly.orchestrate(["releases", "--json"])
        #expect(releases.stdout.contains("\"outcome\" : \"failed\""), "\(releases.stdout)")
    }

    /// Fly answers a wait for `started` with 400 once the machine failed; that is the rollout's
    /// verdict to reach (rolled back, exit 3), not an API error ending the apply (exit 1).
    /// staging's `backups.beforeRelease`: the backup runs on a one-off machine of the new image
    /// before the release command, and when it fails nothing is migrated or replaced.
    @Test func aFailedBackupBeforeTheReleaseStopsTheMigration() async throws {
        let fly = try await Harness("backup-before", deploy: "maxSurge: 0\n  maxUnavailable: 1")
        let first = try await fly.orchestrate(["apply", "--image", Self.image("a")])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(!(first.stdout + first.stderr).contains("backing up"), "a first release has nothing to back up: \(first.stderr)")

        let second = try await fly.orchestrate(["apply", "--image", Self.image("b")])
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        let created = fly.fly.calls.filter { $0.operation == "Machines_create" }.count
        #expect(second.stderr.contains("backup taken"), "\(second.stderr)")
        let backup = try #require(fly.fly.allMachines.first { $0.name == "backup-before-v2" })
        #expect(backup.config?._init?.cmd == ["backup"] && backup.config?.image == Self.image("b"))
        #expect(backup.config?.env?.additionalProperties["BACKUP_S3_BUCKET"] == "all-pet-plus-backups")
        #expect(backup.config?.env?.additionalProperties["BACKUP_ENVIRONMENT"] == "fly-e2e")

        fly.fly.exits(whenRunning: "backup", code: 1)
        let third = try await fly.orchestrate(["apply", "--image", Self.image("c")])
        #expect(third.status == 3, "\(third.stdout)\(third.stderr)")
        #expect(third.stderr.contains("the backup before it failed") && third.stderr.contains("exited with code 1"), "\(third.stderr)")
        #expect(!fly.fly.allMachines.contains { $0.name == "release-v3" }, "the release command never ran")
        #expect(fly.fly.calls.filter { $0.operation == "Machines_create" }.count == created + 1, "only the backup's machine was made")
        #expect(fly.serving.allSatisfy { $0.config?.image == Self.image("b") })
    }

    @Test func aMachineThatFailsToStartIsRolledBack() async throws {
        let fly = try await Harness("fails-to-start", deploy: "maxSurge: 0\n  maxUnavailable: 1")
        #expect(try await fly.orchestrate(["apply", "--image", Self.image("a")]).status == 0)
        fly.fly.behave(Self.digest("d"), .failsToStart)
        let failed = try await fly.orchestrate(["apply", "--image", Self.image("d")])
        #expect(failed.status == 3, "\(failed.stdout)\(failed.stderr)")
        #expect(failed.stderr.contains("rolled back to v1") && failed.stderr.contains("exited with code 127"), "\(failed.stderr)")
        let machines = fly.serving
        #expect(machines.count == 2 && machines.allSatisfy { $0.config?.image == Self.image("a") && $0.state == "started" })
    }

    @Test func rollbackRestoresTheImageTheConfigurationAndTheSecretsVersion() async throws {
        let fly = try await Harness("rollback", deploy: "maxSurge: 0\n  maxUnavailable: 1")
        #expect(try await fly.orchestrate(["apply", "--image", Self.image("a")]).status == 0)
        let setFirst = try await fly.orchestrate(["secrets", "set", "SESSION_SECRET"], input: String(repeating: "s", count: 40) + "\n")
        #expect(setFirst.status == 0, "\(setFirst.stdout)\(setFirst.stderr)")
        let plan = try await fly.orchestrate(["plan", "--image", Self.image("a")])
        #expect(plan.stdout.contains("secret SESSION_SECRET value"), "the plan names the changed secret: \(plan.stdout)")
        #expect(!plan.stdout.contains(String(repeating: "s", count: 40)))
        #expect(try await fly.orchestrate(["apply", "--image", Self.image("a")]).status == 0)
        let v2 = try #require(fly.serving.first)
        let version2 = try #require(fly.fly.secretsVersion(of: v2.id ?? ""))

        let setSecond = try await fly.orchestrate(["secrets", "set", "JWT_SECRET"], input: String(repeating: "j", count: 40))
        #expect(setSecond.status == 0, "\(setSecond.stdout)\(setSecond.stderr)")
        try fly.respec(deploy: "maxSurge: 0\n  maxUnavailable: 1", overrides: "app: { logLevel: debug }")
        let third = try await fly.orchestrate(["apply", "--image", Self.image("b")])
        #expect(third.status == 0, "\(third.stdout)\(third.stderr)")
        let v3 = try #require(fly.serving.first)
        #expect(v3.env["LOG_LEVEL"] == "debug")
        #expect((fly.fly.secretsVersion(of: v3.id ?? "") ?? 0) > version2)

        let rollback = try await fly.orchestrate(["rollback"])
        #expect(rollback.status == 0, "\(rollback.stdout)\(rollback.stderr)")
        #expect(rollback.stdout.contains("v4"), "\(rollback.stdout)")
        for machine in fly.serving {
            #expect(machine.config?.image == Self.image("a"))
            #expect(machine.env["LOG_LEVEL"] == v2.env["LOG_LEVEL"])
            #expect(fly.fly.secretsVersion(of: machine.id ?? "") == version2)
        }
    }

    @Test func secretsAreCheckedBeforeTheyLeaveAndListedByDigestOnly() async throws {
        let fly = try await Harness("secrets")
        let short = try await fly.orchestrate(["secrets", "set", "ENCRYPTION_KEY"], input: "too-short")
        #expect(short.status == 1)
        #expect(short.stderr.contains("ENCRYPTION_KEY must be exactly 32 characters"), "\(short.stderr)")
        #expect(!short.stderr.contains("too-short"))
        let unknown = try await fly.orchestrate(["secrets", "set", "NOT_IN_SPEC"], input: "x")
        #expect(unknown.status == 1)
        #expect(!fly.fly.calls.contains { $0.operation == "Secrets_update" }, "nothing left the machine")
        let several = try await fly.orchestrate(
            ["secrets", "set", "SHOPIFY_WEBHOOK_SECRET", "SENTRY_DSN"],
            input: "SHOPIFY_WEBHOOK_SECRET=whsec_0123456789abcdef\nSENTRY_DSN=https://key@sentry.example/1\n")
        #expect(several.status == 0, "\(several.stderr)")
        let list = try await fly.orchestrate(["secrets", "list"])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains("SHOPIFY_WEBHOOK_SECRET"), "\(list.stdout)")
        #expect(!list.stdout.contains("whsec_0123456789abcdef"))
        let unset = try await fly.orchestrate(["secrets", "unset", "SENTRY_DSN"])
        #expect(unset.status == 0, "\(unset.stderr)")
        let after = try await fly.orchestrate(["secrets", "list", "--json"])
        #expect(after.stdout.contains("SHOPIFY_WEBHOOK_SECRET") && !after.stdout.contains("SENTRY_DSN"), "\(after.stdout)")
    }
}
