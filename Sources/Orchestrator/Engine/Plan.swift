import Foundation

/// The typed difference between what an environment's spec asks for and what is live.
struct Plan: Codable, Sendable {
    var environment: String
    var target: String
    var changes: [Change]
    /// What a fleet-style platform applies; nil for a Kubernetes plan, which is applied object by object.
    var desired: DesiredState?
    /// The image a Kubernetes plan deploys (a fleet plan's build is in `desired`).
    var image: String?
    /// The live state this plan was computed against; `apply FILE` refuses if it moved.
    var liveFingerprint: String
    var createdAt: Date

    var hasChanges: Bool { !changes.isEmpty }

    func count(_ action: Change.Action) -> Int {
        changes.filter { $0.action == action }.count
    }
}

struct Change: Codable, Equatable, Sendable {
    enum Action: String, Codable, Sendable {
        case add, change, remove
    }

    var action: Action
    var resource: String
    var detail: String?
    var fields: [FieldChange]
}

struct FieldChange: Codable, Equatable, Sendable {
    var field: String
    var before: String?
    var after: String?
    /// Its values are secret: shown as `(sensitive)` and never stored in the plan.
    var sensitive: Bool

    static func sensitive(_ field: String, before: Bool, after: Bool) -> FieldChange {
        FieldChange(field: field, before: before ? "(sensitive)" : nil, after: after ? "(sensitive)" : nil, sensitive: true)
    }
}

/// Computes plans; the same for every platform.
enum PlanBuilder {
    static func plan(environment: String, target: String, desired: DesiredState, live: LiveState) -> Plan {
        var changes: [Change] = []
        let present = Set(live.components.filter(\.present).map(\.name))
        for component in desired.components where !present.contains(component.name) {
            changes.append(Change(action: .add, resource: component.name, detail: component.detail, fields: []))
        }
        let wanted = desired.configuration
        if let current = live.current {
            let fields = fieldChanges(from: current.configuration, to: wanted)
            if !fields.isEmpty {
                // Which instances the new release replaces, by name and place (a Fly machine's region).
                let instances = live.instances.map { "\($0.name) (\($0.address))" }.joined(separator: ", ")
                let detail = "replaces \(current.name)" + (instances.isEmpty ? "" : " on \(instances)")
                changes.append(Change(action: .change, resource: "release", detail: detail, fields: fields))
            } else if let drift = instanceDrift(live: live, release: current) {
                changes.append(drift)
            }
        } else {
            changes.append(
                Change(
                    action: .add, resource: "release", detail: "\(wanted.replicas) instance(s) of \(wanted.artifact.reference)",
                    fields: fieldChanges(from: nil, to: wanted)))
        }
        return Plan(
            environment: environment, target: target, changes: changes, desired: desired, liveFingerprint: live.fingerprint,
            createdAt: Date())
    }

    /// Instances that do not run the current release, are not running, or run but do not answer
    /// their liveness check (a hung process): apply converges them.
    static func instanceDrift(live: LiveState, release: ReleaseRecord) -> Change? {
        let good = live.instances.filter { $0.releaseID == release.id && $0.state == .running && $0.healthy != false }.count
        let wanted = release.configuration.replicas
        guard good != wanted || live.instances.count != wanted else { return nil }
        let hung = live.instances.filter { $0.state == .running && $0.healthy == false }.map(\.name)
        return Change(
            action: .change, resource: "instances",
            detail: "converge to \(release.name)" + (hung.isEmpty ? "" : "; not answering: \(hung.joined(separator: ", "))"),
            fields: [
                FieldChange(
                    field: "running \(release.name)", before: "\(good) of \(live.instances.count)", after: "\(wanted) of \(wanted)",
                    sensitive: false)
            ])
    }

    static func fieldChanges(from old: ReleaseConfiguration?, to new: ReleaseConfiguration) -> [FieldChange] {
        var fields: [FieldChange] = []
        func compare(_ field: String, _ before: String?, _ after: String?) {
            if before != after { fields.append(FieldChange(field: field, before: before, after: after, sensitive: false)) }
        }
        compare("image", old?.artifact.digest, new.artifact.digest)
        compare("replicas", old.map { String($0.replicas) }, String(new.replicas))
        compare("strategy", old?.strategy.rawValue, new.strategy.rawValue)
        compare("release command", old?.releaseCommand?.joined(separator: " "), new.releaseCommand?.joined(separator: " "))
        for name in Set(new.variables.keys).union(old.map { Array($0.variables.keys) } ?? []).sorted() {
            compare("env \(name)", old?.variables[name], new.variables[name])
        }
        if old?.fly != nil || new.fly != nil {
            let before = old?.fly?.fields ?? [:]
            let after = new.fly?.fields ?? [:]
            for field in Set(before.keys).union(after.keys).sorted() { compare(field, before[field], after[field]) }
        }
        let oldSecrets = Set(old?.secretNames ?? [])
        let newSecrets = Set(new.secretNames)
        for name in oldSecrets.union(newSecrets).sorted() where !(oldSecrets.contains(name) && newSecrets.contains(name)) {
            fields.append(.sensitive("secret \(name)", before: oldSecrets.contains(name), after: newSecrets.contains(name)))
        }
        if let old, old.secretsDigest != new.secretsDigest, oldSecrets == newSecrets {
            if let before = old.secretDigests, let after = new.secretDigests {
                for name in newSecrets.sorted() where before[name] != after[name] {
                    fields.append(.sensitive("secret \(name) value", before: before[name] != nil, after: after[name] != nil))
                }
            } else {
                fields.append(.sensitive("secret values", before: true, after: true))
            }
        }
        if let old, fields.isEmpty, old.specHash != new.specHash {
            compare("spec", old.specHash, new.specHash)
        }
        return fields
    }
}
