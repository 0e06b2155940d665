import Foundation
import Manifests

/// apply and rollback on Kubernetes: the Lease lock, the Secret check, the migration Job, the
/// ordered server-side apply, a rollout watched to the end with fail-fast on broken pods, the
/// health check through the service proxy, and a return to the last successful revision.
struct KubernetesDeployer {
    let client: KubernetesClient
    let spec: EnvironmentSpec
    let target: KubernetesTarget
    let progress: any ProgressReporter
    let actor: String
    let forceConflicts: Bool
    var stealLock = false

    var namespace: String { target.namespace }
    var instance: String { "\(spec.app.name)-\(spec.name)" }
    var deploymentPath: String { "/apis/apps/v1/namespaces/\(namespace)/deployments/\(spec.app.name)" }
    var history: KubernetesHistory {
        KubernetesHistory(client: client, namespace: namespace, deployment: spec.app.name, instance: instance)
    }

    /// Runs `body` holding the environment's Lease.
    func locked<Value>(command: String, _ body: () async throws -> Value) async throws -> Value {
        let lease = try await KubernetesLease.acquire(
            client: client, namespace: namespace, name: "\(instance)-deploy", holder: "\(actor) pid \(getpid()) (\(command))",
            steal: stealLock,
            progress: progress)
        // Released in a task of its own: an interrupted (cancelled) apply must still give it up.
        do {
            let value = try await body()
            await Task { await lease.release() }.value
            return value
        } catch {
            await Task { await lease.release() }.value
            throw error
        }
    }

    func apply(_ objects: [DesiredObject], removals: [Change], image: String) async throws -> Int {
        try await checkSecret()
        do {
            try await prepare(objects)
        } catch let error as KubernetesError {
            throw DeployFailure(
                kind: .rolledBack,
                message: "the release stopped before anything that serves changed: \(error)\nNothing that serves was changed; apply again")
        }
        do {
            for object in objects where !Self.preparatoryKinds.contains(object.kind.kind) {
                progress.step("apply \(object.label)")
                if object.kind.kind == "Deployment" {
                    try await applyDeployment(object)
                } else {
                    try await client.apply(object, force: forceConflicts)
                }
            }
            try await waitForRollout()
            try await checkHealth()
        } catch let failure as RolloutFailure {
            throw try await failed(failure, objects: objects, image: image)
        } catch let error as KubernetesError {
            // The Deployment may have changed before the API failed: a failed release, returned
            // from like any other, not "invalid input".
            let failure = RolloutFailure(instance: "the Kubernetes API", check: "during the rollout", reason: "\(error)", logLines: [])
            throw try await failed(failure, objects: objects, image: image)
        }
        await prune(removals)
        guard let revision = try await history.currentRevision() else {
            throw DeployFailure(kind: .invalid, message: "the Deployment reports no revision after its rollout")
        }
        try await history.mark(revision, outcome: .succeeded, note: nil, actor: actor, image: image)
        return revision
    }

    /// What comes before the pods change: the namespace, the release's ConfigMap (a new name for
    /// new content, so the serving pods do not see it yet) and the migration Job.
    static let preparatoryKinds: Set<String> = ["Namespace", "ConfigMap", "Job"]

    private func prepare(_ objects: [DesiredObject]) async throws {
        for object in objects where ["Namespace", "ConfigMap"].contains(object.kind.kind) {
            progress.step("apply \(object.label)")
            try await client.apply(object, force: forceConflicts)
        }
        guard let job = objects.first(where: { $0.kind.kind == "Job" }) else { return }
        try await backUpBeforeMigrating(job, objects: objects)
        try await replaceFailedJob(job.name)
        progress.step("apply \(job.label) and wait for the migrations")
        try await client.apply(job, force: forceConflicts)
        do {
            try await waitForJob(job.name)
        } catch let failure as RolloutFailure {
            throw DeployFailure(kind: .rolledBack, message: "the migration failed; nothing else was changed\n\(failure)")
        }
    }

    /// Marks the current revision failed (when the API still answers) and returns to the last
    /// successful one by the engine's rule, or, with none, scales the failed one to zero.
    private func failed(_ failure: RolloutFailure, objects: [DesiredObject], image: String) async throws -> DeployFailure {
        let failed = try? await history.currentRevision()
        if let failed {
            try? await history.mark(
                failed, outcome: .failed, note: "\(failure.instance) failed \(failure.check)", actor: actor, image: image)
        }
        // Not knowing the history must not read as "nothing to return to", which scales to zero.
        let releases: [KubernetesRelease]
        do {
            releases = try await history.releases()
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            return DeployFailure(
                kind: .rollbackFailed,
                message: "the rollout failed: \(failure)\nand its revisions could not be read to return to one: \(error)")
        }
        return try await ReturnAfterFailure(progress: progress).run(
            after: failed.map { "revision \($0)" } ?? "the rollout", failure: failure, releases: releases,
            failedRelease: releases.first { $0.revision == failed },
            restore: { last in
                // The health check is skipped here: what failed it may not be the build (a database
                // down), and the last good build is the best the environment can run meanwhile.
                let live = try await restore(
                    last, objects: objects, history: history, note: "automatic rollback to revision \(last.revision)",
                    checkingHealth: false)
                return "revision \(live)"
            },
            stopFailed: { try await scaleToZero(objects) })
    }

    /// Objects no longer rendered go once the release is verified; one that cannot be deleted now
    /// is left for the next apply (which plans it again) rather than failing a healthy release.
    private func prune(_ removals: [Change]) async {
        for removal in removals where removal.action == .remove {
            guard let kind = ResourceKind.all.first(where: { removal.resource.hasPrefix($0.kind + "/") }) else { continue }
            let name = String(removal.resource.dropFirst(kind.kind.count + 1))
            progress.step("delete \(removal.resource) (no longer rendered)")
            do {
                try await client.delete(kind.path(name: name, namespace: namespace), label: removal.resource)
            } catch let error as KubernetesError {
                Terminal.error("warning: \(removal.resource) was not deleted (\(error)); the next apply deletes it")
            } catch {
                return  // interrupted: the release is verified; the next apply prunes
            }
        }
    }

    /// Back to `revision` (or the last successful one before the current), as `kubectl rollout
    /// undo` does: its pod template goes back into the Deployment, then the rollout is watched.
    func rollback(to revision: Int?, objects: [DesiredObject]) async throws -> Int {
        let current = try await history.currentRevision()
        let releases = try await history.releases()
        let chosen: KubernetesRelease?
        if let revision {
            chosen = releases.first { $0.revision == revision }
            if chosen == nil {
                throw DeployFailure(
                    kind: .invalid,
                    message: "there is no revision \(revision); known: \(releases.map { String($0.revision) }.joined(separator: ", "))")
            }
        } else {
            chosen = releases.lastSuccessful(before: releases.first { $0.revision == current })
        }
        guard let chosen else { throw DeployFailure(kind: .invalid, message: "there is no earlier successful revision to roll back to") }
        if revision != nil, chosen.outcome != .succeeded {
            Terminal.error(
                "note: revision \(chosen.revision) never succeeded (\(chosen.outcome?.rawValue ?? "never verified")); rolling back to it as asked"
            )
        }
        progress.step("rolling back to revision \(chosen.revision) (\(chosen.image))")
        return try await restore(
            chosen, objects: objects, history: history, note: "rollback to revision \(chosen.revision)", checkingHealth: true)
    }

    /// Applies the rendered Deployment with the release's pod template, under our field manager
    /// (so the next apply does not conflict with a manager of the rollback's own), watches the
    /// rollout and records the outcome; returns the revision now live.
    private func restore(
        _ release: KubernetesRelease, objects: [DesiredObject], history: KubernetesHistory, note: String, checkingHealth: Bool
    ) async throws -> Int {
        guard var deployment = objects.first(where: { $0.kind.kind == "Deployment" }) else {
            throw DeployFailure(kind: .invalid, message: "nothing renders a Deployment")
        }
        try await requireConfiguration(of: release)
        var body = deployment.body
        var specMap = body["spec"] as? [String: Any] ?? [:]
        specMap["template"] = release.template
        body["spec"] = specMap
        deployment.body = body
        try await client.apply(deployment, force: true)
        try await waitForRollout()
        if checkingHealth { try await checkHealth() }
        guard let revision = try await history.currentRevision() else { return release.revision }
        try await history.mark(revision, outcome: .succeeded, note: note, actor: actor, image: release.image)
        return revision
    }

    /// A release's ConfigMap is kept while its ReplicaSet is (the planner prunes only unreferenced
    /// ones), but one deleted by hand would leave the restored pods unable to start.
    private func requireConfiguration(of release: KubernetesRelease) async throws {
        for name in PodTemplateReferences.configMaps(release.template).sorted() {
            let path = ResourceKind.configMap.path(name: name, namespace: namespace)
            if try await client.object(path, label: "configmaps/\(name)") == nil {
                throw DeployFailure(
                    kind: .invalid,
                    message:
                        "revision \(release.revision) reads ConfigMap \(name), which no longer exists in \(namespace); roll back to another revision, or apply the spec it was deployed from; nothing was changed"
                )
            }
        }
    }

    private func checkSecret() async throws {
        let path = "/api/v1/namespaces/\(namespace)/secrets/\(target.secretName)"
        let required = spec.secrets.filter(\.required).map(\.name)
        guard let secret = try await client.object(path, label: "secrets/\(target.secretName)") else {
            throw DeployFailure(
                kind: .invalid,
                message:
                    "the Secret \(target.secretName) does not exist in \(namespace); create it with the keys \(required.joined(separator: ", ")) before deploying; nothing was changed"
            )
        }
        let keys = Set(((secret["data"] as? [String: Any]) ?? [:]).keys).union(((secret["stringData"] as? [String: Any]) ?? [:]).keys)
        let missing = required.filter { !keys.contains($0) }
        if !missing.isEmpty {
            throw DeployFailure(
                kind: .invalid,
                message:
                    "the Secret \(target.secretName) in \(namespace) lacks \(missing.joined(separator: ", ")); add them and apply again; nothing was changed"
            )
        }
    }

    /// `/healthz/detailed` through the API server's service proxy.
    private func checkHealth() async throws {
        let path = "/api/v1/namespaces/\(namespace)/services/\(spec.app.name):http/proxy\(spec.health.detailedPath)"
        let response = try await client.send(.GET, path)
        guard response.status == .ok else {
            throw RolloutFailure(
                instance: "Service/\(spec.app.name)", check: "GET \(spec.health.detailedPath)",
                reason: "HTTP \(response.status.code) \(String(buffer: response.body).prefix(300))", logLines: [])
        }
        progress.step("\(spec.health.detailedPath) answers 200 through the service proxy")
    }
}
