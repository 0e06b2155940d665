package import FlyMachinesAPI
package import Foundation
package import OpenAPIRuntime

/// How a machine running a given image behaves, as a test chooses.
package enum FakeImageBehaviour: Sendable, Equatable {
    case healthy
    /// Starts, but its checks never pass.
    case failsChecks
    /// Exits with this code a moment after every start; Fly restarts it until it gives up.
    case crashLoops(exitCode: Int)
    /// A release command machine exits with this code.
    case exits(code: Int)
    /// Never starts: Fly marks the machine failed (an image whose entrypoint is missing, say).
    case failsToStart
}

/// One machine in the fake, with what Fly keeps about it.
struct FakeMachine {
    var id: String
    var name: String
    var region: String
    var config: Components.Schemas.fly_period_MachineConfig
    var instanceID: String
    var state: String
    var createdAt: Date
    /// When the current version was launched (create, update or start).
    var launchedAt: Date
    var events: [Components.Schemas.MachineEvent] = []
    var lease: FakeLease?
    var exits = 0
    var secretsVersion: Int?
    var skipLaunch = false
    var destroyedAt: Date?
}

struct FakeLease {
    var nonce: String
    var description: String
    var expiresAt: Date
    /// Ends the moment a request for it is refused: the race in which a lease expires between
    /// Fly's 409 and the holder's next look.
    var endsOnceRefused = false
}

/// What the fake Fly holds and how time moves it: machines go created → started after
/// `startDelay`, checks pass after `checkDelay` (or never, or the machine crash-loops),
/// release-command machines exit and destroy themselves.
struct FakeFlyWorld {
    var apps: [String: String] = [:]
    var machines: [String: FakeMachine] = [:]
    var secrets: [String: (value: String, updatedAt: Date)] = [:]
    var secretsVersion = 0
    var behaviours: [String: FakeImageBehaviour] = [:]
    /// Exit codes of one-off machines by their command's first argument (`backup`).
    var commandExits: [String: Int] = [:]
    var startDelay: Duration = .milliseconds(150)
    var checkDelay: Duration = .milliseconds(200)
    var exitAfter: Duration = .milliseconds(150)
    /// GET and wait answer 404 for this long after a create: Fly's eventual consistency.
    var notFoundAfterCreate: Duration = .milliseconds(100)
    var wrapLeases = false
    var nextID = 1
    var calls: [(operation: String, machine: String?)] = []
    /// The calls answered 429 for going over Fly's rate limits.
    var rateLimited: [String] = []
    var now: () -> Date = Date.init

    func behaviour(of image: String?) -> FakeImageBehaviour {
        guard let image else { return .healthy }
        return behaviours.first { image.contains($0.key) }?.value ?? .healthy
    }

    mutating func newID() -> String {
        defer { nextID += 1 }
        return String(format: "%014lx", 0x3d8d_0000_0000 + nextID)
    }

    static func instanceID() -> String {
        String(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(26)).uppercased()
    }

    /// Moves every machine to where time has taken it.
    mutating func advance() {
        let now = now()
        for id in machines.keys {
            guard var machine = machines[id], machine.destroyedAt == nil else { continue }
            let since = now.timeIntervalSince(machine.launchedAt)
            let start = startDelay.inSeconds
            // A one-off (a release command, a backup): its process runs once and its machine
            // destroys itself (auto_destroy), as `fly machine run --rm` does.
            let runsOnce = machine.config.auto_destroy == true
            switch behaviour(of: machine.config.image) {
            case _ where machine.skipLaunch || machine.state == "stopped":
                break
            case let behaviour where runsOnce:
                // It exits 0 unless the test chose a code, for the image or for this command.
                let command = machine.config._init?.cmd?.first ?? ""
                let imageCode = if case .exits(let code) = behaviour { code } else { 0 }
                let code = commandExits[command] ?? imageCode
                if since >= start + exitAfter.inSeconds {
                    if machine.state != "started" { record(&machine, "start", "started", at: machine.launchedAt.addingTimeInterval(start)) }
                    recordExit(&machine, code: code, at: now)
                    machine.state = "destroyed"
                    machine.destroyedAt = now
                    record(&machine, "destroy", "destroyed", at: now)
                } else if since >= start, machine.state != "started" {
                    machine.state = "started"
                    record(&machine, "start", "started", at: now)
                }
            case .failsToStart:
                if since >= start, machine.state != "failed" {
                    recordExit(&machine, code: 127, at: now)
                    machine.state = "failed"
                }
            case .crashLoops(let code):
                if since >= start, machine.state != "started", machine.state != "failed" {
                    machine.state = "started"
                    record(&machine, "start", "started", at: now)
                }
                // An exit every `exitAfter` after the start, each followed by Fly's restart.
                let due = since >= start ? Int((since - start) / exitAfter.inSeconds) : 0
                while machine.exits < min(due, 11), machine.state != "failed" {
                    recordExit(&machine, code: code, at: now)
                    machine.exits += 1
                    if machine.exits > 10 { machine.state = "failed" } else { record(&machine, "start", "started", at: now) }
                }
            default:
                if since >= start, ["created", "starting", "replacing", "updating"].contains(machine.state) {
                    machine.state = "started"
                    record(&machine, "start", "started", at: machine.launchedAt.addingTimeInterval(start))
                }
            }
            machines[id] = machine
        }
    }

    func checks(of machine: FakeMachine) -> [Components.Schemas.CheckStatus]? {
        guard let configured = machine.config.checks?.additionalProperties, !configured.isEmpty else { return nil }
        guard machine.state == "started" else { return nil }
        let since = now().timeIntervalSince(machine.launchedAt)
        let passing: Bool =
            switch behaviour(of: machine.config.image) {
            case .healthy: since >= startDelay.inSeconds + checkDelay.inSeconds
            default: false
            }
        return configured.keys.sorted().map { name in
            .init(
                name: name, output: passing ? "HTTP 200 OK" : "HTTP 503 Service Unavailable", status: passing ? "passing" : "critical",
                updated_at: ISO8601DateFormatter().string(from: now()))
        }
    }

    mutating func record(_ machine: inout FakeMachine, _ type: String, _ status: String, at date: Date, source: String = "flyd") {
        machine.events.append(
            .init(
                id: Self.instanceID(), source: source, status: status, timestamp: Int(date.timeIntervalSince1970 * 1000), _type: type))
    }

    mutating func recordExit(_ machine: inout FakeMachine, code: Int, at date: Date, requested: Bool = false) {
        let exit: [String: (any Sendable)?] = [
            "exit_code": code, "oom_killed": false, "requested_stop": requested, "restarting": !requested && code != 0,
            "exited_at": ISO8601DateFormatter().string(from: date),
        ]
        let request = try? OpenAPIObjectContainer(unvalidatedValue: ["exit_event": exit])
        machine.events.append(
            .init(
                id: Self.instanceID(), request: request, source: "flyd", status: "stopped",
                timestamp: Int(date.timeIntervalSince1970 * 1000), _type: "exit"))
    }

    func answer(_ machine: FakeMachine) -> Components.Schemas.Machine {
        .init(
            checks: checks(of: machine), config: machine.config,
            created_at: ISO8601DateFormatter().string(from: machine.createdAt),
            events: machine.events.sorted { ($0.timestamp ?? 0) > ($1.timestamp ?? 0) }, id: machine.id,
            image_ref: .init(digest: machine.config.image?.split(separator: "@").last.map(String.init)),
            instance_id: machine.instanceID, name: machine.name, private_ip: "fdaa:0:1::\(machine.id.suffix(3))", region: machine.region,
            state: machine.state, updated_at: ISO8601DateFormatter().string(from: machine.launchedAt))
    }
}

extension Duration {
    var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
