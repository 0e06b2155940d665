// swift-format-ignore-file: AlwaysUseLowerCamelCase

package import FlyMachinesAPI
package import Foundation
import HTTPTypes
package import OpenAPIRuntime
import Synchronization

/// Fly's Machines API as the tests' stand-in, behind the handlers generated from the official
/// document: every request is decoded and every answer encoded as that document says, or the
/// generated server refuses it. Errors are shaped as Fly's (`{"error": …}`), leases carry
/// nonces and expire, machines move through their states with delays, per-action rate limits
/// answer 429 as Fly's do.
package final class FakeFly: APIProtocol, Sendable {
    let world = Mutex(FakeFlyWorld())
    /// Requests per second per action and machine (Fly's are 1, bursts of 3; reads 5, bursts of 10).
    let rateLimits: Bool

    @TaskLocal static var nonce: String?

    package init(rateLimits: Bool = true) {
        self.rateLimits = rateLimits
    }

    // MARK: what tests use

    package func behave(_ image: String, _ behaviour: FakeImageBehaviour) {
        world.withLock { $0.behaviours[image] = behaviour }
    }

    /// One-off machines running `command` (`backup`) exit with `code`.
    package func exits(whenRunning command: String, code: Int) {
        world.withLock { $0.commandExits[command] = code }
    }

    package func createApp(_ name: String, org: String = "personal") {
        world.withLock { $0.apps[name] = org }
    }

    package func setSecret(_ name: String, _ value: String) {
        world.withLock {
            $0.secrets[name] = (value, Date())
            $0.secretsVersion += 1
        }
    }

    /// Takes a lease on a machine as another user would.
    package func leaseHeldElsewhere(machine: String, by description: String, for seconds: Double, endsOnceRefused: Bool = false) {
        world.withLock {
            $0.machines[machine]?.lease = FakeLease(
                nonce: "elsewhere", description: description, expiresAt: Date() + seconds, endsOnceRefused: endsOnceRefused)
        }
    }

    package var servingMachines: [Components.Schemas.Machine] {
        world.withLock { world in
            world.advance()
            return world.machines.values.filter {
                $0.destroyedAt == nil && $0.config.metadata?.additionalProperties["fly_process_group"] == "app"
            }.sorted { $0.id < $1.id }.map(world.answer)
        }
    }

    package var allMachines: [Components.Schemas.Machine] {
        world.withLock { world in world.machines.values.sorted { $0.id < $1.id }.map(world.answer) }
    }

    package var calls: [(operation: String, machine: String?)] { world.withLock { $0.calls } }

    /// How many calls met Fly's rate limits (answered 429): a paced client meets none.
    package var rateLimited: [String] { world.withLock { $0.rateLimited } }

    /// The `min_secrets_version` the machine was last created or updated with.
    package func secretsVersion(of machine: String) -> Int? {
        world.withLock { $0.machines[machine]?.secretsVersion }
    }

    /// How long a machine takes to start after a create or update, and then to pass its checks.
    package func timings(start: Duration, checks: Duration) {
        world.withLock {
            $0.startDelay = start
            $0.checkDelay = checks
        }
    }

    package func wrapLeaseAnswers() {
        world.withLock { $0.wrapLeases = true }
    }

    // MARK: helpers

    private func log(_ operation: String, machine: String? = nil) {
        world.withLock { $0.calls.append((operation, machine)) }
    }

    private func appMissing(_ app: String) -> Bool {
        world.withLock { $0.apps[app] == nil }
    }

    /// A machine this app has that GET can see now (not within the moment after its create).
    private func visible(_ id: String, app: String) -> FakeMachine? {
        world.withLock { world in
            world.advance()
            guard let machine = world.machines[id], world.apps[app] != nil else { return nil }
            if world.now().timeIntervalSince(machine.createdAt) < world.notFoundAfterCreate.inSeconds { return nil }
            return machine
        }
    }

    /// Whether a change to `id` may go ahead: no lease, an expired one, or this nonce's.
    private func leaseAllows(_ id: String) -> String? {
        world.withLock { world in
            guard let lease = world.machines[id]?.lease, lease.expiresAt > world.now() else { return nil }
            return Self.nonce == lease.nonce ? nil : "machine \(id) is leased: \(lease.description)"
        }
    }

    // MARK: apps

    package func Apps_show(_ input: Operations.Apps_show.Input) async throws -> Operations.Apps_show.Output {
        log("Apps_show")
        guard let org = world.withLock({ $0.apps[input.path.app_name] }) else {
            throw FakeFlyRefusal(status: 404, message: "Could not find App \"\(input.path.app_name)\"")
        }
        return .ok(
            .init(
                body: .json(.init(id: input.path.app_name, name: input.path.app_name, organization: .init(slug: org), status: "deployed"))))
    }

    package func Apps_create(_ input: Operations.Apps_create.Input) async throws -> Operations.Apps_create.Output {
        log("Apps_create")
        guard case .json(let body) = input.body, let name = body.name, let org = body.org_slug else {
            return .badRequest(.init(body: .json(.init(error: "name and org_slug are required"))))
        }
        let taken = world.withLock { world in
            defer { world.apps[name] = world.apps[name] ?? org }
            return world.apps[name] != nil
        }
        if taken { throw FakeFlyRefusal(status: 422, message: "Name has already been taken") }
        return .created(.init())
    }

    // MARK: machines

    package func Machines_list(_ input: Operations.Machines_list.Input) async throws -> Operations.Machines_list.Output {
        log("Machines_list")
        if appMissing(input.path.app_name) { throw FakeFlyRefusal(status: 404, message: "app not found") }
        let machines = world.withLock { world in
            world.advance()
            return world.machines.values.filter { input.query.include_deleted == true || $0.destroyedAt == nil }.sorted { $0.id < $1.id }
                .map(world.answer)
        }
        return .ok(.init(body: .json(machines)))
    }

    package func Machines_create(_ input: Operations.Machines_create.Input) async throws -> Operations.Machines_create.Output {
        log("Machines_create")
        if appMissing(input.path.app_name) { throw FakeFlyRefusal(status: 404, message: "app not found") }
        guard case .json(let body) = input.body, let config = body.config?.value1, config.image != nil else {
            throw FakeFlyRefusal(status: 400, message: "config.image is required")
        }
        let region = body.region ?? "iad"
        let known = ["iad", "ord", "fra", "ams", "lhr", "syd", "nrt", "sjc"]
        guard known.contains(region) else {
            throw FakeFlyRefusal(status: 400, message: "invalid region \(region)")
        }
        let machine = world.withLock { world in
            let id = world.newID()
            let now = world.now()
            var machine = FakeMachine(
                id: id, name: body.name ?? "machine-\(id.suffix(4))", region: region, config: config, instanceID: FakeFlyWorld.instanceID(),
                state: body.skip_launch == true ? "stopped" : "created", createdAt: now, launchedAt: now,
                secretsVersion: body.min_secrets_version, skipLaunch: body.skip_launch == true)
            world.record(&machine, "launch", "created", at: now, source: "user")
            world.machines[id] = machine
            return world.answer(machine)
        }
        return .ok(.init(body: .json(machine)))
    }

    package func Machines_show(_ input: Operations.Machines_show.Input) async throws -> Operations.Machines_show.Output {
        log("Machines_show", machine: input.path.machine_id)
        guard let machine = visible(input.path.machine_id, app: input.path.app_name) else {
            throw FakeFlyRefusal(status: 404, message: "machine not found")
        }
        return .ok(.init(body: .json(world.withLock { $0.answer(machine) })))
    }

    package func Machines_update(_ input: Operations.Machines_update.Input) async throws -> Operations.Machines_update.Output {
        let id = input.path.machine_id
        log("Machines_update", machine: id)
        guard visible(id, app: input.path.app_name) != nil else {
            throw FakeFlyRefusal(status: 404, message: "machine not found")
        }
        if let refusal = leaseAllows(id) { throw FakeFlyRefusal(status: 412, message: refusal) }
        guard case .json(let body) = input.body, let config = body.config?.value1 else {
            return .badRequest(.init(body: .json(.init(error: "config is required"))))
        }
        let answer = world.withLock { world in
            guard var machine = world.machines[id] else { return Components.Schemas.Machine() }
            let now = world.now()
            machine.config = config
            machine.instanceID = FakeFlyWorld.instanceID()
            machine.launchedAt = now
            machine.exits = 0
            machine.skipLaunch = body.skip_launch == true
            machine.state = machine.skipLaunch ? "stopped" : "replacing"
            machine.secretsVersion = body.min_secrets_version
            world.record(&machine, "update", "replacing", at: now, source: "user")
            world.machines[id] = machine
            return world.answer(machine)
        }
        return .ok(.init(body: .json(answer)))
    }

    package func Machines_delete(_ input: Operations.Machines_delete.Input) async throws -> Operations.Machines_delete.Output {
        let id = input.path.machine_id
        log("Machines_delete", machine: id)
        guard let machine = visible(id, app: input.path.app_name), machine.destroyedAt == nil else {
            throw FakeFlyRefusal(status: 404, message: "machine not found")
        }
        if let refusal = leaseAllows(id) { throw FakeFlyRefusal(status: 412, message: refusal) }
        if machine.state == "started", input.query.force != true {
            throw FakeFlyRefusal(status: 412, message: "machine is started; stop it or pass force=true")
        }
        world.withLock { world in
            guard var machine = world.machines[id] else { return }
            let now = world.now()
            if machine.state == "started" { world.recordExit(&machine, code: 0, at: now, requested: true) }
            machine.state = "destroyed"
            machine.destroyedAt = now
            world.record(&machine, "destroy", "destroyed", at: now, source: "user")
            world.machines[id] = machine
        }
        return .ok(.init())
    }

    package func Machines_start(_ input: Operations.Machines_start.Input) async throws -> Operations.Machines_start.Output {
        let id = input.path.machine_id
        log("Machines_start", machine: id)
        guard visible(id, app: input.path.app_name) != nil else {
            throw FakeFlyRefusal(status: 404, message: "machine not found")
        }
        if let refusal = leaseAllows(id) { throw FakeFlyRefusal(status: 412, message: refusal) }
        world.withLock { world in
            guard var machine = world.machines[id], machine.state == "stopped" else { return }
            machine.state = "starting"
            machine.skipLaunch = false
            machine.launchedAt = world.now()
            machine.exits = 0
            world.machines[id] = machine
        }
        return .ok(.init())
    }

    package func Machines_stop(_ input: Operations.Machines_stop.Input) async throws -> Operations.Machines_stop.Output {
        let id = input.path.machine_id
        log("Machines_stop", machine: id)
        guard visible(id, app: input.path.app_name) != nil else {
            throw FakeFlyRefusal(status: 404, message: "machine not found")
        }
        if let refusal = leaseAllows(id) { throw FakeFlyRefusal(status: 412, message: refusal) }
        world.withLock { world in
            guard var machine = world.machines[id], machine.destroyedAt == nil else { return }
            let now = world.now()
            if machine.state == "started" { world.recordExit(&machine, code: 0, at: now, requested: true) }
            machine.state = "stopped"
            world.machines[id] = machine
        }
        return .ok(.init())
    }

    package func Machines_wait(_ input: Operations.Machines_wait.Input) async throws -> Operations.Machines_wait.Output {
        let id = input.path.machine_id
        log("Machines_wait", machine: id)
        let wanted = input.query.state?.rawValue ?? "started"
        let timeout = min(input.query.timeout ?? 60, 60)
        let deadline = Date() + Double(timeout)
        while true {
            guard let machine = visible(id, app: input.path.app_name) else {
                throw FakeFlyRefusal(status: 404, message: "machine not found")
            }
            if let version = input.query.version ?? input.query.instance_id, version != machine.instanceID, wanted != "destroyed" {
                return .badRequest(.init(body: .json(.init(error: "machine \(id) is at another version than \(version)"))))
            }
            let state = machine.state
            if state == wanted || (wanted == "settled" && ["started", "stopped", "failed", "destroyed"].contains(state)) {
                return .ok(.init(body: .json(.init(ok: true, state: state, version: machine.instanceID))))
            }
            if wanted == "started", ["failed", "destroyed"].contains(state) {
                return .badRequest(.init(body: .json(.init(error: "machine \(id) is \(state), it will not reach started"))))
            }
            guard Date() < deadline else {
                throw FakeFlyRefusal(status: 408, message: "deadline_exceeded: machine did not reach \(wanted) in time")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    package func Machines_list_events(_ input: Operations.Machines_list_events.Input) async throws -> Operations.Machines_list_events.Output
    {
        log("Machines_list_events", machine: input.path.machine_id)
        guard let machine = visible(input.path.machine_id, app: input.path.app_name) else {
            throw FakeFlyRefusal(status: 404, message: "machine not found")
        }
        let events = machine.events.sorted { ($0.timestamp ?? 0) > ($1.timestamp ?? 0) }.prefix(input.query.limit ?? 20)
        return .ok(.init(body: .json(Array(events))))
    }

    // MARK: leases

    package func Machines_create_lease(_ input: Operations.Machines_create_lease.Input) async throws
        -> Operations.Machines_create_lease.Output
    {
        let id = input.path.machine_id
        log("Machines_create_lease", machine: id)
        guard visible(id, app: input.path.app_name) != nil else {
            throw FakeFlyRefusal(status: 404, message: "machine not found")
        }
        guard case .json(let body) = input.body else { throw FakeFlyRefusal(status: 400, message: "body required") }
        let offered = input.headers.fly_hyphen_machine_hyphen_lease_hyphen_nonce
        let result: Result<Components.Schemas.Lease, FakeFlyRefusal> = world.withLock { world in
            let now = world.now()
            if let lease = world.machines[id]?.lease, lease.expiresAt > now, lease.nonce != offered {
                if lease.endsOnceRefused { world.machines[id]?.lease = nil }
                return .failure(
                    FakeFlyRefusal(
                        status: 409,
                        message: "lease currently held by \(lease.description), expires at \(Int(lease.expiresAt.timeIntervalSince1970))"))
            }
            let ttl = Double(body.ttl ?? 30)
            let nonce = offered.flatMap { world.machines[id]?.lease?.nonce == $0 ? $0 : nil } ?? FakeFlyWorld.instanceID().lowercased()
            let lease = FakeLease(nonce: nonce, description: body.description ?? "", expiresAt: now + ttl)
            world.machines[id]?.lease = lease
            return .success(
                .init(
                    description: lease.description, expires_at: Int(lease.expiresAt.timeIntervalSince1970), nonce: nonce,
                    owner: "deployer@example.com", version: FakeFlyWorld.instanceID()))
        }
        switch result {
        case .failure(let refusal): throw refusal
        case .success(let lease): return .created(.init(body: .json(lease)))
        }
    }

    package func Machines_show_lease(_ input: Operations.Machines_show_lease.Input) async throws -> Operations.Machines_show_lease.Output {
        let id = input.path.machine_id
        log("Machines_show_lease", machine: id)
        let lease = world.withLock { world in world.machines[id]?.lease.flatMap { $0.expiresAt > world.now() ? $0 : nil } }
        guard let lease else { throw FakeFlyRefusal(status: 404, message: "lease not found") }
        return .ok(
            .init(
                body: .json(
                    .init(
                        description: lease.description, expires_at: Int(lease.expiresAt.timeIntervalSince1970), owner: "someone@example.com"
                    ))
            ))
    }

    package func Machines_release_lease(_ input: Operations.Machines_release_lease.Input) async throws
        -> Operations.Machines_release_lease.Output
    {
        let id = input.path.machine_id
        log("Machines_release_lease", machine: id)
        let released = world.withLock { world -> Bool in
            guard let lease = world.machines[id]?.lease, lease.expiresAt > world.now() else { return true }
            guard lease.nonce == input.headers.fly_hyphen_machine_hyphen_lease_hyphen_nonce else { return false }
            world.machines[id]?.lease = nil
            return true
        }
        guard released else { throw FakeFlyRefusal(status: 409, message: "lease nonce does not match") }
        return .ok(.init())
    }

    // MARK: metadata

    package func Machines_upsert_metadata(_ input: Operations.Machines_upsert_metadata.Input) async throws
        -> Operations.Machines_upsert_metadata.Output
    {
        let id = input.path.machine_id
        log("Machines_upsert_metadata", machine: id)
        guard visible(id, app: input.path.app_name) != nil else {
            throw FakeFlyRefusal(status: 404, message: "machine not found")
        }
        if let refusal = leaseAllows(id) { throw FakeFlyRefusal(status: 412, message: refusal) }
        guard case .json(let body) = input.body, let value = body.value else {
            return .badRequest(.init(body: .json(.init(error: "value is required"))))
        }
        world.withLock { world in
            if world.machines[id]?.config.metadata == nil { world.machines[id]?.config.metadata = .init() }
            world.machines[id]?.config.metadata?.additionalProperties[input.path.key] = value
        }
        return .noContent(.init())
    }

    package func Machines_delete_metadata(_ input: Operations.Machines_delete_metadata.Input) async throws
        -> Operations.Machines_delete_metadata.Output
    {
        let id = input.path.machine_id
        log("Machines_delete_metadata", machine: id)
        if let refusal = leaseAllows(id) { throw FakeFlyRefusal(status: 412, message: refusal) }
        world.withLock { $0.machines[id]?.config.metadata?.additionalProperties[input.path.key] = nil }
        return .noContent(.init())
    }

    // MARK: secrets

    package func Secrets_list(_ input: Operations.Secrets_list.Input) async throws -> Operations.Secrets_list.Output {
        log("Secrets_list")
        if appMissing(input.path.app_name) { throw FakeFlyRefusal(status: 404, message: "app not found") }
        let secrets = world.withLock { world in
            world.secrets.sorted { $0.key < $1.key }.map { name, entry in
                Components.Schemas.AppSecret(
                    created_at: ISO8601DateFormatter().string(from: entry.updatedAt), digest: Self.digest(entry.value), name: name,
                    updated_at: ISO8601DateFormatter().string(from: entry.updatedAt),
                    value: input.query.show_secrets == true ? entry.value : nil)
            }
        }
        return .ok(.init(body: .json(.init(secrets: secrets))))
    }

    package func Secrets_update(_ input: Operations.Secrets_update.Input) async throws -> Operations.Secrets_update.Output {
        log("Secrets_update")
        if appMissing(input.path.app_name) { throw FakeFlyRefusal(status: 404, message: "app not found") }
        guard case .json(let body) = input.body, let values = body.values?.additionalProperties, !values.isEmpty else {
            return .badRequest(.init(body: .json(.init(error: "values is required"))))
        }
        let version = world.withLock { world in
            for (name, value) in values { world.secrets[name] = (value, world.now()) }
            world.secretsVersion += 1
            return world.secretsVersion
        }
        return .ok(.init(body: .json(.init(version: version))))
    }

    package func Secret_delete(_ input: Operations.Secret_delete.Input) async throws -> Operations.Secret_delete.Output {
        log("Secret_delete")
        let version = world.withLock { world -> Int? in
            guard world.secrets.removeValue(forKey: input.path.secret_name) != nil else { return nil }
            world.secretsVersion += 1
            return world.secretsVersion
        }
        guard let version else { throw FakeFlyRefusal(status: 404, message: "secret not found") }
        return .ok(.init(body: .json(.init(version: version))))
    }

    package func Platform_regions_get(_ input: Operations.Platform_regions_get.Input) async throws -> Operations.Platform_regions_get.Output
    {
        log("Platform_regions_get")
        let regions = ["iad", "ord", "fra", "ams", "lhr", "syd", "nrt", "sjc"].map {
            Components.Schemas.main_period_regionRow(code: $0, name: $0)
        }
        return .ok(.init(body: .json(.init(nearest: "iad", regions: regions))))
    }

    static func digest(_ value: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in value.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(format: "%016llx", hash)
    }
}

/// An error answer as Fly gives it (`{"error": …}` with its status): thrown by a handler and
/// written by the gate, since the generated server drops the body of an undocumented answer.
struct FakeFlyRefusal: Error {
    var status: Int
    var message: String
}
