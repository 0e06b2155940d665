import Foundation
import Manifests
import Synchronization
import Testing

@testable import Orchestrator

/// The order in which each strategy starts and stops instances, on a fleet that records what it
/// is asked to do and answers health checks at once: the engine's part of a deploy, alone.
@Suite struct RolloutOrderTests {
    @Test func rollingWithSurgeNeverDropsBelowTheDesiredCount() async throws {
        let fleet = RecordingFleet(oldInstances: 3)
        try await fleet.rollOut(strategy: .rolling, replicas: 3, maxUnavailable: 0, maxSurge: 1)
        #expect(fleet.events == ["start", "stop old-1", "start", "stop old-2", "start", "stop old-3"])
        #expect(fleet.lowestServing == 3)
        #expect(fleet.highestServing == 4)
    }

    @Test func rollingWithoutSurgeStopsFirstWithinMaxUnavailable() async throws {
        let fleet = RecordingFleet(oldInstances: 4)
        try await fleet.rollOut(strategy: .rolling, replicas: 4, maxUnavailable: 2, maxSurge: 0)
        #expect(fleet.events == ["stop old-1", "stop old-2", "start", "start", "stop old-3", "stop old-4", "start", "start"])
        #expect(fleet.lowestServing == 2)
        #expect(fleet.highestServing == 4)
    }

    @Test func canaryStartsOneThenRollsTheRest() async throws {
        let fleet = RecordingFleet(oldInstances: 3)
        try await fleet.rollOut(strategy: .canary, replicas: 3, maxUnavailable: 0, maxSurge: 1)
        #expect(fleet.events.prefix(2) == ["start", "stop old-1"])
        #expect(fleet.lowestServing == 3)
    }

    @Test func bluegreenStartsTheWholeNewSetBeforeStoppingAny() async throws {
        let fleet = RecordingFleet(oldInstances: 3)
        try await fleet.rollOut(strategy: .bluegreen, replicas: 3, maxUnavailable: 0, maxSurge: 1)
        #expect(fleet.events == ["start", "start", "start", "stop old-1", "stop old-2", "stop old-3"])
        #expect(fleet.highestServing == 6)
    }

    @Test func immediateStopsEverythingFirst() async throws {
        let fleet = RecordingFleet(oldInstances: 2)
        try await fleet.rollOut(strategy: .immediate, replicas: 2, maxUnavailable: 0, maxSurge: 1)
        #expect(fleet.events == ["stop old-1", "stop old-2", "start", "start"])
        #expect(fleet.lowestServing == 0)
    }

    @Test func aCrashLoopingInstanceStopsTheRolloutAtOnce() async throws {
        let fleet = RecordingFleet(oldInstances: 3, newInstancesCrash: true)
        let started = ContinuousClock.now
        await #expect(throws: RolloutFailure.self) {
            try await fleet.rollOut(strategy: .rolling, replicas: 3, maxUnavailable: 0, maxSurge: 1)
        }
        // The health timeout is 30 s; failing well before it proves the fail-fast (with room for
        // a loaded machine).
        #expect(ContinuousClock.now - started < .seconds(20))
        #expect(fleet.events == ["start"], "no old instance may stop once a new one crash-loops")
    }
}

/// Instances that exist only as names: old ones from release 1, new ones healthy (or crashing).
final class RecordingFleet: InstanceFleet, @unchecked Sendable {
    private struct State {
        var instances: [InstanceStatus] = []
        var events: [String] = []
        var serving: [Int] = []
        var started = 0
    }

    private let state = Mutex(State())
    private let newInstancesCrash: Bool

    init(oldInstances: Int, newInstancesCrash: Bool = false) {
        self.newInstancesCrash = newInstancesCrash
        state.withLock {
            $0.instances = (1...oldInstances).map {
                InstanceStatus(name: "old-\($0)", releaseID: 1, address: "", state: .running, healthy: true, restarts: 0, pid: nil)
            }
        }
    }

    var events: [String] { state.withLock { $0.events } }
    var lowestServing: Int { state.withLock { $0.serving.min() ?? 0 } }
    var highestServing: Int { state.withLock { $0.serving.max() ?? 0 } }

    func rollOut(strategy: DeploySpec.Strategy, replicas: Int, maxUnavailable: Int, maxSurge: Int) async throws {
        var configuration = try ReleaseConfiguration(
            spec: RecordingFleet.spec(), artifact: Artifact(digest: "sha256:new", reference: "new"), secretsDigest: "")
        configuration.replicas = replicas
        configuration.strategy = strategy
        configuration.maxUnavailable = maxUnavailable
        configuration.maxSurge = maxSurge
        configuration.healthTimeoutSeconds = 30
        let release = ReleaseRecord(id: 2, configuration: configuration, createdAt: Date(), createdBy: "test", outcome: .inProgress)
        let rollout = Rollout(fleet: self, progress: SilentProgress()) { $0 == 2 }
        try await rollout.run(to: release)
    }

    func instances() async throws -> [InstanceStatus] { state.withLock { $0.instances } }

    func start(_ release: ReleaseRecord) async throws -> InstanceStatus {
        state.withLock {
            $0.started += 1
            let instance = InstanceStatus(
                name: "new-\($0.started)", releaseID: release.id, address: "", state: .running, healthy: nil, restarts: 0, pid: nil)
            $0.instances.append(instance)
            $0.events.append("start")
            $0.serving.append($0.instances.count)
            return instance
        }
    }

    func stop(_ name: String) async throws {
        state.withLock {
            $0.instances.removeAll { $0.name == name }
            $0.events.append("stop \(name)")
            $0.serving.append($0.instances.count)
        }
    }

    func adopt(_ name: String, into release: ReleaseRecord) async throws {}

    func probe(_ name: String, path: String) async -> ProbeResult {
        name.hasPrefix("new") && newInstancesCrash ? .crashLooping("exited with status 3") : .healthy
    }

    func recentLog(of name: String, lines: Int) -> [String] { [] }

    static func spec() throws -> EnvironmentSpec {
        let files = DiskFiles()
        guard case .success(let spec) = SpecLoader.load(path: CommandRunner.repositoryRoot + "/environments/dev.yaml", using: files) else {
            throw RolloutTestError()
        }
        return spec
    }
}

struct RolloutTestError: Error {}

struct SilentProgress: ProgressReporter {
    func step(_ message: String) {}
    func instance(_ name: String, _ state: String) {}
}
