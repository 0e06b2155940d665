import Backups
import Testing

@testable import Orchestrator

/// What `restore` refuses before it touches anything.
@Suite struct RestorePlanTests {
    let live = try? DatabaseURL("postgres://app:secret@db.internal:5432/pet_backend")

    @Test func replacingNeedsTheLiveDatabasesNameConfirmed() throws {
        let error = #expect(throws: DeployFailure.self) {
            _ = try RestorePlan(live: live, into: nil, drill: false, replace: true, confirm: "pet-backend")
        }
        #expect(error?.message.contains("add --confirm pet_backend") == true)
        #expect(error?.message.contains("secret") == false, "no password in the message")
        _ = try RestorePlan(live: live, into: nil, drill: false, replace: true, confirm: "pet_backend")
    }

    @Test func replacingRestoresOnTheLiveServerOnly() throws {
        let elsewhere = try DatabaseURL("postgres://app:secret@scratch.internal:5432/restored")
        let error = #expect(throws: DeployFailure.self) {
            _ = try RestorePlan(live: live, into: elsewhere, drill: false, replace: true, confirm: "pet_backend")
        }
        #expect(error?.message.contains("another server") == true)
        let itself = try DatabaseURL("postgres://app:secret@db.internal:5432/pet_backend")
        #expect(throws: DeployFailure.self) {
            _ = try RestorePlan(live: live, into: itself, drill: false, replace: true, confirm: "pet_backend")
        }
    }

    @Test func aRestoreNeedsSomewhereToGo() {
        #expect(throws: DeployFailure.self) { _ = try RestorePlan(live: nil, into: nil, drill: true, replace: false, confirm: nil) }
    }
}
