import Foundation

/// Why a rollout stopped: which instance, which check, what it said and its last log lines.
struct RolloutFailure: Error, CustomStringConvertible {
    var instance: String
    var check: String
    var reason: String
    var logLines: [String]

    var description: String {
        var text = "\(instance) failed \(check): \(reason)"
        if !logLines.isEmpty {
            text += "\n  last log lines of \(instance):\n" + logLines.map { "    | \($0)" }.joined(separator: "\n")
        }
        return text
    }
}

/// Replaces instances with those of a release in the order the deploy strategy asks for, gating
/// every new instance on health. Written once; every fleet-style platform uses it.
struct Rollout {
    let fleet: any InstanceFleet
    let progress: any ProgressReporter
    /// Whether an instance of release `id` already runs the target's configuration and can stay.
    let runsTargetConfiguration: @Sendable (Int) -> Bool
    /// Checks the canary under load before the rest roll (promote's gate); nil: health only.
    var canaryGate: (@Sendable (InstanceStatus) async throws -> Void)? = nil

    func run(to release: ReleaseRecord) async throws {
        let configuration = release.configuration
        let all = try await fleet.instances()
        var keep: [InstanceStatus] = []
        var old: [InstanceStatus] = []
        for instance in all {
            let reusable = instance.state == .running && runsTargetConfiguration(instance.releaseID) && keep.count < configuration.replicas
            if reusable, await fleet.probe(instance.name, path: configuration.livenessPath) == .healthy {
                keep.append(instance)
            } else {
                old.append(instance)
            }
        }
        // Stop what does not serve first; among the rest, the oldest first.
        old.sort { ($0.state == .running ? 1 : 0, $0.name) < ($1.state == .running ? 1 : 0, $1.name) }
        for instance in keep where instance.releaseID != release.id {
            try await fleet.adopt(instance.name, into: release)
        }
        var needed = configuration.replicas - keep.count
        progress.step(
            "\(release.name): \(needed) new instance(s), \(keep.count) kept, \(old.count) to stop (\(configuration.strategy.rawValue))")

        switch configuration.strategy {
        case .immediate:
            try await replaceAndGate(&old, count: needed, of: release)
            try await stop(&old, count: old.count)
        case .bluegreen:
            try await startAndGate(needed, of: release)
            try await stop(&old, count: old.count)
        case .canary, .rolling:
            if configuration.strategy == .canary, needed > 0 {
                progress.step("\(release.name): canary first")
                let canaries = try await startAndGate(1, of: release)
                if let canaryGate, let canary = canaries.first {
                    progress.instance(canary.name, "verifying under load")
                    do {
                        try await canaryGate(canary)
                    } catch let failure as GateFailure {
                        progress.instance(canary.name, "failed verify")
                        throw RolloutFailure(instance: canary.name, check: "verify", reason: failure.reason, logLines: [])
                    }
                    progress.instance(canary.name, "passed verify")
                }
                try await stop(&old, count: 1)
                needed -= 1
            }
            let surge = configuration.maxSurge
            let batch = max(surge > 0 ? surge : configuration.maxUnavailable, 1)
            while needed > 0 {
                try Task.checkCancellation()
                let count = min(batch, needed)
                if surge > 0 {
                    try await startAndGate(count, of: release)
                    try await stop(&old, count: count)
                } else {
                    try await replaceAndGate(&old, count: count, of: release)
                }
                needed -= count
            }
            try await stop(&old, count: old.count)
        }
    }

    private func stop(_ old: inout [InstanceStatus], count: Int) async throws {
        for instance in old.prefix(count) {
            progress.instance(instance.name, "stopping")
            try await fleet.stop(instance.name)
            progress.instance(instance.name, "stopped")
        }
        old.removeFirst(min(count, old.count))
    }

    /// Old instances make way for `count` new ones: updated in place where the fleet can, else
    /// stopped first and new ones started.
    private func replaceAndGate(_ old: inout [InstanceStatus], count: Int, of release: ReleaseRecord) async throws {
        var updated: [InstanceStatus] = []
        while updated.count < count, let next = old.first {
            try Task.checkCancellation()
            guard let instance = try await fleet.replace(next.name, with: release) else { break }
            progress.instance(instance.name, "updated to \(release.name)")
            old.removeFirst()
            updated.append(instance)
        }
        try await stop(&old, count: count - updated.count)
        try await startAndGate(count - updated.count, of: release, alongside: updated)
    }

    @discardableResult
    private func startAndGate(_ count: Int, of release: ReleaseRecord, alongside updated: [InstanceStatus] = []) async throws
        -> [InstanceStatus]
    {
        guard count > 0 || !updated.isEmpty else { return [] }
        var started = updated
        for _ in 0..<max(count, 0) {
            try Task.checkCancellation()
            let instance = try await fleet.start(release)
            progress.instance(instance.name, "starting \(release.name) on \(instance.address)")
            started.append(instance)
        }
        let gate = HealthGate(fleet: fleet, progress: progress, configuration: release.configuration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for instance in started {
                group.addTask { try await gate.waitUntilHealthy(instance.name) }
            }
            try await group.waitForAll()
        }
        return started
    }
}

/// Waits for an instance to pass its liveness path and then its detailed health path, failing
/// fast when the process crash-loops instead of waiting for the timeout.
struct HealthGate: Sendable {
    let fleet: any InstanceFleet
    let progress: any ProgressReporter
    let configuration: ReleaseConfiguration

    func waitUntilHealthy(_ name: String) async throws {
        let deadline = ContinuousClock.now + .seconds(configuration.healthTimeoutSeconds)
        for path in [configuration.livenessPath, configuration.detailedPath] {
            var lastSeen = "no answer yet"
            while true {
                try Task.checkCancellation()
                switch await fleet.probe(name, path: path) {
                case .healthy:
                    lastSeen = ""
                case .unhealthy(let reason):
                    lastSeen = reason
                case .crashLooping(let reason):
                    progress.instance(name, "crash-looping")
                    throw RolloutFailure(
                        instance: name, check: "start-up", reason: reason, logLines: fleet.recentLog(of: name, lines: 15))
                }
                if lastSeen.isEmpty { break }
                guard ContinuousClock.now < deadline else {
                    progress.instance(name, "failed \(path)")
                    throw RolloutFailure(
                        instance: name, check: "GET \(path)",
                        reason: "not healthy within \(configuration.healthTimeoutSeconds)s; last: \(lastSeen)",
                        logLines: fleet.recentLog(of: name, lines: 15))
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            progress.instance(name, path == configuration.livenessPath ? "live, checking \(configuration.detailedPath)" : "healthy")
        }
    }
}
