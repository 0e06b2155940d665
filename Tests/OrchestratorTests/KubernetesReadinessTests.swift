import Foundation
import Testing

@testable import Orchestrator

/// The readiness rules against objects a real kube-apiserver 1.36 and its controllers wrote
/// (docs/reference/kubernetes-fixtures, captured during a rollout, a stalled rollout, a crash
/// loop, a rollback and two migration Jobs).
@Suite struct KubernetesReadinessTests {
    static func fixture(_ name: String) throws -> [String: Any] {
        let path = CommandRunner.repositoryRoot + "/docs/reference/kubernetes-fixtures/" + name
        return try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    static func items(_ name: String) throws -> [[String: Any]] {
        try fixture(name)["items"] as? [[String: Any]] ?? []
    }

    static func pod(_ name: String, in file: String) throws -> [String: Any] {
        try #require(try items(file).first { Field.string($0, "metadata", "name") == name })
    }

    @Test func aDeploymentIsDoneOnlyWhenEveryUpdatedReplicaIsAvailable() throws {
        #expect(KubernetesReadiness.deployment(try Self.fixture("deployment-complete.json")) == .done)
        #expect(KubernetesReadiness.deployment(try Self.fixture("deployment-after-rollback.json")) == .done)
        #expect(KubernetesReadiness.deployment(try Self.fixture("deployment-progressing-new.json")) == .waiting("0 of 3 updated available"))
        #expect(KubernetesReadiness.deployment(try Self.fixture("deployment-rolling-new-pod-unready.json")) == .waiting("1 of 3 updated"))
        #expect(KubernetesReadiness.deployment(try Self.fixture("deployment-with-crashlooping-pod.json")) == .waiting("1 of 3 updated"))
    }

    @Test func aDeploymentPastItsProgressDeadlineFailedUnlessTheVerdictIsAboutAnotherReplicaSet() throws {
        let stalled = try Self.fixture("deployment-progress-deadline-exceeded.json")
        #expect(
            KubernetesReadiness.deployment(stalled)
                == .failed(#"ProgressDeadlineExceeded: ReplicaSet "web-dd557887b" has timed out progressing."#))
        #expect(
            KubernetesReadiness.deployment(stalled, currentReplicaSet: "web-dd557887b")
                == .failed(#"ProgressDeadlineExceeded: ReplicaSet "web-dd557887b" has timed out progressing."#))
        // Rolled back to revision 1's ReplicaSet: the controller's verdict still names the failed one.
        #expect(
            KubernetesReadiness.deployment(stalled, currentReplicaSet: "web-5474979d55")
                == .waiting("the controller's last verdict is about ReplicaSet web-dd557887b, not the current web-5474979d55"))
    }

    @Test func aDeploymentTheControllerHasNotSeenIsWaitingWhateverItsStatusSays() throws {
        var applied = try Self.fixture("deployment-complete.json")
        var metadata = applied["metadata"] as? [String: Any] ?? [:]
        metadata["generation"] = 2
        applied["metadata"] = metadata
        #expect(KubernetesReadiness.deployment(applied) == .waiting("the controller has not yet seen generation 2 (it reports 1)"))
    }

    @Test func jobsCompleteOrFailWithTheControllersReason() throws {
        #expect(KubernetesReadiness.job(try Self.fixture("job-complete.json")) == .done)
        #expect(
            KubernetesReadiness.job(try Self.fixture("job-failed-backoff-limit.json"))
                == .failed("BackoffLimitExceeded: Job has reached the specified backoff limit"))
    }

    @Test func podsAreReadyWaitingOrFailedFast() throws {
        for pod in try Self.items("pods-ready.json") { #expect(KubernetesReadiness.pod(pod) == .done) }
        #expect(
            KubernetesReadiness.pod(try Self.pod("web-dd557887b-mj8jp", in: "pods-one-never-ready.json"))
                == .waiting("running, not Ready (ContainersNotReady)"))
        let crashing = KubernetesReadiness.pod(try Self.pod("web-6cc7974fc9-f2s7f", in: "pods-crashloopbackoff.json"))
        guard case .failed(let reason) = crashing else {
            Issue.record("a crash-looping pod is \(crashing), not failed")
            return
        }
        #expect(reason.hasPrefix("CrashLoopBackOff: back-off 10s restarting failed container=backend"))
    }

    /// Only the pods of the ReplicaSet being rolled out fail it: in a rollback to the old
    /// ReplicaSet, the failed one's crash-looping pod, still being scaled down, is not the
    /// rollback's verdict (it once made a successful rollback exit 4), nor is a pod being deleted.
    @Test func onlyTheRolledOutReplicaSetsPodsFailTheRollout() throws {
        var pods = try Self.items("pods-crashloopbackoff.json")
        let crashing = "web-6cc7974fc9-f2s7f"
        let failed = KubernetesReadiness.failedPods(pods)
        #expect(failed.map(\.name) == [crashing])
        #expect(failed.filter { $0.replicaSet == "web-6cc7974fc9" }.map(\.name) == [crashing])
        #expect(failed.filter { $0.replicaSet == "web-5474979d55" }.isEmpty)
        let index = try #require(pods.firstIndex { Field.string($0, "metadata", "name") == crashing })
        var metadata = try #require(Field.map(pods[index], "metadata"))
        metadata["deletionTimestamp"] = "2026-12-02T17:57:00Z"
        pods[index]["metadata"] = metadata
        #expect(KubernetesReadiness.failedPods(pods).isEmpty)
    }

    @Test func jobPodsRunToCompletion() throws {
        let file = "pods-of-jobs.json"
        #expect(KubernetesReadiness.pod(try Self.pod("migrate-ok-mdnl6", in: file), runsToCompletion: true) == .done)
        #expect(KubernetesReadiness.pod(try Self.pod("migrate-fail-4hw6w", in: file), runsToCompletion: true) == .failed("exited 1"))
        #expect(KubernetesReadiness.pod(try Self.pod("migrate-fail-n6fnd", in: file), runsToCompletion: true) == .waiting("Running"))
        // The same ended pod, judged as a serving pod, is a failure, not a wait.
        #expect(
            KubernetesReadiness.pod(try Self.pod("migrate-ok-mdnl6", in: file)) == .failed("the pod ended (Succeeded, exit 0)"))
    }
}
