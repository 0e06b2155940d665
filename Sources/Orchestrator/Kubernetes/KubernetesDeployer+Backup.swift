import Foundation
import Manifests

extension KubernetesDeployer {
    /// With `backups.beforeRelease` (on by default in production), a Job made from the backup
    /// CronJob's own template runs before the migration Job, and a failed backup stops the release
    /// before anything is migrated.
    func backUpBeforeMigrating(_ migration: DesiredObject, objects: [DesiredObject]) async throws {
        guard let backups = spec.backups, backups.takesBackupBeforeRelease(production: spec.app.runtime == .production) else { return }
        // A first release has no data before it to keep.
        guard let cronJob = objects.first(where: { $0.kind.kind == "CronJob" }), try await history.currentRevision() != nil else { return }
        let job = try Self.backupJob(
            from: cronJob, named: String(migration.name.prefix(56)) + "-backup", deadline: spec.deploy.releaseCommandTimeout)
        try await replaceFailedJob(job.name)
        progress.step("apply \(job.label) and wait for the backup before the migrations (backups.beforeRelease)")
        try await client.apply(job, force: forceConflicts)
        do {
            try await waitForJob(job.name, task: "the backup", done: "backup taken")
        } catch let failure as RolloutFailure {
            throw DeployFailure(
                kind: .rolledBack, message: "the backup before the migration failed; nothing was migrated or changed\n\(failure)")
        }
    }

    /// The CronJob's job template as a Job of its own: one attempt, the release command's time
    /// limit, deleted (with its pod) by Kubernetes a day after it finishes. It carries no
    /// `managed-by` label, so plans neither list nor prune it.
    static func backupJob(from cronJob: DesiredObject, named name: String, deadline: SpecDuration) throws -> DesiredObject {
        guard let cronSpec = cronJob.body["spec"] as? [String: Any], let jobTemplate = cronSpec["jobTemplate"] as? [String: Any],
            var jobSpec = jobTemplate["spec"] as? [String: Any], var template = jobSpec["template"] as? [String: Any],
            var podSpec = template["spec"] as? [String: Any]
        else { throw KubernetesError.configuration("the backup CronJob has no job template to run before the migrations") }
        podSpec["restartPolicy"] = "Never"
        template["spec"] = podSpec
        jobSpec["template"] = template
        jobSpec["backoffLimit"] = 0
        jobSpec["activeDeadlineSeconds"] = Int(deadline.seconds)
        jobSpec["ttlSecondsAfterFinished"] = 86_400
        var labels = ((cronJob.body["metadata"] as? [String: Any])?["labels"] as? [String: Any]) ?? [:]
        labels["app.kubernetes.io/managed-by"] = nil
        var metadata: [String: Any] = ["name": name, "labels": labels]
        if let namespace = cronJob.namespace { metadata["namespace"] = namespace }
        guard let kind = ResourceKind.of(apiVersion: "batch/v1", kind: "Job") else {
            throw KubernetesError.configuration("batch/v1 Job is not a kind orchestrate applies")
        }
        return DesiredObject(
            kind: kind, name: name, namespace: cronJob.namespace,
            body: ["apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": jobSpec])
    }
}
