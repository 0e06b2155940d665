import Foundation
import NIOCore
import TestSupport
import Testing

@testable import Orchestrator

/// What goes wrong during a Kubernetes release, against the real API server and controllers:
/// pods that never become ready or crash, migrations that fail, a first deploy with nothing to
/// return to, runs that meet, die or are interrupted, and an API server that throttles, fails
/// and loses answers (through a fault-injecting proxy in front of it).
@Suite(.serialized) struct KubernetesFailureTests {
    typealias Cluster = EnvtestCluster
    static func image(_ letter: Character) -> String { Cluster.image(letter) }
    static let shortTimeouts = """
        deploy: { healthTimeout: 12s }
        health: { liveness: { initialDelay: 5s } }
        """

    @Test func aNeverReadyImageIsRolledBackNamingItsPods() async throws {
        let cluster = try await Cluster("neverready", overrides: Self.shortTimeouts)
        defer { Task { await cluster.stop() } }
        #expect(try await cluster.orchestrate(["apply", "--image", Self.image("a")]).status == 0)
        cluster.kubelet.serving(Self.image("b"), .neverReady)
        // The failed release also changed the configuration: the return restores both.
        try cluster.setOverrides(Self.shortTimeouts + "\napp: { logLevel: debug }")
        let failed = try await cluster.orchestrate(["apply", "--image", Self.image("b")])
        // Rolled back (3), not "the rollback failed" (4): the controller's verdict on the failed
        // ReplicaSet does not count against the one rolled back to.
        #expect(failed.status == 3, "\(failed.stderr)")
        #expect(failed.stderr.contains("ProgressDeadlineExceeded"), "\(failed.stderr)")
        #expect(
            failed.stderr.range(of: "not ready: pod pet-backend-[a-z0-9]+-[a-z0-9]+: running, not Ready", options: .regularExpression)
                != nil,
            "\(failed.stderr)")
        #expect(failed.stderr.contains("rolled back to revision 1"), "\(failed.stderr)")
        let history = try await cluster.history()
        #expect(history.live?.image == Self.image("a"))
        #expect(history.live?.outcome == "succeeded")
        #expect(history.releases.first { $0.image == Self.image("b") }?.outcome == "failed")
        #expect(try await cluster.podsEnvironment()["LOG_LEVEL"] == "info")
    }

    /// staging's `backups.beforeRelease`: a Job made from the backup CronJob's template runs
    /// before the migration; when it fails, nothing is migrated and nothing that serves changes.
    @Test func aFailedBackupBeforeTheMigrationStopsTheRelease() async throws {
        let cluster = try await Cluster("backupfirst")
        defer { Task { await cluster.stop() } }
        #expect(try await cluster.orchestrate(["apply", "--image", Self.image("a")]).status == 0)
        #expect(try await cluster.list(cluster.jobsPath).allSatisfy { Field.string($0, "metadata", "name")?.hasSuffix("-backup") == false })

        let second = try await cluster.orchestrate(["apply", "--image", Self.image("b")])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("backup taken"), "\(second.stderr)")
        let backup = try #require(
            try await cluster.list(cluster.jobsPath).first { Field.string($0, "metadata", "name")?.hasSuffix("-backup") == true })
        #expect(Field.map(backup, "spec")?["ttlSecondsAfterFinished"] as? Int == 86_400)
        let container = (Field.map(backup, "spec", "template", "spec")?["containers"] as? [[String: Any]])?.first
        #expect(container?["command"] as? [String] == ["pet-backend", "backup"])
        #expect(container?["image"] as? String == Self.image("b"))
        let plan = try await cluster.orchestrate(["plan", "--image", Self.image("b"), "--detailed-exitcode"])
        #expect(plan.status == 0, "the backup Job is not the plan's to change or prune: \(plan.stdout)")

        cluster.kubelet.jobs(running: "backup", .exit(code: 1, log: ["error: PUT in s3://all-pet-plus-backups answered 403 AccessDenied"]))
        let failed = try await cluster.orchestrate(["apply", "--image", Self.image("c")])
        #expect(failed.status == 3, "\(failed.stderr)")
        #expect(failed.stderr.contains("the backup before the migration failed; nothing was migrated or changed"), "\(failed.stderr)")
        #expect(failed.stderr.contains("failed the backup: the Job failed"), "\(failed.stderr)")
        #expect(!failed.stderr.contains("wait for the migrations"), "\(failed.stderr)")
        #expect(try await cluster.history().live?.image == Self.image("b"))
    }

    @Test func aCrashLoopingImageFailsFastShowingItsLogAndIsRolledBack() async throws {
        let cluster = try await Cluster("crashloop")
        defer { Task { await cluster.stop() } }
        #expect(try await cluster.orchestrate(["apply", "--image", Self.image("a")]).status == 0)
        cluster.kubelet.serving(Self.image("c"), .crashLoop(log: ["fatal: cannot load the payment provider configuration"]))
        let started = ContinuousClock.now
        let crashed = try await cluster.orchestrate(["apply", "--image", Self.image("c")])
        #expect(crashed.status == 3, "\(crashed.stderr)")
        #expect(ContinuousClock.now - started < .seconds(30), "it waited for a deadline instead of failing fast")
        #expect(
            crashed.stderr.range(of: "pod pet-backend-[a-z0-9]+-[a-z0-9]+ failed start-up: CrashLoopBackOff", options: .regularExpression)
                != nil,
            "\(crashed.stderr)")
        #expect(crashed.stderr.contains("| fatal: cannot load the payment provider configuration"), "\(crashed.stderr)")
        #expect(crashed.stderr.contains("rolled back to revision 1"))
        #expect(try await cluster.history().live?.image == Self.image("a"))
    }

    @Test func aFailingMigrationFailsFastChangesNothingThatServesAndRunsAgainOnRetry() async throws {
        let cluster = try await Cluster("migration")
        defer { Task { await cluster.stop() } }
        #expect(try await cluster.orchestrate(["apply", "--image", Self.image("a")]).status == 0)
        let before = try #require(try await cluster.object(cluster.deploymentPath))
        // The release also changes the configuration, which must not reach the serving pods
        // while its migration fails.
        try cluster.setOverrides("app: { logLevel: debug }")

        // The migration's image cannot be pulled: the apply fails at once (the release command
        // timeout is 5 minutes), naming the pod.
        cluster.kubelet.jobs(running: "migrate", .waiting(reason: "ImagePullBackOff", message: "Back-off pulling image"))
        let started = ContinuousClock.now
        let stuck = try await cluster.orchestrate(["apply", "--image", Self.image("d")])
        #expect(stuck.status == 3, "\(stuck.stderr)")
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(stuck.stderr.contains("the migration failed; nothing else was changed"), "\(stuck.stderr)")
        #expect(try await cluster.podsEnvironment()["LOG_LEVEL"] == "info")
        #expect(
            stuck.stderr.range(
                of: #"\(pod pet-backend-migrate-[a-z0-9]+-[a-z0-9]+\) failed the migrations: ImagePullBackOff"#, options: .regularExpression
            )
                != nil, "\(stuck.stderr)")

        // Pulled now, the migration itself fails: run again (not the old verdict), its log shown.
        cluster.kubelet.jobs(running: "migrate", .exit(code: 1, log: [#"error: relation "orders" already exists"#]))
        let failed = try await cluster.orchestrate(["apply", "--image", Self.image("d")])
        #expect(failed.status == 3, "\(failed.stderr)")
        #expect(failed.stderr.contains(#"| error: relation "orders" already exists"#), "\(failed.stderr)")
        #expect(failed.stderr.contains("failed the migrations: the Job failed"), "\(failed.stderr)")
        // Whether the Job controller or the pod check saw the failure first, the failed Job is
        // gone with its pods once its log is shown.
        try await cluster.eventually("the failed migration Job and its pods are deleted") {
            func runsImageD(_ podSpec: [String: Any]?) -> Bool {
                (podSpec?["containers"] as? [[String: Any]])?.first?["image"] as? String == Self.image("d")
            }
            let selector = "app.kubernetes.io/component=migration"
            let jobs = try await cluster.list(cluster.jobsPath, labelSelector: selector)
            let pods = try await cluster.list(cluster.podsPath, labelSelector: selector)
            return !jobs.contains { runsImageD(Field.map($0, "spec", "template", "spec")) }
                && !pods.contains { runsImageD(Field.map($0, "spec")) }
        }

        // Fixed: the retry creates the Job again and runs it.
        cluster.kubelet.jobs(running: "migrate", .exit(code: 0, log: ["migrated"]))
        let fixed = try await cluster.orchestrate(["apply", "--image", Self.image("d")])
        #expect(fixed.status == 0, "\(fixed.stderr)")
        #expect(fixed.stderr.contains("migrations complete"), "\(fixed.stderr)")

        // Nothing that serves changed during the two failures: the Deployment kept generation
        // and image until the fixed apply.
        let history = try await cluster.history()
        #expect(history.releases.map(\.revision) == [2, 1], "\(history.releases.map(\.revision))")
        #expect(Field.int(before, "metadata", "generation") == 1)
    }

    /// `kill -9` while the migration runs leaves its Job behind; when it fails on its own, the next
    /// apply sees the old failure, deletes the Job with its pods and runs the migration again.
    @Test func aMigrationThatFailedAfterItsApplyWasKilledRunsAgainOnTheNextApply() async throws {
        let cluster = try await Cluster("killedmigration", overrides: Self.shortTimeouts)
        defer { Task { await cluster.stop() } }
        cluster.kubelet.jobs(running: "migrate", .neverReady)
        let process = try CleanProcess(
            CommandRunner.executable,
            arguments: cluster.arguments(["apply", "--image", Self.image("a")]),
            environment: ProcessInfo.processInfo.environment, output: cluster.folder + "/killed.log")
        try await cluster.eventually("the migration's pod runs") {
            try await cluster.list(cluster.podsPath, labelSelector: "app.kubernetes.io/component=migration").contains {
                Field.string($0, "status", "phase") == "Running"
            }
        }
        process.signal(SIGKILL)
        #expect(await process.waitForExit(timeout: .seconds(10)) != nil)

        cluster.kubelet.jobs(running: "migrate", .exit(code: 1, log: ["error: could not obtain lock on relation designs"]))
        try await cluster.eventually("the Job fails on its own") {
            try await cluster.list(cluster.jobsPath, labelSelector: "app.kubernetes.io/component=migration").contains {
                if case .failed = KubernetesReadiness.job($0) { return true }
                return false
            }
        }

        cluster.kubelet.jobs(running: "migrate", .exit(code: 0, log: ["migrated"]))
        let next = try await cluster.orchestrate(["apply", "--image", Self.image("a")])
        #expect(next.status == 0, "\(next.stderr)")
        #expect(
            next.stderr.range(of: #"Job/pet-backend-migrate-[a-z0-9]+ failed before \(BackoffLimitExceeded"#, options: .regularExpression)
                != nil, "\(next.stderr)")
        #expect(next.stderr.contains("migrations complete"), "\(next.stderr)")
        #expect(try await cluster.history().live?.outcome == "succeeded")
    }

    @Test func aFirstDeployThatFailsItsHealthCheckIsNeverNoChanges() async throws {
        let cluster = try await Cluster("firstfail", overrides: Self.shortTimeouts)
        defer { Task { await cluster.stop() } }
        cluster.kubelet.serving(Self.image("a"), .serveUnhealthy)
        let failed = try await cluster.orchestrate(["apply", "--image", Self.image("a")])
        #expect(failed.status == 3, "\(failed.stderr)")
        #expect(failed.stderr.contains("Service/pet-backend failed GET /healthz/detailed: HTTP 503"), "\(failed.stderr)")
        #expect(failed.stderr.contains("no successful release to return to; it was stopped"), "\(failed.stderr)")
        // As on every target, a first release that never passed its gate does not stay up.
        let stopped = try #require(try await cluster.object(cluster.deploymentPath))
        #expect(Field.int(stopped, "spec", "replicas") == 0)
        try await cluster.eventually("the failed release's pods are gone") {
            try await cluster.list(cluster.podsPath, labelSelector: "app.kubernetes.io/component=api").isEmpty
        }

        let plan = try await cluster.orchestrate(["plan", "--image", Self.image("a"), "--detailed-exitcode"])
        #expect(plan.status == 2, "\(plan.stdout)\(plan.stderr)")
        #expect(plan.stdout.contains("revision 1 failed its rollout"), "\(plan.stdout)")

        // The database came back: the same apply now verifies the release.
        cluster.kubelet.serving(Self.image("a"), .serve)
        let again = try await cluster.orchestrate(["apply", "--image", Self.image("a")])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try await cluster.history().live?.outcome == "succeeded")
        // It starts again from zero at the spec's minimum (staging autoscales from 2).
        let restarted = try #require(try await cluster.object(cluster.deploymentPath))
        #expect(Field.int(restarted, "spec", "replicas") == 2)
        #expect(Field.int(restarted, "status", "availableReplicas") == 2)
    }

    @Test func concurrentAppliesOneDeploysTheOtherIsToldWhoHoldsTheLock() async throws {
        let cluster = try await Cluster("concurrent")
        defer { Task { await cluster.stop() } }
        async let first = cluster.orchestrate(["apply", "--image", Self.image("a")])
        async let second = cluster.orchestrate(["apply", "--image", Self.image("b")])
        let outcomes = try await [first, second]
        #expect(outcomes.map(\.status).sorted() == [0, 5], "\(outcomes.map(\.stderr))")
        let refused = try #require(outcomes.first { $0.status == 5 })
        #expect(refused.stderr.contains("locked by"), "\(refused.stderr)")
        #expect(refused.stderr.contains("most likely still deploying"), "\(refused.stderr)")
    }

    @Test func aLockLeftByAKilledRunSaysSoAndCanBeStolen() async throws {
        let cluster = try await Cluster("stolen")
        defer { Task { await cluster.stop() } }
        // A run that died 25 s ago, having renewed its 30-s lease for the last time.
        let renewed = Date().addingTimeInterval(-25)
        try await Cluster.create(
            cluster.admin, "/apis/coordination.k8s.io/v1/namespaces/\(cluster.namespace)/leases",
            [
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": ["name": "\(cluster.instance)-deploy"],
                "spec": [
                    "holderIdentity": "ci@runner-7 pid 4242", "leaseDurationSeconds": 30,
                    "acquireTime": KubernetesLease.timestamp(renewed), "renewTime": KubernetesLease.timestamp(renewed),
                ],
            ])
        let locked = try await cluster.orchestrate(["apply", "--image", Self.image("a")])
        #expect(locked.status == 5, "\(locked.stderr)")
        #expect(locked.stderr.contains("locked by ci@runner-7 pid 4242"), "\(locked.stderr)")
        #expect(locked.stderr.contains("most likely died"), "\(locked.stderr)")
        #expect(locked.stderr.range(of: #"in [0-9] s\)"#, options: .regularExpression) != nil, "\(locked.stderr)")
        #expect(locked.stderr.contains("--steal-lock"))
        let stolen = try await cluster.orchestrate(["apply", "--image", Self.image("a"), "--steal-lock"])
        #expect(stolen.status == 0, "\(stolen.stderr)")
        #expect(stolen.stderr.contains("taking the deploy lock from ci@runner-7 pid 4242"), "\(stolen.stderr)")
    }

    /// A run killed on this machine (`kill -9`, a closed laptop lid's lost shell) is known dead
    /// by its process identity: the next apply takes its fresh lease at once, and a live holder's
    /// lease is still refused.
    @Test func aLockHeldByAProcessThatNoLongerExistsHereIsTakenAtOnce() async throws {
        let cluster = try await Cluster("vanished")
        defer { Task { await cluster.stop() } }
        let holder = try CleanProcess("/bin/sleep", arguments: ["60"], environment: [:], output: cluster.folder + "/holder.log")
        let identity = try #require(ProcessIdentity.of(holder.pid))
        #expect(!identity.isCertainlyGone)
        let now = KubernetesLease.timestamp(Date())
        try await Cluster.create(
            cluster.admin, "/apis/coordination.k8s.io/v1/namespaces/\(cluster.namespace)/leases",
            [
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": [
                    "name": "\(cluster.instance)-deploy", "annotations": [KubernetesLease.processAnnotation: identity.text],
                ],
                "spec": [
                    "holderIdentity": "root@here pid \(holder.pid)", "leaseDurationSeconds": 30, "acquireTime": now, "renewTime": now,
                ],
            ])
        let whileAlive = try await cluster.orchestrate(["apply", "--image", Self.image("a")])
        #expect(whileAlive.status == 5, "\(whileAlive.stderr)")
        #expect(whileAlive.stderr.contains("most likely still deploying"), "\(whileAlive.stderr)")
        holder.signal(SIGKILL)
        #expect(await holder.waitForExit(timeout: .seconds(10)) != nil)
        #expect(identity.isCertainlyGone)
        let taken = try await cluster.orchestrate(["apply", "--image", Self.image("a")])
        #expect(taken.status == 0, "\(taken.stderr)")
        #expect(taken.stderr.contains("that process no longer exists on this machine"), "\(taken.stderr)")
    }

    @Test func anInterruptedApplyGivesTheLockUpAndTheNextOneConverges() async throws {
        let cluster = try await Cluster("interrupt", overrides: Self.shortTimeouts)
        defer { Task { await cluster.stop() } }
        cluster.kubelet.serving(Self.image("a"), .neverReady)
        let lease = "/apis/coordination.k8s.io/v1/namespaces/\(cluster.namespace)/leases/\(cluster.instance)-deploy"
        let process = try CleanProcess(
            CommandRunner.executable,
            arguments: cluster.arguments(["apply", "--image", Self.image("a")]),
            environment: ProcessInfo.processInfo.environment, output: cluster.folder + "/interrupted.log")
        try await cluster.eventually("the apply holds the lock and is waiting for the rollout") {
            let holder = Field.string(try await cluster.object(lease), "spec", "holderIdentity")
            let deployment = try await cluster.object(cluster.deploymentPath)
            return holder != nil && deployment != nil
        }
        process.signal(SIGINT)
        let status = await process.waitForExit(timeout: .seconds(10))
        let log = (try? String(contentsOfFile: cluster.folder + "/interrupted.log", encoding: .utf8)) ?? ""
        #expect(status == 130, "\(log)")
        let holder = Field.string(try await cluster.object(lease), "spec", "holderIdentity")
        #expect(holder == nil, "the lock was kept by \(holder ?? "")")
        cluster.kubelet.serving(Self.image("a"), .serve)
        let next = try await cluster.orchestrate(["apply", "--image", Self.image("a")])
        #expect(next.status == 0, "\(next.stderr)")
        #expect(try await cluster.history().live?.outcome == "succeeded")
    }

    @Test func throttlingServerErrorsResetsLostAnswersAndExpiredWatchesAreRetried() async throws {
        let cluster = try await Cluster("faults")
        defer { Task { await cluster.stop() } }
        let proxy = try await FaultProxy(upstream: cluster.plane.server, certificateAuthority: cluster.plane.certificateAuthority)
        defer { Task { await proxy.stop() } }
        let config = try cluster.writeKubeconfig(token: try await cluster.token(), name: "through-proxy", server: proxy.url)
        let namespaced = "/namespaces/\(cluster.namespace)"
        // The very first request reset: the server took the connection, so it is not "unreachable".
        proxy.inject(.reset, pathPrefix: "/")
        proxy.inject(.throttled, times: 2, pathPrefix: "/apis/apps/v1\(namespaced)/deployments")
        proxy.inject(.internalError, times: 2, pathPrefix: "/apis/apps/v1\(namespaced)/replicasets")
        proxy.inject(.gateway(503), pathPrefix: "/api/v1\(namespaced)/services/pet-backend:http/proxy")
        proxy.inject(.gateway(502), pathPrefix: "/api/v1\(namespaced)/secrets")
        proxy.inject(.noAnswer, pathPrefix: "/apis/apps/v1\(namespaced)/replicasets")
        proxy.inject(.answerLost, method: .patch, pathPrefix: "/apis/apps/v1\(namespaced)/deployments/pet-backend")
        proxy.inject(.expiredWatchEvent, pathPrefix: "/apis/batch/v1\(namespaced)/jobs")
        proxy.inject(.expiredWatchStatus, pathPrefix: "/apis/apps/v1\(namespaced)/deployments")
        proxy.warn("the test says hello", pathPrefix: "/api/v1\(namespaced)/configmaps")
        let applied = try await cluster.orchestrate(["apply", "--image", Self.image("a"), "--request-timeout", "3"], kubeconfig: config)
        #expect(applied.status == 0, "\(applied.stderr)")
        #expect(proxy.pending == 0, "not every fault was met: \(proxy.unmet)")
        #expect(applied.stderr.components(separatedBy: "Warning from the API server: the test says hello").count == 2, "\(applied.stderr)")
        #expect(try await cluster.history().live?.outcome == "succeeded")
    }

    /// The API keeps failing (more 500s than the client retries) after the Deployment changed:
    /// a failed release, returned from, exit 3, not "invalid input" with new pods left rolling.
    @Test func anAPIFailureMidApplyIsAFailedReleaseThatIsRolledBack() async throws {
        let cluster = try await Cluster("apifails")
        defer { Task { await cluster.stop() } }
        #expect(try await cluster.orchestrate(["apply", "--image", Self.image("a")]).status == 0)
        let proxy = try await FaultProxy(upstream: cluster.plane.server, certificateAuthority: cluster.plane.certificateAuthority)
        defer { Task { await proxy.stop() } }
        let config = try cluster.writeKubeconfig(token: try await cluster.token(), name: "through-proxy", server: proxy.url)
        proxy.inject(
            .internalError, times: RetryPolicy.standard.attempts, method: .patch,
            pathPrefix: "/apis/autoscaling/v2/namespaces/\(cluster.namespace)/horizontalpodautoscalers", dryRun: false)
        let failed = try await cluster.orchestrate(["apply", "--image", Self.image("b")], kubeconfig: config)
        #expect(failed.status == 3, "\(failed.stderr)")
        #expect(failed.stderr.contains("the Kubernetes API failed during the rollout"), "\(failed.stderr)")
        #expect(failed.stderr.contains("rolled back to revision 1"), "\(failed.stderr)")
        #expect(proxy.pending == 0)
        let history = try await cluster.history()
        #expect(history.live?.image == Self.image("a"))
        #expect(history.releases.first { $0.image == Self.image("b") }?.outcome == "failed")
    }

    /// The API fails while the release's ConfigMap is written: nothing that serves changed.
    @Test func anAPIFailureBeforeThePodsChangeLeavesWhatServes() async throws {
        let cluster = try await Cluster("apifailsearly")
        defer { Task { await cluster.stop() } }
        #expect(try await cluster.orchestrate(["apply", "--image", Self.image("a")]).status == 0)
        let before = try #require(try await cluster.object(cluster.deploymentPath))
        let proxy = try await FaultProxy(upstream: cluster.plane.server, certificateAuthority: cluster.plane.certificateAuthority)
        defer { Task { await proxy.stop() } }
        let config = try cluster.writeKubeconfig(token: try await cluster.token(), name: "through-proxy", server: proxy.url)
        try cluster.setOverrides("app: { logLevel: debug }")
        proxy.inject(
            .internalError, times: RetryPolicy.standard.attempts, method: .patch,
            pathPrefix: "/api/v1/namespaces/\(cluster.namespace)/configmaps", dryRun: false)
        let failed = try await cluster.orchestrate(["apply", "--image", Self.image("b")], kubeconfig: config)
        #expect(failed.status == 3, "\(failed.stderr)")
        #expect(failed.stderr.contains("Nothing that serves was changed"), "\(failed.stderr)")
        let after = try #require(try await cluster.object(cluster.deploymentPath))
        #expect(Field.int(after, "metadata", "generation") == Field.int(before, "metadata", "generation"))
        #expect(try await cluster.podsEnvironment()["LOG_LEVEL"] == "info")
    }

    @Test func applyExitsAsSoonAsTheReleaseIsVerified() async throws {
        let cluster = try await Cluster("prompt")
        defer { Task { await cluster.stop() } }
        let started = Date()
        let applied = try await cluster.orchestrate(["apply", "--image", Self.image("a")])
        let ended = Date()
        #expect(applied.status == 0, "\(applied.stderr)")
        // The progress lines carry their time; the last one comes right before the exit.
        let stamps = applied.stderr.split(separator: "\n").compactMap { line in
            (try? Date(String(line.prefix(20)), strategy: .iso8601))
        }
        let last = try #require(stamps.last)
        #expect(last >= started.addingTimeInterval(-1))
        #expect(ended.timeIntervalSince(last) < 2, "the process lingered \(ended.timeIntervalSince(last)) s after its last step")
    }
}
