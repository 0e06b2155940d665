import Foundation
import Manifests

/// What an apply waits for on Kubernetes: the migration Job and the Deployment's rollout, each
/// watched in short windows with the pods checked between them, so a pod that cannot start fails
/// the release at once, naming it and showing its log.
extension KubernetesDeployer {
    /// Orchestrate's own deadline runs this much past the Deployment's `progressDeadlineSeconds`
    /// (the same `healthTimeout`): the controller's verdict, made on the object, comes first.
    static let controllerGrace: Duration = .seconds(20)
    static let watchWindow: Duration = .seconds(2)

    var jobsPath: String { "/apis/batch/v1/namespaces/\(namespace)/jobs" }
    var podsPath: String { "/api/v1/namespaces/\(namespace)/pods" }

    /// A Job with the same name (same spec and image) that failed while no apply watched it (the
    /// run was killed or lost its connection) is deleted with its pods, so that this apply runs
    /// the migration again instead of reading the old failure.
    func replaceFailedJob(_ name: String) async throws {
        guard let existing = try await client.object("\(jobsPath)/\(name)", label: "Job/\(name)"),
            case .failed(let why) = KubernetesReadiness.job(existing)
        else { return }
        progress.step("Job/\(name) failed before (\(why)); deleting it to run the migration again")
        try await client.delete("\(jobsPath)/\(name)", label: "Job/\(name)")
        let deadline = ContinuousClock.now + .seconds(60)
        while try await client.object("\(jobsPath)/\(name)", label: "Job/\(name)") != nil {
            guard ContinuousClock.now < deadline else {
                throw KubernetesError.api("Job/\(name) was deleted but is still there after 60 s; delete it by hand and apply again")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// `task` names what the Job does in messages (`the migrations`, `the backup`).
    func waitForJob(_ name: String, task: String = "the migrations", done: String = "migrations complete") async throws {
        let deadline = ContinuousClock.now + .seconds(spec.deploy.releaseCommandTimeout.seconds) + Self.controllerGrace
        var verdict = Readiness.waiting("not seen yet")
        while ContinuousClock.now < deadline {
            _ = try await client.listAndWatch(
                jobsPath, query: "fieldSelector=metadata.name%3D\(name)", until: min(deadline, ContinuousClock.now + Self.watchWindow)
            ) { job in
                guard Field.string(job, "metadata", "name") == name else { return false }
                verdict = KubernetesReadiness.job(job)
                return !verdict.isWaiting
            }
            switch verdict {
            case .done:
                progress.step(done)
                return
            case .failed(let why):
                throw try await abandon(name, failure: try await jobFailure(name, task: task, reason: "the Job failed (\(why))"))
            case .waiting:
                let pods = try await client.list(podsPath, labelSelector: "batch.kubernetes.io/job-name=\(name)", label: "pods")
                for pod in pods {
                    if case .failed(let why) = KubernetesReadiness.pod(pod, runsToCompletion: true) {
                        // With `backoffLimit: 0` a pod that ended is the Job's failure, whether
                        // the controller or this check sees it first: say it the same way.
                        let ended = Field.string(pod, "status", "phase") == "Failed"
                        let reason = ended ? "the Job failed (its pod \(why))" : why
                        throw try await abandon(name, failure: try await jobFailure(name, task: task, reason: reason, pod: pod))
                    }
                }
            }
        }
        throw try await abandon(
            name,
            failure: try await jobFailure(name, task: task, reason: "the Job did not finish within \(spec.deploy.releaseCommandTimeout)"))
    }

    /// A Job that failed, or will not finish by itself (a pod that cannot start, past its time),
    /// is deleted with its pods once its failure and log are in hand, so the next apply runs it
    /// afresh. Whether the controller or the pod check saw the failure first is a race; deleting
    /// in both cases makes the next apply the same either way.
    private func abandon(_ name: String, failure: RolloutFailure) async throws -> RolloutFailure {
        try await client.delete("\(jobsPath)/\(name)", label: "Job/\(name)")
        return failure
    }

    private func jobFailure(_ name: String, task: String, reason: String, pod: [String: Any]? = nil) async throws -> RolloutFailure {
        var chosen = pod
        if chosen == nil {
            let pods = try await client.list(podsPath, labelSelector: "batch.kubernetes.io/job-name=\(name)", label: "pods")
            chosen = pods.max {
                (Field.string($0, "metadata", "creationTimestamp") ?? "") < (Field.string($1, "metadata", "creationTimestamp") ?? "")
            }
        }
        guard let podName = chosen.flatMap({ Field.string($0, "metadata", "name") }) else {
            return RolloutFailure(instance: "Job/\(name)", check: task, reason: reason + "; it started no pod", logLines: [])
        }
        return RolloutFailure(
            instance: "Job/\(name) (pod \(podName))", check: task, reason: reason,
            logLines: await client.logTail(namespace: namespace, pod: podName))
    }

    /// Watches the Deployment until it reports the current generation fully updated and
    /// available, checking the serving pods between windows so a crash loop fails at once.
    func waitForRollout() async throws {
        let deadline = ContinuousClock.now + .seconds(spec.deploy.healthTimeout.seconds) + Self.controllerGrace
        let history = history
        progress.step("waiting for the rollout of \(spec.app.name)")
        var verdict = Readiness.waiting("not seen yet")
        var revision: Int?
        while ContinuousClock.now < deadline {
            _ = try await client.listAndWatch(
                "/apis/apps/v1/namespaces/\(namespace)/deployments", query: "fieldSelector=metadata.name%3D\(spec.app.name)",
                until: min(deadline, ContinuousClock.now + Self.watchWindow)
            ) { deployment in
                guard Field.string(deployment, "metadata", "name") == spec.app.name else { return false }
                verdict = KubernetesReadiness.deployment(deployment)
                // The revision annotation is the controller's: until it has seen this
                // generation, it still names the revision before (the failed one, in a rollback).
                revision = KubernetesReadiness.isObserved(deployment) ? KubernetesHistory.revision(of: deployment) : nil
                if case .failed = verdict {
                    let current = try await history.release(revision)?.replicaSet
                    verdict = KubernetesReadiness.deployment(deployment, currentReplicaSet: current)
                }
                if case .waiting(let why) = verdict { progress.instance(spec.app.name, why) }
                return !verdict.isWaiting
            }
            switch verdict {
            case .done:
                progress.instance(spec.app.name, "rolled out")
                return
            case .failed(let why):
                throw try await rolloutFailure(why)
            case .waiting:
                try await failFastOnACrashingPod(ofRevision: revision)
            }
        }
        throw try await rolloutFailure("not complete within \(spec.deploy.healthTimeout)")
    }

    /// A pod of the revision being rolled out that crash-loops or cannot pull its image fails
    /// the rollout at once. Pods of other revisions are not its verdict: while a rollback runs,
    /// the failed revision's crash-looping pods are still there, being scaled down.
    private func failFastOnACrashingPod(ofRevision revision: Int?) async throws {
        guard let revision else { return }
        let failed = KubernetesReadiness.failedPods(try await servingPods())
        // The ReplicaSet is looked up only when some pod failed: most windows have none.
        guard !failed.isEmpty else { return }
        let current = try await history.release(revision)?.replicaSet
        guard let (name, why, _) = failed.first(where: { current == nil || $0.replicaSet == current }) else { return }
        progress.instance(name, why)
        throw RolloutFailure(
            instance: "pod \(name)", check: "start-up", reason: why, logLines: await client.logTail(namespace: namespace, pod: name))
    }

    func servingPods() async throws -> [[String: Any]] {
        try await client.list(podsPath, labelSelector: KubernetesSelectors.servingPods(spec), label: "pods")
    }

    /// The rollout's failure naming each serving pod that is not ready and why, with the log of
    /// the first.
    private func rolloutFailure(_ reason: String) async throws -> RolloutFailure {
        let unready = try await servingPods().compactMap { pod -> (String, String)? in
            guard let name = Field.string(pod, "metadata", "name"), Field.string(pod, "metadata", "deletionTimestamp") == nil else {
                return nil
            }
            switch KubernetesReadiness.pod(pod) {
            case .done: return nil
            case .waiting(let why), .failed(let why): return (name, why)
            }
        }
        guard let first = unready.first else {
            return RolloutFailure(instance: "Deployment/\(spec.app.name)", check: "the rollout", reason: reason, logLines: [])
        }
        let pods = unready.map { "pod \($0.0): \($0.1)" }.joined(separator: "; ")
        return RolloutFailure(
            instance: "Deployment/\(spec.app.name)", check: "the rollout", reason: "\(reason); not ready: \(pods)",
            logLines: await client.logTail(namespace: namespace, pod: first.0))
    }
}

extension Readiness {
    var isWaiting: Bool {
        if case .waiting = self { return true }
        return false
    }
}
