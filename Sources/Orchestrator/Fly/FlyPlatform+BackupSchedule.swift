import FlyMachinesAPI
import Foundation
import Manifests

extension FlyPlatform {
    /// Keeps one scheduled machine running `pet-backend backup` with the current release's image
    /// and settings: made on the first release, updated when either changes, left alone otherwise.
    /// It is created stopped (skip_launch); Fly starts it on its schedule.
    func ensureBackupSchedule(progress: any ProgressReporter) async throws {
        guard let backups = spec.backups, let current = try await ledger.current(),
            let config = FlyMachineConfig.scheduledBackup(current.configuration, spec: spec, backups: backups, release: current.id)
        else { return }
        let existing = try await api.machines().first {
            $0.name == FlyMachineConfig.scheduledBackupName && $0.state != "destroyed"
        }
        if let existing, let id = existing.id {
            guard
                existing.config?.image != config.image || existing.config?.env != config.env || existing.config?.schedule != config.schedule
            else { return }
            progress.step("backup schedule (\(config.schedule ?? "")): updating \(id) to \(current.name)")
            _ = try await FlyLease(api: api, machine: id, description: "orchestrate: backup schedule by \(DeployOptions.actor)").holding {
                try await api.update(
                    id,
                    .init(config: .init(value1: config), min_secrets_version: current.configuration.fly?.secretsVersion, skip_launch: true))
            }
            return
        }
        progress.step("backup schedule: a machine that Fly starts \(config.schedule ?? "") to run pet-backend backup (Fly picks the hour)")
        _ = try await api.createOnce(
            .init(
                config: .init(value1: config), min_secrets_version: current.configuration.fly?.secretsVersion,
                name: FlyMachineConfig.scheduledBackupName, region: target.primaryRegion, skip_launch: true))
    }
}
