import FlyMachinesAPI
import Foundation

/// Where a Fly app's release history and deploy lock live: on Fly itself, so that a laptop and a
/// CI runner see the same releases and the same lock, and both survive the replacement of every
/// serving machine. It is one machine that never starts (`skip_launch`), in a process group of
/// its own; each release is a metadata key on it (`orchestrate_release_N`, the record as JSON),
/// the current release another (`orchestrate_current`), and a lease on it is the deploy lock,
/// which expires by itself 30 s after its holder stops refreshing it.
final class FlyLedger: ReleaseHistory, @unchecked Sendable {
    static let machineName = "orchestrate-ledger"
    static let processGroup = "orchestrate_ledger"
    static let releasePrefix = "orchestrate_release_"
    static let currentKey = "orchestrate_current"
    static let secretsVersionKey = "orchestrate_secrets_version"
    /// Fly keeps a machine's configuration small; older records beyond this are dropped.
    static let kept = 40

    let api: FlyAPI
    let environment: String
    private let lock = NSLock()
    private var machineID: String?

    init(api: FlyAPI, environment: String) {
        self.api = api
        self.environment = environment
    }

    /// The ledger machine, if there is one (the oldest, should two first runs have raced).
    func find() async throws -> Machine? {
        let ledgers = try await api.machines().filter {
            $0.config?.metadata?.additionalProperties["fly_process_group"] == Self.processGroup && $0.state != "destroyed"
        }
        let oldest = ledgers.min { ($0.created_at ?? "", $0.id ?? "") < ($1.created_at ?? "", $1.id ?? "") }
        lock.withLock { machineID = oldest?.id }
        return oldest
    }

    /// The ledger's id, creating it (stopped, never started) with `image` when there is none.
    func ensure(image: String, region: String) async throws -> String {
        if let id = lock.withLock({ machineID }) { return id }
        if let existing = try await find(), let id = existing.id { return id }
        var config = MachineConfig()
        config.image = image
        config.guest = .init(cpu_kind: "shared", cpus: 1, memory_mb: 256)
        config.restart = .init(policy: .no)
        config.metadata = .init(additionalProperties: [
            "fly_platform_version": "v2", "fly_process_group": Self.processGroup, "orchestrate_environment": environment,
        ])
        _ = try await api.createOnce(
            .init(config: .init(value1: config), name: Self.machineName, region: region, skip_launch: true))
        guard let found = try await find(), let id = found.id else {
            throw FlyAPIError(operation: "Machines_create", status: 200, message: "the ledger machine was created but is not listed")
        }
        return id
    }

    var id: String? { lock.withLock { machineID } }

    private func metadata() async throws -> [String: String] {
        var known = id
        if known == nil { known = try await find()?.id }
        guard let known, let machine = try await api.machine(known) else { return [:] }
        return machine.config?.metadata?.additionalProperties ?? [:]
    }

    func all() async throws -> [ReleaseRecord] {
        try await records(in: metadata())
    }

    private func records(in metadata: [String: String]) throws -> [ReleaseRecord] {
        try metadata.filter { $0.key.hasPrefix(Self.releasePrefix) }.map {
            try JSONCoding.decoder().decode(ReleaseRecord.self, from: Data($0.value.utf8))
        }.sorted { $0.id < $1.id }
    }

    func save(_ release: ReleaseRecord) async throws {
        let id = try required()
        let record = String(decoding: try JSONCoding.encoder(pretty: false).encode(release), as: UTF8.self)
        try await api.upsertMetadata(id, key: Self.releasePrefix + String(release.id), value: record)
        let all = try await metadata()
        let current = Int(all[Self.currentKey] ?? "")
        for old in try records(in: all).dropLast(Self.kept) where old.id != current {
            try await api.deleteMetadata(id, key: Self.releasePrefix + String(old.id))
        }
    }

    func current() async throws -> ReleaseRecord? {
        let all = try await metadata()
        guard let id = Int(all[Self.currentKey] ?? "") else { return nil }
        return try records(in: all).first { $0.id == id }
    }

    func setCurrent(_ release: ReleaseRecord) async throws {
        try await api.upsertMetadata(try required(), key: Self.currentKey, value: String(release.id))
    }

    /// The app's secrets version last set through `orchestrate secrets`, which releases pin.
    func secretsVersion() async throws -> Int? {
        Int(try await metadata()[Self.secretsVersionKey] ?? "")
    }

    func setSecretsVersion(_ version: Int) async throws {
        try await api.upsertMetadata(try required(), key: Self.secretsVersionKey, value: String(version))
    }

    private func required() throws -> String {
        guard let id else { throw DeployFailure(kind: .invalid, message: "\(api.app) has no release ledger yet; apply creates it") }
        return id
    }
}
