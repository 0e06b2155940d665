import Foundation
import TestSupport
import Testing

/// verify and promote end to end on the local target, with two environments on this machine.
@Suite(.serialized) struct PromotionTests {
    @Test func aVerifiedBuildIsPromotedByDigestAndAReleaseThatFailsProductionLoadIsRolledBack() async throws {
        let project = try PromotionProject(prodReplicas: 1, prodDeploy: "{ healthTimeout: 6s, strategy: rolling }")
        defer { project.tearDown() }
        let candidate = try project.newBuild("candidate")
        let staged = try await project.orchestrate(["apply", "staging", "--binary", candidate])
        #expect(staged.status == 0, "\(staged.stderr)")

        let unverified = try await project.orchestrate(["promote", "staging", "prod", "--yes"])
        #expect(unverified.status == 1)
        #expect(unverified.stderr.contains("staging v1 was never verified: run `orchestrate verify staging`"), "\(unverified.stderr)")

        let verified = try await project.orchestrate(["verify", "staging"])
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        #expect(verified.stdout.contains("PASS p95 latency") && verified.stdout.contains("40 due"), "\(verified.stdout)")
        #expect(try await project.releases("staging").live?.verification?.passed == true)

        let dryRun = try await project.orchestrate(["promote", "staging", "prod", "--dry-run", "--detailed-exitcode"])
        #expect(dryRun.status == 2 && dryRun.stdout.contains("+ release"), "\(dryRun.stdout)\(dryRun.stderr)")
        #expect(try await project.releases("prod").releases.isEmpty)

        let summaryFile = project.root + "/step-summary.md"
        let promoted = try await project.orchestrate(
            ["promote", "staging", "prod", "--yes"], environment: ["GITHUB_STEP_SUMMARY": summaryFile])
        #expect(promoted.status == 0, "\(promoted.stderr)")
        let stagingDigest = try #require(try await project.releases("staging").live?.configuration.artifact.digest)
        let prod = try await project.releases("prod")
        #expect(prod.live?.configuration.artifact.digest == stagingDigest)
        #expect(try await project.servingDigests("prod") == [stagingDigest])
        #expect(prod.live?.promotedFrom?.environment == "staging" && prod.live?.promotedFrom?.release == "v1")
        #expect(prod.live?.verification?.passed == true, "the gate after the rollout is recorded")
        let summary = try String(contentsOfFile: summaryFile, encoding: .utf8)
        #expect(
            summary.contains("## promote staging (local) → prod (local)") && summary.contains("Outcome: promoted: prod v1"), "\(summary)")
        #expect(summary.contains("| p99 latency |"))

        // Ctrl-C during the gate after the rollout leaves the build live but unverified; the next
        // promote finds nothing to change and runs the gate it missed.
        let second = try project.newBuild("second")
        #expect(try await project.orchestrate(["apply", "staging", "--binary", second]).status == 0)
        #expect(try await project.orchestrate(["verify", "staging"]).status == 0)
        let interrupted = try await project.interrupt(
            ["promote", "staging", "prod", "--yes"], when: "verifying under load after the rollout")
        #expect(interrupted.status == 130, "\(interrupted.stderr)")
        let secondDigest = try #require(try await project.releases("staging").live?.configuration.artifact.digest)
        let ungated = try #require(try await project.releases("prod").live)
        #expect(ungated.id == 2 && ungated.configuration.artifact.digest == secondDigest && ungated.verification == nil)
        let finished = try await project.orchestrate(["promote", "staging", "prod", "--yes"])
        #expect(finished.status == 0, "\(finished.stderr)")
        #expect(finished.stdout.contains("promoted: prod v2"), "\(finished.stdout)")
        #expect(try await project.releases("prod").live?.verification?.passed == true)

        // Fast in staging, 1 s late in production: staging passes, prod's gate after the
        // rollout does not, and prod returns to the promoted build.
        let slow = try project.slowInProductionBuild()
        #expect(try await project.orchestrate(["apply", "staging", "--binary", slow]).status == 0)
        let gated = try await project.orchestrate(["promote", "staging", "prod", "--yes", "--verify"])
        #expect(gated.status == 3, "\(gated.stderr)")
        #expect(gated.stderr.contains("failed verify after the rollout: p95 latency"), "\(gated.stderr)")
        let after = try await project.releases("prod")
        let failed = try #require(after.releases.first { $0.id == 3 })
        #expect(failed.outcome == "failed" && failed.verification?.passed == false && failed.promotedFrom?.release == "v3")
        #expect(after.live?.id == 4 && after.live?.configuration.artifact.digest == secondDigest)
        #expect(try await project.servingDigests("prod") == [secondDigest])
    }

    @Test func aCanaryThatMissesTheObjectivesStopsThePromotionAndAFailedVerifyIsNeverPromoted() async throws {
        let project = try PromotionProject(prodReplicas: 2, prodDeploy: "{ healthTimeout: 6s, strategy: canary }")
        defer { project.tearDown() }
        let first = try await project.orchestrate(["apply", "prod", "--binary", project.goodBuild])
        #expect(first.status == 0, "\(first.stderr)")
        let goodDigest = try #require(try await project.releases("prod").live?.configuration.artifact.digest)

        let slow = try project.slowInProductionBuild()
        #expect(try await project.orchestrate(["apply", "staging", "--binary", slow]).status == 0)
        let gated = try await project.orchestrate(["promote", "staging", "prod", "--yes", "--verify"])
        #expect(gated.status == 3, "\(gated.stderr)")
        #expect(gated.stderr.contains("failed verify") && gated.stderr.contains("p95 latency"), "\(gated.stderr)")
        #expect(!gated.stderr.contains("failed verify after the rollout"), "the canary stopped it")
        let prod = try await project.releases("prod")
        #expect(prod.releases.first { $0.id == 2 }?.outcome == "failed")
        #expect(prod.live?.configuration.artifact.digest == goodDigest)
        #expect(try await project.servingDigests("prod") == [goodDigest])

        // Straight into prod, the slow build passes health; verify fails it (exit 7) and records
        // that, and promote refuses to move it on.
        #expect(try await project.orchestrate(["apply", "prod", "--binary", slow, "--yes"]).status == 0)
        let missed = try await project.orchestrate(["verify", "prod"])
        #expect(missed.status == 7, "\(missed.stdout)\(missed.stderr)")
        #expect(missed.stdout.contains("FAIL p95 latency"))
        let refused = try await project.orchestrate(["promote", "prod", "staging", "--yes"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("failed verify: p95 latency"), "\(refused.stderr)")
    }

    @Test func verifySaysWhatItCannotDo() async throws {
        let project = try PromotionProject(prodReplicas: 1, prodDeploy: "{ healthTimeout: 6s }")
        defer { project.tearDown() }
        let nothing = try await project.orchestrate(["verify", "staging"])
        #expect(nothing.status == 1 && nothing.stderr.contains("staging has nothing running to verify"), "\(nothing.stderr)")
        let closedPort = LocalProcess.freePort()
        let unreachable = try await project.orchestrate(["verify", "staging", "--address", "http://127.0.0.1:\(closedPort)"])
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.contains("cannot reach http://127.0.0.1:\(closedPort)"), "\(unreachable.stderr)")
        let both = try await project.orchestrate(["verify", "staging", "--rate", "10", "--connections", "2"])
        #expect(both.status == 1 && both.stderr.contains("give one"))
        let tooFast = try await project.orchestrate(["verify", "staging", "--rate", "1000000"])
        #expect(tooFast.status == 1 && tooFast.stderr.contains("--rate 1000000 is out of range"))
    }
}
