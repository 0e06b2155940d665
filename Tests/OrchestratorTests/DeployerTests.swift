import Foundation
import Manifests
import Synchronization
import Testing

@testable import Orchestrator

/// The engine's apply and rollback against a fake platform that records every start, stop and
/// health gate: ordering, the automatic return to the last successful release, a first release
/// that fails with nothing to return to, and an interrupted rollout.
@Suite struct DeployerTests {
    @Test func noOldInstanceStopsBeforeANewOnePassedItsGate() async throws {
        let platform = FakePlatform()
        _ = try await platform.deploy("good-1")
        _ = try await platform.deploy("good-2")
        let events = platform.fakeFleet.events
        var gated = 0
        var stopped = 0
        for event in events {
            if event.hasPrefix("gate passed") { gated += 1 }
            if event.hasPrefix("stop") {
                stopped += 1
                #expect(gated - 2 >= stopped, "an old instance stopped before a new one passed its gate: \(events)")
            }
        }
        #expect(stopped == 2)
        #expect(try await platform.history.all().map(\.outcome) == [.succeeded, .succeeded])
    }

    @Test func aFailedRolloutReturnsToTheLastSuccessfulRelease() async throws {
        let platform = FakePlatform()
        _ = try await platform.deploy("good-1")
        let failure = try await #require(throws: DeployFailure.self) { try await platform.deploy("crash") }
        #expect(failure.kind == .rolledBack)
        #expect(failure.message.contains("v2 failed and was rolled back to v1 (now v3)"), "\(failure.message)")
        let releases = try await platform.history.all()
        #expect(releases.map(\.outcome) == [.succeeded, .failed, .succeeded])
        #expect(releases.last?.restores == 1)
        #expect(try await platform.history.current()?.id == 3)
        let running = try await platform.fleet.instances()
        #expect(running.count == 2 && running.allSatisfy { $0.releaseID == 3 }, "\(running)")
    }

    @Test func aFirstReleaseThatFailsStopsWhatItStarted() async throws {
        let platform = FakePlatform()
        let failure = try await #require(throws: DeployFailure.self) { try await platform.deploy("crash") }
        #expect(failure.kind == .rolledBack)
        #expect(failure.message.contains("no successful release to return to"))
        #expect(try await platform.fleet.instances().isEmpty)
        #expect(try await platform.history.current() == nil)
    }

    @Test func anInterruptedRolloutIsRecordedAndTheNextApplyConverges() async throws {
        let platform = FakePlatform()
        _ = try await platform.deploy("good-1")
        let apply = Task { try await platform.deploy("hang") }
        await platform.fakeFleet.waitUntilHanging()
        apply.cancel()
        let failure = await #expect(throws: DeployFailure.self) { try await apply.value }
        #expect(failure?.kind == .interrupted)
        #expect(try await platform.history.all().map(\.outcome) == [.succeeded, .interrupted])
        // The old instances never stopped: none of the new ones passed its gate.
        #expect(try await platform.fleet.instances().filter { $0.releaseID == 1 }.count == 2)
        _ = try await platform.deploy("good-3")
        #expect(try await platform.history.all().map(\.outcome) == [.succeeded, .interrupted, .succeeded])
    }

    @Test func rollbackReturnsToTheLastSuccessfulReleaseBeforeTheCurrent() async throws {
        let platform = FakePlatform()
        _ = try await platform.deploy("good-1")
        _ = try await #require(throws: DeployFailure.self) { try await platform.deploy("crash") }
        _ = try await platform.deploy("good-4")
        let deployer = Deployer(platform: platform, progress: SilentProgress(), actor: "test")
        let restored = try await deployer.rollback(to: nil)
        #expect(restored.restores == 3, "the automatic return (v3, good-1) is the last successful before v4")
        #expect(restored.configuration.artifact.digest == "sha256:good-1")
    }
}

/// A platform with nothing behind it: instances are names, health is decided by the build's
/// name (`crash…` crash-loops, `hang…` never gets past its first probe until cancelled).
final class FakePlatform: FleetPlatform, @unchecked Sendable {
    let fakeHistory = MemoryHistory()
    let fakeFleet: FakeFleet

    init() {
        fakeFleet = FakeFleet(history: fakeHistory)
    }

    var targetName: String { "fake" }
    func verifyRoute(to instance: InstanceStatus) -> VerifyRoute { VerifyRoute(endpoints: [instance.address]) }
    var fleet: any InstanceFleet { fakeFleet }
    var history: any ReleaseHistory { fakeHistory }

    func observe() async throws -> LiveState {
        LiveState(components: [], current: try fakeHistory.current(), instances: try await fakeFleet.instances())
    }

    func prepare(_ desired: DesiredState, progress: any ProgressReporter) async throws -> ReleaseConfiguration {
        desired.configuration
    }

    func startComponents(progress: any ProgressReporter) async throws {}
    func runReleaseCommand(of release: ReleaseRecord, progress: any ProgressReporter) async throws {}
    func backupBeforeRelease(of release: ReleaseRecord, serving current: ReleaseRecord?, progress: any ProgressReporter) async throws {}

    /// Plans and applies build `build` with two instances, rolling with one extra at a time.
    func deploy(_ build: String) async throws -> ReleaseRecord {
        var configuration = ReleaseConfiguration(
            spec: try RecordingFleet.spec(), artifact: Artifact(digest: "sha256:\(build)", reference: build), secretsDigest: "")
        configuration.replicas = 2
        configuration.strategy = .rolling
        configuration.maxSurge = 1
        configuration.maxUnavailable = 0
        configuration.healthTimeoutSeconds = 5
        configuration.releaseCommand = nil
        let plan = PlanBuilder.plan(
            environment: "test", target: targetName, desired: DesiredState(components: [], configuration: configuration),
            live: try await observe())
        return try await Deployer(platform: self, progress: SilentProgress(), actor: "test").apply(plan)
    }
}

final class MemoryHistory: ReleaseHistory, @unchecked Sendable {
    private let state = Mutex<(releases: [Int: ReleaseRecord], current: Int?)>(([:], nil))

    func all() throws -> [ReleaseRecord] { state.withLock { $0.releases.values.sorted { $0.id < $1.id } } }
    func save(_ release: ReleaseRecord) throws { state.withLock { $0.releases[release.id] = release } }
    func current() throws -> ReleaseRecord? { state.withLock { state in state.current.flatMap { state.releases[$0] } } }
    func setCurrent(_ release: ReleaseRecord) throws { state.withLock { $0.current = release.id } }
}

final class FakeFleet: InstanceFleet, @unchecked Sendable {
    private struct State {
        var instances: [InstanceStatus] = []
        var builds: [String: String] = [:]
        var events: [String] = []
        var started = 0
        var hanging: CheckedContinuation<Void, Never>?
        var isHanging = false
    }

    private let state = Mutex(State())
    private let history: MemoryHistory

    init(history: MemoryHistory) {
        self.history = history
    }

    var events: [String] { state.withLock { $0.events } }

    func instances() async throws -> [InstanceStatus] { state.withLock { $0.instances } }

    func start(_ release: ReleaseRecord) async throws -> InstanceStatus {
        state.withLock {
            $0.started += 1
            let instance = InstanceStatus(
                name: "i-\($0.started)", releaseID: release.id, address: "", state: .running, healthy: nil, restarts: 0, pid: nil)
            $0.instances.append(instance)
            $0.builds[instance.name] = release.configuration.artifact.reference
            $0.events.append("start \(instance.name) \(release.configuration.artifact.reference)")
            return instance
        }
    }

    func stop(_ name: String) async throws {
        state.withLock {
            $0.instances.removeAll { $0.name == name }
            $0.events.append("stop \(name)")
        }
    }

    func adopt(_ name: String, into release: ReleaseRecord) async throws {
        state.withLock { state in
            if let index = state.instances.firstIndex(where: { $0.name == name }) { state.instances[index].releaseID = release.id }
        }
    }

    func probe(_ name: String, path: String) async -> ProbeResult {
        let build = state.withLock { $0.builds[name] ?? "" }
        if build.hasPrefix("crash") { return .crashLooping("exited with status 3") }
        if build.hasPrefix("hang") {
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    state.withLock {
                        $0.isHanging = true
                        $0.hanging = continuation
                    }
                }
            } onCancel: {
                state.withLock { $0.hanging.take() }?.resume()
            }
            return .unhealthy("still starting")
        }
        if path.contains("detailed") { state.withLock { $0.events.append("gate passed \(name)") } }
        return .healthy
    }

    /// Until a `hang` build's probe is waiting (the rollout is mid-gate).
    func waitUntilHanging() async {
        while !state.withLock({ $0.isHanging }) { await Task.yield() }
    }

    func recentLog(of name: String, lines: Int) -> [String] { [] }
}
