import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The engine on the local platform, end to end: real `orchestrate` processes deploying real
/// `pet-backend` builds with their own PostgreSQL and Redis, one scenario per test, each in an
/// environment of its own.
@Suite(.serialized) struct LocalDeployTests {
    @Test func aFirstApplyCreatesEverythingThenPlansNoChanges() async throws {
        let deployment = try LocalDeployment()
        defer { deployment.tearDown() }
        let firstPlan = try await deployment.orchestrate(["plan", "--detailed-exitcode"])
        #expect(firstPlan.status == 2, "\(firstPlan.stderr)")
        #expect(firstPlan.stdout.contains("+ postgres") && firstPlan.stdout.contains("+ release"))
        #expect(firstPlan.stdout.contains("secret JWT_SECRET: (sensitive)"))
        let first = try await deployment.firstApply()
        #expect(first.stdout.contains("v1 is live on 2 instance(s)"), "\(first.stdout)")
        let unchanged = try await deployment.orchestrate(["plan", "--detailed-exitcode"])
        #expect(unchanged.status == 0, "\(unchanged.stdout)\(unchanged.stderr)")
        #expect(unchanged.stdout.contains("No changes"))
        // No secret value appears in anything the commands print or record.
        try await deployment.expectNoSecretValueShown(in: [firstPlan, first, unchanged])
    }

    @Test func aNewBuildIsPlannedAndRolledOut() async throws {
        let deployment = try LocalDeployment()
        defer { deployment.tearDown() }
        _ = try await deployment.firstApply()
        let buildB = try deployment.newBuild("b")
        let changed = try await deployment.orchestrate(["plan", "--detailed-exitcode", "--binary", buildB])
        #expect(changed.status == 2)
        #expect(changed.stdout.contains("~ release") && changed.stdout.contains("image: sha256:"))
        let second = try await deployment.orchestrate(["apply", "--binary", buildB])
        #expect(second.status == 0, "\(second.stderr)")
        try await deployment.expectServing(release: 2, instances: 2)
        try await deployment.expectNoSecretValueShown(in: [changed, second])
    }

    @Test func aCrashLoopingBuildFailsFastNamingItsLogAndIsRolledBack() async throws {
        let deployment = try LocalDeployment()
        defer { deployment.tearDown() }
        _ = try await deployment.firstApply()
        let crashing = try deployment.script(
            "crash", body: "echo 'fatal: cannot load the payment provider configuration' >&2\nexit 3")
        let started = ContinuousClock.now
        let crashed = try await deployment.orchestrate(["apply", "--binary", crashing])
        #expect(crashed.status == 3, "\(crashed.stderr)")
        #expect(ContinuousClock.now - started < .seconds(20), "waited for the health timeout instead of failing fast")
        #expect(crashed.stderr.contains("failed start-up: the process exited with status 3"), "\(crashed.stderr)")
        #expect(crashed.stderr.contains("fatal: cannot load the payment provider configuration"))
        #expect(crashed.stderr.range(of: "test-[0-9]+ failed", options: .regularExpression) != nil)
        #expect(crashed.stderr.contains("rolled back to v1"))
        try await deployment.expectServing(release: 3, instances: 2, digestOf: 1)
        #expect(try await deployment.history().releases.map(\.outcome) == ["succeeded", "failed", "succeeded"])
        // Asked for by name, the failed release is tried again, with a note that it never
        // succeeded, and returned from again.
        let again = try await deployment.orchestrate(["rollback", "--to", "v2"])
        #expect(again.status == 3, "\(again.stderr)")
        #expect(again.stderr.contains("note: v2 never succeeded (it failed); rolling back to it as asked"), "\(again.stderr)")
    }

    /// A build that starts but never becomes healthy (its database is unreachable): the detailed
    /// health check fails within the timeout, rollback, exit 3.
    @Test func aBuildThatNeverBecomesHealthyIsRolledBack() async throws {
        let deployment = try LocalDeployment()
        defer { deployment.tearDown() }
        _ = try await deployment.firstApply()
        let unhealthy = try deployment.script(
            "unhealthy", body: "DATABASE_URL=postgres://nobody:x@127.0.0.1:1/none exec \(deployment.goodBuild) \"$@\"")
        let failedHealth = try await deployment.orchestrate(["apply", "--binary", unhealthy])
        #expect(failedHealth.status == 3, "\(failedHealth.stderr)")
        #expect(failedHealth.stderr.contains("failed GET /healthz/detailed: not healthy within 6s"), "\(failedHealth.stderr)")
        try await deployment.expectServing(release: 3, instances: 2, digestOf: 1)
    }

    /// A release command (migrations) that fails: the release stops there, nothing else changes.
    @Test func aFailingMigrationChangesNothingThatServes() async throws {
        let deployment = try LocalDeployment()
        defer { deployment.tearDown() }
        _ = try await deployment.firstApply()
        let brokenMigration = deployment.root + "/build-broken-migration.sh"
        try Data("#!/bin/sh\necho 'migration 004 failed: relation \"orders\" already exists' >&2\nexit 1\n".utf8)
            .write(to: URL(fileURLWithPath: brokenMigration))
        chmod(brokenMigration, 0o755)
        let failedMigration = try await deployment.orchestrate(["apply", "--binary", brokenMigration])
        #expect(failedMigration.status == 3, "\(failedMigration.stderr)")
        #expect(failedMigration.stderr.contains("v2 failed before any instance changed"), "\(failedMigration.stderr)")
        #expect(failedMigration.stderr.contains("migration 004 failed"))
        try await deployment.expectServing(release: 1, instances: 2)
    }

    @Test func aRollbackToANamedReleaseRestoresItsBuild() async throws {
        let deployment = try LocalDeployment()
        defer { deployment.tearDown() }
        _ = try await deployment.firstApply()
        let second = try await deployment.orchestrate(["apply", "--binary", try deployment.newBuild("b")])
        #expect(second.status == 0, "\(second.stderr)")
        let rolledBack = try await deployment.orchestrate(["rollback", "--to", "v1"])
        #expect(rolledBack.status == 0, "\(rolledBack.stderr)")
        try await deployment.expectServing(release: 3, instances: 2, digestOf: 1)
        let unknown = try await deployment.orchestrate(["rollback", "--to", "v9"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("has no release v9; it has: v1, v2, v3"), "\(unknown.stderr)")
        try await deployment.expectNoSecretValueShown(in: [rolledBack])
    }

    /// A second apply while one runs is refused, naming the holder; killing the first leaves a
    /// state the next apply converges from.
    @Test func aSecondApplyIsRefusedAndAKilledOneLeavesAStateTheNextConvergesFrom() async throws {
        let deployment = try LocalDeployment()
        defer { deployment.tearDown() }
        _ = try await deployment.firstApply()
        let slow = try deployment.script("slow", body: "sleep 3\nexec \(deployment.goodBuild) \"$@\"")
        let background = try deployment.startInBackground(["apply", "--binary", slow])
        try await deployment.waitForLockHolder()
        let refused = try await deployment.orchestrate(["apply", "--binary", slow])
        #expect(refused.status == 5, "\(refused.stderr)")
        #expect(refused.stderr.contains("is locked by `orchestrate apply test` by"), "\(refused.stderr)")
        #expect(refused.stderr.contains("(pid \(background.processIdentifier))"))
        try await deployment.waitForRelease(2, outcome: "in-progress")
        kill(background.processIdentifier, SIGKILL)
        background.waitUntilExit()
        let converged = try await deployment.orchestrate(["apply", "--binary", slow])
        #expect(converged.status == 0, "\(converged.stderr)")
        #expect(converged.stderr.contains("did not finish; continuing from the state it left"))
        try await deployment.expectServing(release: 3, instances: 2, digestOf: 2)
        #expect(try await deployment.history().releases.first { $0.id == 2 }?.outcome == "interrupted")
    }

    /// `kill -9` of the first apply at each step of creating PostgreSQL (initdb running, the
    /// cluster just in place, the database being created, the tuning being applied, after it):
    /// the next apply finishes the job and the release command finds its database.
    @Test(arguments: ["data.partial-", "data", "ensure-database.sql", "tuning.sql", "tuning.applied"])
    func aFirstApplyKilledWhileCreatingPostgreSQLIsFinishedByTheNext(step: String) async throws {
        let deployment = try LocalDeployment()
        defer { deployment.tearDown() }
        let first = try deployment.startInBackground(["apply", "--binary", deployment.goodBuild])
        let reached = try await deployment.waitForPostgresFile(startingWith: step)
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(reached, "the first apply never reached \(step)")
        let converged = try await deployment.orchestrate(["apply"])
        #expect(converged.status == 0, "\(converged.stderr)")
        try await deployment.expectServing(release: 1, instances: 2)
    }

    /// `kill -9` of a supervisor takes its instance with it (the port is freed, `status` is
    /// right to call it stopped), `plan` sees the gap, and `apply` fills it.
    @Test func aKilledSupervisorTakesItsInstanceWithIt() async throws {
        let deployment = try LocalDeployment()
        defer { deployment.tearDown() }
        _ = try await deployment.firstApply()
        struct Record: Decodable {
            var port: Int
            var supervisorPID: Int32
        }
        let record = try JSONDecoder().decode(
            Record.self, from: Data(contentsOf: URL(fileURLWithPath: deployment.stateDirectory + "/test/instances/test-1.json")))
        #expect(LocalProcess.accepts(record.port))
        kill(record.supervisorPID, SIGKILL)
        let deadline = ContinuousClock.now + .seconds(15)
        while LocalProcess.accepts(record.port), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!LocalProcess.accepts(record.port), "the instance outlived its supervisor")
        let plan = try await deployment.orchestrate(["plan", "--detailed-exitcode"])
        #expect(plan.status == 2, "\(plan.stdout)\(plan.stderr)")
        let converged = try await deployment.orchestrate(["apply"])
        #expect(converged.status == 0, "\(converged.stderr)")
        try await deployment.expectServing(release: 1, instances: 2)
    }

    /// A hung instance (SIGSTOP: alive to its supervisor, serving nobody) is drift: status calls
    /// it unhealthy, plan shows it, apply replaces it.
    @Test func aHungInstanceIsDriftThatApplyReplaces() async throws {
        let deployment = try LocalDeployment()
        defer { deployment.tearDown() }
        _ = try await deployment.firstApply()
        let hung = try #require(deployment.instancePID("test-1"))
        kill(hung, SIGSTOP)
        let status = try await deployment.orchestrate(["status"])
        #expect(status.stdout.contains("unhealthy"), "\(status.stdout)")
        let plan = try await deployment.orchestrate(["plan", "--detailed-exitcode"])
        #expect(plan.status == 2, "\(plan.stdout)\(plan.stderr)")
        #expect(plan.stdout.contains("not answering: test-1"), "\(plan.stdout)")
        let converged = try await deployment.orchestrate(["apply"])
        #expect(converged.status == 0, "\(converged.stderr)")
        try await deployment.expectServing(release: 1, instances: 2)
        #expect(kill(hung, 0) != 0, "the hung process was left behind")
    }

    /// The supervisor runs the spec's liveness check as the kubelet would: a hung instance is
    /// restarted without anyone running apply.
    @Test func aSupervisorRestartsAnInstanceThatFailsItsLivenessCheck() async throws {
        let deployment = try LocalDeployment(
            liveness: "{ path: /healthz, initialDelay: 1s, period: 1s, timeout: 1s, failureThreshold: 2 }")
        defer { deployment.tearDown() }
        _ = try await deployment.firstApply()
        let hung = try #require(deployment.instancePID("test-1"))
        kill(hung, SIGSTOP)
        let deadline = ContinuousClock.now + .seconds(20)
        while deployment.instancePID("test-1") == hung || deployment.instancePID("test-1") == nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(deployment.instancePID("test-1") != hung, "the supervisor kept the hung process")
        #expect(kill(hung, 0) != 0)
        try await deployment.eventually("the restarted instance answers") {
            try await deployment.orchestrate(["status"]).stdout.components(separatedBy: "unhealthy").count == 1
        }
        try await deployment.expectServing(release: 1, instances: 2)
        let log = try String(contentsOfFile: deployment.stateDirectory + "/test/instances/test-1.log", encoding: .utf8)
        #expect(log.contains("/healthz failed 2 time(s) in a row; restarting pid \(hung)"), "\(log.suffix(2000))")
    }

    /// An instance its supervisor restarted twice is healthy in `status` as soon as it answers
    /// again: the crash-loop rule judges a release during a rollout, not an instance later.
    @Test func anInstanceRestartedTwiceIsHealthyOnceItAnswers() async throws {
        let deployment = try LocalDeployment()
        defer { deployment.tearDown() }
        _ = try await deployment.firstApply()
        for _ in 0..<2 {
            let pid = try #require(deployment.instancePID("test-1"))
            kill(pid, SIGKILL)
            try await deployment.eventually("test-1 is restarted") {
                deployment.instancePID("test-1").map { $0 != pid } ?? false
            }
        }
        try await deployment.eventually("status calls the restarted instance healthy", within: .seconds(15)) {
            try await deployment.orchestrate(["status"]).stdout.components(separatedBy: "unhealthy").count == 1
        }
        let status = try await deployment.orchestrate(["status"])
        #expect(status.stdout.contains("healthy"), "\(status.stdout)")
    }

    /// PostgreSQL killed (`kill -9` of the postmaster): status and plan see it down at once (not
    /// trusting a pid file), and apply exits 0 only once every instance answers its detailed
    /// health path again.
    @Test func aKilledPostgreSQLIsSeenDownAndApplyReturnsOnceTheInstancesAreHealthy() async throws {
        let deployment = try LocalDeployment()
        defer { deployment.tearDown() }
        _ = try await deployment.firstApply()
        let link = deployment.stateDirectory + "/test/postgres"
        let folder = (try? FileManager.default.destinationOfSymbolicLink(atPath: link)) ?? link
        let lockFile = try String(contentsOfFile: folder + "/data/postmaster.pid", encoding: .utf8)
        let postmaster = try #require(lockFile.split(separator: "\n").first.flatMap { Int32($0) })
        kill(postmaster, SIGKILL)
        let status = try await deployment.orchestrate(["status"])
        #expect(status.stdout.contains("postgres: down"), "\(status.stdout)")
        let plan = try await deployment.orchestrate(["plan", "--detailed-exitcode"])
        #expect(plan.status == 2, "\(plan.stdout)\(plan.stderr)")
        let applied = try await deployment.orchestrate(["apply"])
        #expect(applied.status == 0, "\(applied.stderr)")
        for port in [deployment.basePort + 10, deployment.basePort + 11] {
            let url = try #require(URL(string: "http://127.0.0.1:\(port)/healthz/detailed"))
            let (_, response) = try await URLSession.shared.data(from: url)
            #expect((response as? HTTPURLResponse)?.statusCode == 200, "instance on \(port) right after apply")
        }
    }

    /// Ctrl-C: the run stops after its current step, records the release as interrupted, exits
    /// 130, and the next apply converges.
    @Test func ctrlCStopsAfterTheCurrentStepAndTheNextApplyConverges() async throws {
        let deployment = try LocalDeployment()
        defer { deployment.tearDown() }
        _ = try await deployment.firstApply()
        let slower = try deployment.script("slower", body: "sleep 4\nexec \(deployment.goodBuild) \"$@\"")
        let interrupted = try deployment.startInBackground(["apply", "--binary", slower])
        try await deployment.waitForRelease(2, outcome: "in-progress")
        kill(interrupted.processIdentifier, SIGINT)
        interrupted.waitUntilExit()
        #expect(interrupted.terminationStatus == 130)
        #expect(try await deployment.history().releases.first { $0.id == 2 }?.outcome == "interrupted")
        let converged = try await deployment.orchestrate(["apply", "--binary", slower])
        #expect(converged.status == 0, "\(converged.stderr)")
        try await deployment.expectServing(release: 3, instances: 2, digestOf: 2)
    }

    /// A saved plan applies exactly; one made before the live state moved is refused; a corrupt
    /// one is refused for what it is.
    @Test func aSavedPlanAppliesExactlyAndAStaleOneIsRefused() async throws {
        let deployment = try LocalDeployment()
        defer { deployment.tearDown() }
        _ = try await deployment.firstApply()
        let buildB = try deployment.newBuild("b")
        let planFile = deployment.root + "/b.plan.json"
        #expect(try await deployment.orchestrate(["plan", "--out", planFile, "--binary", buildB]).status == 0)
        let stalePlanFile = deployment.root + "/stale.plan.json"
        #expect(try await deployment.orchestrate(["plan", "--out", stalePlanFile, "--binary", buildB]).status == 0)
        let savedApply = try await deployment.orchestrate(["apply", planFile], withEnvironment: false)
        #expect(savedApply.status == 0, "\(savedApply.stderr)")
        try await deployment.expectServing(release: 2, instances: 2)
        let stale = try await deployment.orchestrate(["apply", stalePlanFile], withEnvironment: false)
        #expect(stale.status == 6, "\(stale.stderr)")
        #expect(stale.stderr.contains("has changed since; plan again"))
    }

    /// down stops everything; data and history survive and apply brings it back.
    @Test func downStopsEverythingAndApplyBringsItBackWithItsData() async throws {
        let deployment = try LocalDeployment()
        defer { deployment.tearDown() }
        _ = try await deployment.firstApply()
        let down = try await deployment.orchestrate(["down"])
        #expect(down.status == 0, "\(down.stderr)")
        #expect(LocalProcess.accepts(deployment.basePort) == false)
        let afterDown = try await deployment.orchestrate(["plan", "--detailed-exitcode"])
        #expect(afterDown.status == 2 && afterDown.stdout.contains("+ postgres"))
        let back = try await deployment.orchestrate(["apply"])
        #expect(back.status == 0, "\(back.stderr)")
        #expect(back.stderr.contains("converging instances to v1"), "\(back.stderr)")
        try await deployment.expectServing(release: 1, instances: 2)
        #expect(try await deployment.history().releases.count == 1)
    }

    /// A checkout the postgres user cannot reach (under /root, or a 0700 temporary folder): as
    /// root, PostgreSQL's data goes to /var/lib/orchestrate and the state folder links there.
    @Test func aStateFolderThePostgresUserCannotReach() async throws {
        let deployment = try LocalDeployment(replicas: 1)
        defer {
            deployment.tearDown()
            let link = deployment.stateDirectory + "/test/postgres"
            if let outside = try? FileManager.default.destinationOfSymbolicLink(atPath: link) {
                try? FileManager.default.removeItem(atPath: (outside as NSString).deletingLastPathComponent)
            }
        }
        chmod(deployment.root, 0o700)
        let applied = try await deployment.orchestrate(["apply"])
        #expect(applied.status == 0, "\(applied.stderr)")
        try await deployment.expectServing(release: 1, instances: 1)
        if getuid() == 0 {
            let outside = try FileManager.default.destinationOfSymbolicLink(atPath: deployment.stateDirectory + "/test/postgres")
            #expect(outside.hasPrefix("/var/lib/orchestrate/"))
            #expect(applied.stderr.contains("the postgres user cannot reach"))
        }
    }
}
