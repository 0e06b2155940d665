import FlyMachinesAPI
import Foundation
import Synchronization

/// The app's serving machines (process group `app`) as the engine's instances: created and
/// destroyed, or updated in place under a lease, and judged by their state, Fly's checks and
/// their exit events.
final class FlyFleet: InstanceFleet, @unchecked Sendable {
    let api: FlyAPI
    let environment: String
    let actor: String
    /// How long a machine may take to reach `started` after a create or update.
    var startTimeoutSeconds = 120
    private let recentEvents = Mutex<[String: [String]]>([:])

    init(api: FlyAPI, environment: String, actor: String) {
        self.api = api
        self.environment = environment
        self.actor = actor
    }

    func machines() async throws -> [Machine] {
        try await api.machines().filter {
            $0.config?.metadata?.additionalProperties["fly_process_group"] == FlyMachineConfig.appGroup
                && !["destroyed", "destroying"].contains($0.state ?? "")
        }
    }

    func instances() async throws -> [InstanceStatus] {
        try await machines().map(Self.status).sorted { $0.name < $1.name }
    }

    static func status(_ machine: Machine) -> InstanceStatus {
        let state: InstanceStatus.State =
            switch machine.state ?? "" {
            case "started": .running
            case "stopped", "stopping", "suspended", "suspending": .stopped
            case "failed": .crashed
            default: .starting
            }
        let checks = machine.checks ?? []
        let restarts = (machine.events ?? []).filter { $0._type == "exit" }.count
        return InstanceStatus(
            name: machine.id ?? "?", releaseID: Int(machine.config?.metadata?.additionalProperties[FlyMachineConfig.releaseKey] ?? "") ?? 0,
            address: "\(machine.region ?? "?") \(machine.private_ip ?? "")", state: state,
            healthy: checks.isEmpty ? nil : checks.allSatisfy { $0.status == "passing" }, restarts: restarts, pid: nil,
            image: machine.image_ref?.digest ?? machine.config?.image?.split(separator: "@").last.map(String.init))
    }

    func start(_ release: ReleaseRecord) async throws -> InstanceStatus {
        guard let settings = release.configuration.fly else { throw Self.notForFly(release) }
        let region = try await region(for: release, settings: settings)
        let config = FlyMachineConfig.serving(release.configuration, settings: settings, environment: environment, release: release.id)
        let machine = try await api.createOnce(
            .init(config: .init(value1: config), min_secrets_version: settings.secretsVersion, region: region))
        guard let id = machine.id else {
            throw FlyAPIError(operation: "Machines_create", status: 200, message: "no machine id in the answer")
        }
        try await waitStarted(id, version: machine.instance_id)
        return Self.status(try await api.machine(id) ?? machine)
    }

    /// The region whose share of the release is furthest from the spec's count, the primary first.
    private func region(for release: ReleaseRecord, settings: FlyMachineSettings) async throws -> String {
        let running = try await instances().filter { $0.releaseID == release.id }
        let counts = Dictionary(running.map { ($0.address.split(separator: " ").first.map(String.init) ?? "", 1) }, uniquingKeysWith: +)
        let ordered = [settings.primaryRegion] + settings.regions.keys.filter { $0 != settings.primaryRegion }.sorted()
        return ordered.max { (settings.regions[$0] ?? 0) - (counts[$0] ?? 0) < (settings.regions[$1] ?? 0) - (counts[$1] ?? 0) }
            ?? settings.primaryRegion
    }

    func replace(_ name: String, with release: ReleaseRecord) async throws -> InstanceStatus? {
        guard let settings = release.configuration.fly else { throw Self.notForFly(release) }
        let config = FlyMachineConfig.serving(release.configuration, settings: settings, environment: environment, release: release.id)
        return try await FlyLease(api: api, machine: name, description: "orchestrate: \(release.name) by \(actor)").holding {
            guard let current = try await api.machine(name) else { return nil }
            let updated = try await api.update(
                name,
                .init(config: .init(value1: config), min_secrets_version: settings.secretsVersion, region: current.region))
            try await waitStarted(name, version: updated.instance_id)
            return Self.status(try await api.machine(name) ?? updated)
        }
    }

    func stop(_ name: String) async throws {
        try await FlyLease(api: api, machine: name, description: "orchestrate: removing it, by \(actor)").holding {
            try await api.destroy(name)
        }
    }

    /// Stops a machine and keeps it (for `down`): the next apply starts it again.
    func halt(_ name: String) async throws {
        try await FlyLease(api: api, machine: name, description: "orchestrate: stopping it, by \(actor)").holding {
            try await api.stop(name)
            _ = try await api.wait(name, version: nil, state: .stopped, timeoutSeconds: 60)
        }
    }

    func adopt(_ name: String, into release: ReleaseRecord) async throws {
        try await FlyLease(api: api, machine: name, description: "orchestrate: \(release.name) by \(actor)").holding {
            try await api.upsertMetadata(name, key: FlyMachineConfig.releaseKey, value: String(release.id))
        }
    }

    /// Waits for `version` of the machine to run; a 404 right after a create is Fly catching up.
    private func waitStarted(_ id: String, version: String?) async throws {
        let deadline = ContinuousClock.now + .seconds(startTimeoutSeconds)
        while ContinuousClock.now < deadline {
            try Task.checkCancellation()
            do {
                if try await api.wait(id, version: version, state: .started, timeoutSeconds: 60) { return }
            } catch let error as FlyAPIError where error.status == 404 {
                try await Task.sleep(for: .milliseconds(500))
            } catch let error as FlyAPIError where error.status == 400 {
                // Fly refuses to wait for a state the machine can no longer reach (it failed):
                // the look below hands it to the health gate, which says why.
                if try await api.machine(id) == nil { throw error }
            }
            // A machine that exited while we waited will not start by waiting: the health gate says why.
            if let machine = try await api.machine(id), ["failed", "stopped", "destroyed"].contains(machine.state ?? "") { return }
        }
        throw RolloutFailure(instance: id, check: "start", reason: "not started within \(startTimeoutSeconds)s", logLines: [])
    }

    func probe(_ name: String, path: String) async -> ProbeResult {
        let machine: Machine?
        do {
            machine = try await api.machine(name)
        } catch {
            return .unhealthy("\(error)")
        }
        guard let machine else { return .crashLooping("machine \(name) no longer exists") }
        let exits = Self.exitsSinceLastStart(machine.events ?? [])
        recentEvents.withLock { $0[name] = Self.describe(machine.events ?? []) }
        if machine.state == "failed" || exits.count >= 2 {
            let code = exits.first.flatMap(Self.exitCode).map { "exited with code \($0)" } ?? "exited"
            return .crashLooping(
                "machine \(name) \(code) and was restarted \(max(exits.count - 1, 0)) time(s) (state \(machine.state ?? "?"))")
        }
        guard machine.state == "started" else { return .unhealthy("machine state \(machine.state ?? "unknown")") }
        let checkNames = (machine.config?.checks?.additionalProperties ?? [:]).filter { $0.value.path == path }.map(\.key)
        let statuses = (machine.checks ?? []).filter { checkNames.contains($0.name ?? "") }
        guard !checkNames.isEmpty else { return .healthy }
        guard statuses.count == checkNames.count else { return .unhealthy("check on \(path) has not run yet") }
        if let failing = statuses.first(where: { $0.status != "passing" }) {
            return .unhealthy("check \(failing.name ?? "?") is \(failing.status ?? "unknown"): \(failing.output ?? "")")
        }
        return .healthy
    }

    func recentLog(of name: String, lines: Int) -> [String] {
        Array(recentEvents.withLock { $0[name] ?? [] }.suffix(lines))
    }

    /// Fly lists events newest first; the exits after the latest launch or update count.
    static func exitsSinceLastStart(_ events: [Components.Schemas.MachineEvent]) -> [Components.Schemas.MachineEvent] {
        var exits: [Components.Schemas.MachineEvent] = []
        for event in events.sorted(by: { ($0.timestamp ?? 0) > ($1.timestamp ?? 0) }) {
            if event._type == "launch" || event._type == "update" { break }
            if event._type == "exit" { exits.append(event) }
        }
        return exits
    }

    /// `exit_event.exit_code` of an exit event's request, as Fly reports it.
    static func exitCode(_ event: Components.Schemas.MachineEvent) -> Int? {
        guard let exit = event.request?.value["exit_event"] as? [String: (any Sendable)?] else { return nil }
        return (exit["exit_code"] ?? nil).flatMap { ($0 as? Int) ?? ($0 as? Double).map { Int($0) } }
    }

    static func describe(_ events: [Components.Schemas.MachineEvent]) -> [String] {
        events.sorted { ($0.timestamp ?? 0) < ($1.timestamp ?? 0) }.map { event in
            let time = event.timestamp.map { Timestamps.iso8601(Date(timeIntervalSince1970: TimeInterval($0) / 1000)) } ?? "?"
            let code = exitCode(event).map { " exit code \($0)" } ?? ""
            return "\(time) \(event._type ?? "?") \(event.status ?? "")\(code) (\(event.source ?? "?"))"
        }
    }

    static func notForFly(_ release: ReleaseRecord) -> DeployFailure {
        DeployFailure(kind: .invalid, message: "\(release.name) was not made for Fly (it has no machine settings)")
    }
}
