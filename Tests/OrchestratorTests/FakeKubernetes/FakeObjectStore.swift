import Foundation

@testable import Orchestrator

/// The objects of the fake API server, keyed by REST path, with what a real API server adds:
/// uid, resourceVersion, generation, managed fields per field manager, and defaults.
final class FakeObjectStore: @unchecked Sendable {
    struct Conflict: Error {
        var manager: String
        var fields: [String]
    }

    struct Event: @unchecked Sendable {
        var version: Int
        var collection: String
        var type: String
        var object: [String: Any]
    }

    private let lock = NSLock()
    private var objects: [String: [String: Any]] = [:]
    private var events: [Event] = []
    /// Watchers have a lock of their own, never held while anything else is taken: cancelling a
    /// watching task runs its stream's termination handler under the task's own lock, and a
    /// change yielded to that task's stream needs that task's lock. With one lock for both, a
    /// change recorded while a watch was cancelled deadlocked (seen under load).
    private let watchersLock = NSLock()
    private var watchers: [UUID: (collection: String, continuation: AsyncStream<Event>.Continuation)] = [:]

    /// Leaf field path → the manager that set it, per object.
    private var owners: [String: [String: String]] = [:]
    private var version = 100

    func get(_ path: String) -> [String: Any]? {
        lock.withLock { objects[path] }
    }

    /// Objects directly under a collection path whose labels match every `key=value`.
    func list(_ collection: String, labels: [String: String]) -> [[String: Any]] {
        lock.withLock {
            objects.filter { key, object in
                guard (key as NSString).deletingLastPathComponent == collection else { return false }
                let have = (object["metadata"] as? [String: Any])?["labels"] as? [String: String] ?? [:]
                return labels.allSatisfy { have[$0.key] == $0.value }
            }.sorted { $0.key < $1.key }.map(\.value)
        }
    }

    var resourceVersion: String { lock.withLock { String(version) } }

    /// Server-side apply: merges `applied` into the live object as `manager`, refusing to take
    /// fields another manager set to a different value unless `force`. With `dryRun` nothing is kept.
    func apply(_ path: String, applied: [String: Any], manager: String, force: Bool, dryRun: Bool) throws -> [String: Any] {
        try lock.withLock {
            let live = objects[path]
            var fieldOwners = owners[path] ?? [:]
            let leaves = Self.leaves(of: applied)
            let taken = leaves.filter { path, value in
                guard let owner = fieldOwners[path], owner != manager else { return false }
                return Self.leaves(of: live ?? [:])[path] != value
            }.map(\.key).sorted()
            if !taken.isEmpty && !force, let owner = fieldOwners[taken[0]] {
                throw Conflict(manager: owner, fields: taken)
            }
            var merged = Self.merge(live ?? [:], applied)
            merged["status"] = live?["status"]
            Self.fillDefaults(&merged, sequence: version)
            var metadata = merged["metadata"] as? [String: Any] ?? [:]
            let specChanged = Self.render(live?["spec"]) != Self.render(merged["spec"])
            metadata["uid"] = (live?["metadata"] as? [String: Any])?["uid"] ?? UUID().uuidString.lowercased()
            metadata["creationTimestamp"] = (live?["metadata"] as? [String: Any])?["creationTimestamp"] ?? "2026-11-29T00:00:00Z"
            let generation = ((live?["metadata"] as? [String: Any])?["generation"] as? Int) ?? 0
            metadata["generation"] = live == nil || specChanged ? generation + 1 : generation
            for leaf in leaves.keys { fieldOwners[leaf] = manager }
            metadata["managedFields"] = Set(fieldOwners.values).sorted().map { owner in
                [
                    "manager": owner, "operation": "Apply", "fieldsType": "FieldsV1",
                    "fieldsV1": ["count": fieldOwners.values.filter { $0 == owner }.count],
                ]
            }
            if !dryRun { version += 1 }
            metadata["resourceVersion"] = String(dryRun ? version : version)
            merged["metadata"] = metadata
            if !dryRun {
                objects[path] = merged
                owners[path] = fieldOwners
                record(path, type: live == nil ? "ADDED" : "MODIFIED", object: merged)
            }
            return merged
        }
    }

    /// Stores an object as a controller or an update (PUT) would, bumping its resourceVersion.
    /// With `expectedVersion`, a stale one is a conflict (optimistic concurrency).
    @discardableResult
    func put(_ path: String, _ object: [String: Any], expectedVersion: String? = nil) -> [String: Any]? {
        lock.withLock {
            let live = objects[path]
            if let expectedVersion, (live?["metadata"] as? [String: Any])?["resourceVersion"] as? String != expectedVersion {
                return nil
            }
            version += 1
            var stored = object
            var metadata = stored["metadata"] as? [String: Any] ?? [:]
            metadata["resourceVersion"] = String(version)
            metadata["uid"] = (live?["metadata"] as? [String: Any])?["uid"] ?? UUID().uuidString.lowercased()
            stored["metadata"] = metadata
            objects[path] = stored
            record(path, type: live == nil ? "ADDED" : "MODIFIED", object: stored)
            return stored
        }
    }

    /// Changes an object in place (a controller updating status or annotations).
    func update(_ path: String, _ change: (inout [String: Any]) -> Void) {
        guard var object = get(path) else { return }
        change(&object)
        put(path, object)
    }

    /// Events of a collection after `resourceVersion`, then live ones as they happen.
    func watch(_ collection: String, after resourceVersion: Int) -> AsyncStream<Event> {
        let (stream, continuation) = AsyncStream<Event>.makeStream()
        lock.withLock {
            for event in events where event.collection == collection && event.version > resourceVersion {
                continuation.yield(event)
            }
            let id = UUID()
            watchersLock.withLock { watchers[id] = (collection, continuation) }
            continuation.onTermination = { [weak self] _ in
                self?.watchersLock.withLock { _ = self?.watchers.removeValue(forKey: id) }
            }
        }
        return stream
    }

    /// Under the lock (so that every watcher gets changes in order): remembers the change and
    /// tells the watchers of its collection.
    private func record(_ path: String, type: String, object: [String: Any]) {
        let collection = (path as NSString).deletingLastPathComponent
        let event = Event(version: version, collection: collection, type: type, object: object)
        events.append(event)
        let interested = watchersLock.withLock { watchers.values.filter { $0.collection == collection }.map(\.continuation) }
        for continuation in interested { continuation.yield(event) }
    }

    func delete(_ path: String) -> Bool {
        lock.withLock {
            owners[path] = nil
            version += 1
            guard let removed = objects.removeValue(forKey: path) else { return false }
            record(path, type: "DELETED", object: removed)
            return true
        }
    }

    static func merge(_ live: [String: Any], _ applied: [String: Any]) -> [String: Any] {
        var result = live
        for (key, value) in applied {
            if let map = value as? [String: Any], let existing = live[key] as? [String: Any] {
                result[key] = merge(existing, map)
            } else {
                result[key] = value
            }
        }
        return result
    }

    /// What the API server's defaulting adds, so a plan must not report these as changes.
    static func fillDefaults(_ object: inout [String: Any], sequence: Int) {
        guard var spec = object["spec"] as? [String: Any] else { return }
        switch object["kind"] as? String {
        case "Deployment":
            spec["replicas"] = spec["replicas"] ?? 1
            spec["progressDeadlineSeconds"] = spec["progressDeadlineSeconds"] ?? 600
            spec["revisionHistoryLimit"] = spec["revisionHistoryLimit"] ?? 10
            if var template = spec["template"] as? [String: Any], var pod = template["spec"] as? [String: Any] {
                pod["restartPolicy"] = pod["restartPolicy"] ?? "Always"
                pod["dnsPolicy"] = pod["dnsPolicy"] ?? "ClusterFirst"
                pod["schedulerName"] = pod["schedulerName"] ?? "default-scheduler"
                pod["terminationGracePeriodSeconds"] = pod["terminationGracePeriodSeconds"] ?? 30
                template["spec"] = pod
                spec["template"] = template
            }
        case "Service":
            spec["clusterIP"] = spec["clusterIP"] ?? "10.96.0.\(sequence % 250 + 2)"
            spec["sessionAffinity"] = spec["sessionAffinity"] ?? "None"
            spec["type"] = spec["type"] ?? "ClusterIP"
        default:
            break
        }
        object["spec"] = spec
    }

    static func leaves(of value: Any, path: String = "") -> [String: String] {
        if let map = value as? [String: Any] {
            var result: [String: String] = [:]
            for (key, child) in map where !(path.isEmpty && key == "status") {
                result.merge(leaves(of: child, path: path.isEmpty ? key : "\(path).\(key)")) { $1 }
            }
            return result
        }
        return [path: render(value)]
    }

    static func render(_ value: Any?) -> String {
        guard let value else { return "" }
        return ObjectDiff.render(value)
    }
}
