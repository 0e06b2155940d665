import FlyFake
import FlyMachinesAPI
import Foundation
import Testing

/// `--target fly` against the fake Fly server, one app per test, through the built binary.
@Suite(.serialized) struct FlyDeployTests {
    typealias Harness = FlyHarness
    static func image(_ letter: Character) -> String { Harness.image(letter) }

    @Test func aFirstDeployCreatesTheAppRunsTheReleaseCommandAndThenPlansNoChanges() async throws {
        let fly = try await Harness("first", appExists: false, secrets: false)
        let plan = try await fly.orchestrate(["plan", "--image", Self.image("a")])
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("app"), "\(plan.stdout)")
        // Secrets are named before any machine is made.
        let refused = try await fly.orchestrate(["apply", "--image", Self.image("a")])
        #expect(refused.status == 1, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains("lacks required secrets: BACKUP_S3_ACCESS_KEY_ID"), "\(refused.stderr)")
        #expect(refused.stderr.contains("CLERK_SECRET_KEY"), "\(refused.stderr)")
        #expect(fly.serving.isEmpty)
        try fly.setRequiredSecrets()

        // A saved plan, applied as CI would.
        let saved = try await fly.orchestrate(["plan", "--image", Self.image("a"), "--out", fly.folder + "/first.plan"])
        #expect(saved.status == 0, "\(saved.stderr)")
        // Each run paces its own calls; the commands before it spent the app's burst.
        try await Task.sleep(for: .seconds(3))
        let limitedBefore = fly.fly.rateLimited.count
        let first = try await CommandRunner.run(
            ["apply", fly.folder + "/first.plan"], in: fly.folder, environment: ["FLY_API_HOSTNAME": fly.server.url, "FLY_API_TOKEN": "t"])
        // Fly counts a call when it arrives: on a loaded machine two paced calls can arrive closer
        // than they left. One 429 (retried after its Retry-After) is tolerated here; the
        // benchmark, on a quiet machine, expects none.
        #expect(
            fly.fly.rateLimited.count - limitedBefore <= 1, "a paced apply meets Fly's rate limits: \(fly.fly.rateLimited)")
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("v1 is live on 2 instance(s)"), "\(first.stdout)")
        let machines = fly.serving
        #expect(machines.count == 2)
        for machine in machines {
            #expect(machine.state == "started")
            #expect(machine.config?.image == Self.image("a"))
            #expect(machine.metadata["orchestrate_release"] == "1")
            #expect(machine.metadata["fly_process_group"] == "app")
            #expect(machine.env["TRUSTED_CLIENT_IP_HEADER"] == "Fly-Client-IP")
            #expect(machine.env["BUILD_VERSION"] == "sha256:aaaaaaaaaaaa")
            #expect(machine.region == "iad")
            #expect(machine.config?.guest?.memory_mb == 512)
            #expect(Set(machine.config?.checks?.additionalProperties.keys.map { $0 } ?? []) == ["alive", "ready", "detailed"])
        }
        // The release command ran as arguments to the image's entrypoint, on a machine that is gone.
        let releaseMachine = try #require(
            fly.fly.allMachines.first { $0.metadata["fly_process_group"] == "fly_app_release_command" })
        #expect(releaseMachine.config?._init?.cmd == ["migrate"])
        #expect(releaseMachine.env["RELEASE_COMMAND"] == "1")
        #expect(releaseMachine.state == "destroyed")
        #expect(!(first.stdout + first.stderr).contains("test-token"))

        let again = try await fly.orchestrate(["plan", "--image", Self.image("a"), "--detailed-exitcode"])
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        let releases = try await fly.orchestrate(["releases"])
        #expect(releases.stdout.contains("v1"), "\(releases.stdout)")
        let status = try await fly.orchestrate(["status"])
        #expect(status.stdout.contains("iad") && status.stdout.contains("healthy") && status.stdout.contains("IMAGE"), "\(status.stdout)")
    }

    @Test func anImageChangeUpdatesEveryMachineInPlace() async throws {
        let fly = try await Harness("image", deploy: "maxSurge: 0\n  maxUnavailable: 1")
        #expect(try await fly.orchestrate(["apply", "--image", Self.image("a")]).status == 0)
        let before = Set(fly.serving.compactMap(\.id))
        let second = try await fly.orchestrate(["apply", "--image", Self.image("b")])
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        #expect(second.stdout.contains("v2 is live"), "\(second.stdout)")
        let after = fly.serving
        #expect(Set(after.compactMap(\.id)) == before, "updated in place, same machines")
        #expect(after.allSatisfy { $0.config?.image == Self.image("b") && $0.metadata["orchestrate_release"] == "2" })
        #expect(fly.fly.calls.contains { $0.operation == "Machines_create_lease" && before.contains($0.machine ?? "") })
    }

    @Test func aNewImageThatFailsItsChecksIsRolledBack() async throws {
        let fly = try await Harness("failing")
        #expect(try await fly.orchestrate(["apply", "--image", Self.image("a")]).status == 0)
        fly.fly.behave(String(repeating: "b", count: 64), .failsChecks)
        let failed = try await fly.orchestrate(["apply", "--image", Self.image("b")])
        #expect(failed.status == 3, "\(failed.stdout)\(failed.stderr)")
        #expect(failed.stderr.contains("v2 failed and was rolled back to v1"), "\(failed.stderr)")
        let machines = fly.serving
        #expect(machines.count == 2, "no orphan machines: \(machines.map { $0.id ?? "" })")
        #expect(machines.allSatisfy { $0.config?.image == Self.image("a") })
    }

    /// staging backs up daily at 02:00: on Fly, one machine that Fly starts daily runs
    /// `pet-backend backup` with the current release's image, sent through the server generated
    /// from the Machines document (which refuses a body that does not match it).
    @Test func theScheduledBackupFollowsTheCurrentRelease() async throws {
        let fly = try await Harness("backup-schedule")
        #expect(try await fly.orchestrate(["apply", "--image", Self.image("a")]).status == 0)
        let first = try #require(fly.fly.allMachines.first { $0.name == "backup-schedule" })
        #expect(first.config?.schedule == "daily")
        #expect(first.config?._init?.cmd == ["backup"] && first.config?.image == Self.image("a"))
        #expect(first.config?.auto_destroy == false && first.state == "stopped")
        #expect(first.config?.env?.additionalProperties["BACKUP_RETENTION_DAYS"] == "7")
        #expect(!fly.serving.contains { $0.id == first.id }, "it is not a serving machine")

        #expect(try await fly.orchestrate(["apply", "--image", Self.image("b")]).status == 0)
        let schedules = fly.fly.allMachines.filter { $0.name == "backup-schedule" && $0.state != "destroyed" }
        #expect(schedules.count == 1 && schedules.first?.id == first.id)
        #expect(schedules.first?.config?.image == Self.image("b"))
        let plan = try await fly.orchestrate(["plan", "--image", Self.image("b"), "--detailed-exitcode"])
        #expect(plan.status == 0, "\(plan.stdout)")
        let updates = fly.fly.calls.filter { $0.operation == "Machines_update" && $0.machine == first.id }.count
        #expect(try await fly.orchestrate(["apply", "--image", Self.image("b")]).status == 0)
        #expect(fly.fly.calls.filter { $0.operation == "Machines_update" && $0.machine == first.id }.count == updates, "left alone")
    }

    @Test func aFailingReleaseCommandStopsTheDeployBeforeAnyMachineChanges() async throws {
        let fly = try await Harness("release-command")
        #expect(try await fly.orchestrate(["apply", "--image", Self.image("a")]).status == 0)
        let before = fly.serving.map { "\($0.id ?? "")@\($0.instance_id ?? "")" }
        fly.fly.exits(whenRunning: "migrate", code: 3)
        let failed = try await fly.orchestrate(["apply", "--image", Self.image("c")])
        #expect(failed.status == 3, "\(failed.stdout)\(failed.stderr)")
        #expect(failed.stderr.contains("exited with code 3"), "\(failed.stderr)")
        #expect(failed.stderr.contains("exit"), "the machine's events are shown: \(failed.stderr)")
        #expect(fly.serving.map { "\($0.id ?? "")@\($0.instance_id ?? "")" } == before)
    }

    @Test func aMachineLeasedBySomeoneElseIsNamedWithItsHolder() async throws {
        let fly = try await Harness("leased", deploy: "maxSurge: 0\n  maxUnavailable: 1")
        #expect(try await fly.orchestrate(["apply", "--image", Self.image("a")]).status == 0)
        let machine = try #require(fly.serving.first?.id)
        fly.fly.leaseHeldElsewhere(machine: machine, by: "fly deploy by alice@laptop", for: 120)
        let blocked = try await fly.orchestrate(["apply", "--image", Self.image("b")])
        #expect(blocked.status == 5, "\(blocked.stdout)\(blocked.stderr)")
        #expect(blocked.stderr.contains("alice@laptop"), "\(blocked.stderr)")
    }

    @Test func downStopsTheMachinesKeepsTheHistoryAndApplyStartsThemAgain() async throws {
        let fly = try await Harness("down")
        #expect(try await fly.orchestrate(["apply", "--image", Self.image("a")]).status == 0)
        let down = try await fly.orchestrate(["down"])
        #expect(down.status == 0, "\(down.stdout)\(down.stderr)")
        #expect(down.stdout.contains("stopped 2 machine(s)"), "\(down.stdout)")
        #expect(fly.serving.allSatisfy { $0.state == "stopped" })
        let plan = try await fly.orchestrate(["plan", "--detailed-exitcode"])
        #expect(plan.status == 2, "a stopped app is a change: \(plan.stdout)\(plan.stderr)")
        let again = try await fly.orchestrate(["apply"])
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("v1 is live"), "the same release, not a new one: \(again.stdout)")
        let machines = fly.serving
        #expect(machines.count == 2 && machines.allSatisfy { $0.state == "started" }, "\(machines.map { $0.state ?? "" })")
    }

    @Test func aRejectedTokenAndAnUnknownRegionSayWhatToDo() async throws {
        let fly = try await Harness("errors", fly: "regions: [xyz]")
        let revoked = try await fly.orchestrate(["plan", "--image", Self.image("a")], token: "revoked")
        #expect(revoked.status == 1)
        #expect(revoked.stderr.contains("Fly refused FLY_API_TOKEN (401: token has been revoked)"), "\(revoked.stderr)")
        #expect(revoked.stderr.contains("fly tokens create deploy -a \(Harness.app)"), "\(revoked.stderr)")
        let region = try await fly.orchestrate(["apply", "--image", Self.image("a")])
        #expect(region.status == 1)
        #expect(region.stderr.contains("Fly has no region `xyz`"), "\(region.stderr)")
        #expect(fly.serving.isEmpty, "nothing was created")
    }

    @Test func machinesAreSpreadOverTheSpecsRegionsThePrimaryFirst() async throws {
        let fly = try await Harness("regions", fly: "regions: [fra]", overrides: "scaling: { replicas: { min: 3, max: 4 } }")
        let apply = try await fly.orchestrate(["apply", "--image", Self.image("a")])
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        #expect(fly.serving.compactMap(\.region).sorted() == ["fra", "iad", "iad"])
    }

    @Test func withoutATokenNothingIsCalled() async throws {
        let fly = try await Harness("no-token")
        let refused = try await fly.orchestrate(["plan", "--image", Self.image("a")], token: nil)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("FLY_API_TOKEN is not set"), "\(refused.stderr)")
        #expect(fly.fly.calls.isEmpty)
    }
}
