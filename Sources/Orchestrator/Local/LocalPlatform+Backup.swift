import Backups
import Foundation
import Manifests

extension LocalPlatform {
    /// The local database, dumped straight to the spec's bucket by this process.
    func backupBeforeRelease(of release: ReleaseRecord, serving current: ReleaseRecord?, progress: any ProgressReporter) async throws {
        guard let backups = spec.backups, backups.takesBackupBeforeRelease(production: spec.app.runtime == .production) else { return }
        progress.step("backing up the database before \(release.name)'s release command (backups.beforeRelease)")
        do {
            let access = try BackupAccess(spec: spec, localSecrets: paths.secrets)
            let runner = BackupRunner(catalog: access.catalog, tools: try PostgresTools())
            let manifest = try await runner.take(try access.database(nil), release: current?.name, reason: "before \(release.name)")
            progress.step("backup \(manifest.id): \(ByteFormat.text(manifest.size)) in \(access.catalog.store.location.description)")
        } catch let error as CancellationError {
            throw error
        } catch {
            throw BackupBeforeReleaseFailure(reason: "\(error)")
        }
    }
}
