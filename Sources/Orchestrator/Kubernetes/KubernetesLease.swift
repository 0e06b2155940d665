import Foundation
import NIOCore

/// The deploy lock on Kubernetes: a `coordination.k8s.io/v1` Lease per environment. Taken by
/// create, or by update with the observed resourceVersion once the holder's lease has expired;
/// renewed while the deploy runs; released at the end. Concurrent takers lose on the 409.
final class KubernetesLease: @unchecked Sendable {
    let client: KubernetesClient
    let path: String
    let holder: String
    let durationSeconds: Int
    private var renewal: Task<Void, Never>?

    private init(client: KubernetesClient, path: String, holder: String, durationSeconds: Int) {
        self.client = client
        self.path = path
        self.holder = holder
        self.durationSeconds = durationSeconds
    }

    /// `steal`: take the lease even from a live holder (`--steal-lock`, for a holder known dead).
    static func acquire(
        client: KubernetesClient, namespace: String, name: String, holder: String, durationSeconds: Int = 30, steal: Bool = false,
        progress: (any ProgressReporter)? = nil
    ) async throws -> KubernetesLease {
        let collection = "/apis/coordination.k8s.io/v1/namespaces/\(namespace)/leases"
        let lease = KubernetesLease(client: client, path: "\(collection)/\(name)", holder: holder, durationSeconds: durationSeconds)
        let now = Self.timestamp(Date())
        let spec: [String: Any] = [
            "holderIdentity": holder, "leaseDurationSeconds": durationSeconds, "acquireTime": now, "renewTime": now,
        ]
        let process = ProcessIdentity.current()?.text ?? ""
        let existing = try await client.send(.GET, lease.path)
        if existing.status == .notFound {
            let metadata: [String: Any] = ["name": name, "namespace": namespace, "annotations": [processAnnotation: process]]
            let body: [String: Any] = ["apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata, "spec": spec]
            let created = try await client.send(.POST, collection, body: try Self.json(body), contentType: "application/json")
            if created.status == .conflict {
                try await lease.ownOrThrowHeld()
            } else if created.status != .created && created.status != .ok {
                throw client.failure(created, verb: "create", resource: "leases/\(name)")
            }
        } else {
            guard existing.status == .ok, var object = existing.json else {
                throw client.failure(existing, verb: "get", resource: "leases/\(name)")
            }
            let current = object["spec"] as? [String: Any] ?? [:]
            if let other = current["holderIdentity"] as? String, !other.isEmpty, other != holder, !Self.expired(current) {
                if Self.holderIsGone(object) {
                    progress?.step("taking the deploy lock from \(other): that process no longer exists on this machine")
                } else {
                    guard steal else { throw lease.heldError(object) }
                    progress?.step("taking the deploy lock from \(other) (--steal-lock)")
                }
            }
            var taken = spec
            taken["leaseTransitions"] = ((current["leaseTransitions"] as? Int) ?? 0) + 1
            object["spec"] = taken
            var metadata = object["metadata"] as? [String: Any] ?? [:]
            var annotations = metadata["annotations"] as? [String: Any] ?? [:]
            annotations[processAnnotation] = process
            metadata["annotations"] = annotations
            object["metadata"] = metadata
            let updated = try await client.send(.PUT, lease.path, body: try Self.json(object), contentType: "application/json")
            if updated.status == .conflict {
                try await lease.ownOrThrowHeld()
            } else if updated.status != .ok {
                throw client.failure(updated, verb: "update", resource: "leases/\(name)")
            }
        }
        lease.startRenewing()
        return lease
    }

    /// The holder's ProcessIdentity: a run killed on this machine (`kill -9`, a closed terminal)
    /// is then known dead at once, without waiting for its lease to expire.
    static let processAnnotation = "orchestrate.dev/holder-process"

    static func holderIsGone(_ lease: [String: Any]) -> Bool {
        let annotations = (lease["metadata"] as? [String: Any])?["annotations"] as? [String: Any]
        return (annotations?[processAnnotation] as? String).flatMap(ProcessIdentity.init(text:))?.isCertainlyGone ?? false
    }

    /// Gives the lease up so the next deploy need not wait for it to expire.
    func release() async {
        renewal?.cancel()
        guard let response = try? await client.send(.GET, path), var object = response.json else { return }
        var spec = object["spec"] as? [String: Any] ?? [:]
        guard spec["holderIdentity"] as? String == holder else { return }
        spec["holderIdentity"] = NSNull()
        object["spec"] = spec
        _ = try? await client.send(.PUT, path, body: try Self.json(object), contentType: "application/json")
    }

    /// Returns once renewing has stopped: released, or the lease found in someone else's hands.
    func renewalsStopped() async {
        await renewal?.value
    }

    private func startRenewing() {
        let interval = max(durationSeconds / 3, 1)
        renewal = Task { [client, path, holder] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(interval))
                guard !Task.isCancelled, let response = try? await client.send(.GET, path), var object = response.json else { continue }
                var spec = object["spec"] as? [String: Any] ?? [:]
                guard spec["holderIdentity"] as? String == holder else { return }
                spec["renewTime"] = Self.timestamp(Date())
                object["spec"] = spec
                _ = try? await client.send(.PUT, path, body: try Self.json(object), contentType: "application/json")
            }
        }
    }

    /// A 409 on taking the lease is usually another run's win, but it is also what the retry of
    /// our own create or update meets when the first attempt was done and its answer lost: the
    /// lease then names this run, and is ours.
    private func ownOrThrowHeld() async throws {
        let response = try await client.send(.GET, path)
        if response.status == .ok, Field.string(response.json, "spec", "holderIdentity") == holder { return }
        throw heldError(response.json)
    }

    /// `lease`: the Lease as just read, whose holder the error names.
    private func heldError(_ lease: [String: Any]?) -> DeployFailure {
        let spec = lease?["spec"] as? [String: Any] ?? [:]
        return DeployFailure(
            kind: .locked, message: Self.heldMessage(spec, lease: String(path.split(separator: "/").last ?? ""), now: Date()))
    }

    /// Who holds the lock, when it frees itself, and whether its holder still looks alive: a
    /// live run renews every third of the duration, so a lease not renewed for two of those
    /// belongs to a run that was killed or lost its connection.
    static func heldMessage(_ spec: [String: Any], lease: String, now: Date) -> String {
        let other = spec["holderIdentity"] as? String ?? "another run"
        let duration = spec["leaseDurationSeconds"] as? Int ?? 30
        guard let renewed = (spec["renewTime"] as? String).flatMap(parse) else {
            return "the environment is locked by \(other) (Lease \(lease)); wait for it to finish, or rerun with --steal-lock"
        }
        let age = max(Int(now.timeIntervalSince(renewed).rounded()), 0)
        let freeIn = max(duration - age, 0)
        let free = renewed.addingTimeInterval(Double(duration)).formatted(.iso8601)
        let alive =
            age > 2 * max(duration / 3, 1)
            ? "it was last renewed \(age) s ago, so that run has most likely died (killed, or its machine lost)"
            : "it was renewed \(age) s ago, so that run is most likely still deploying"
        return "the environment is locked by \(other) (Lease \(lease)): \(alive). The lock frees itself at \(free) "
            + "(in \(freeIn) s); apply again then, or now with --steal-lock to take it from \(other)"
    }

    static func expired(_ spec: [String: Any]) -> Bool {
        guard let renewed = (spec["renewTime"] as? String).flatMap(parse) else { return true }
        let duration = Double(spec["leaseDurationSeconds"] as? Int ?? 60)
        return renewed.addingTimeInterval(duration) < Date()
    }

    /// A MicroTime as the API writes it: RFC 3339 in UTC with six fractional digits.
    static func timestamp(_ date: Date) -> String {
        let whole = Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
        let micros = Int((date.timeIntervalSince1970 - whole.timeIntervalSince1970) * 1_000_000)
        let base = whole.formatted(.iso8601)
        return String(base.dropLast()) + String(format: ".%06dZ", micros)
    }

    /// Reads RFC 3339 with or without fractional seconds.
    static func parse(_ text: String) -> Date? {
        let trimmed = text.replacingOccurrences(of: #"\.\d+"#, with: "", options: .regularExpression)
        return try? Date(trimmed, strategy: .iso8601)
    }

    static func json(_ object: [String: Any]) throws -> ByteBuffer {
        ByteBuffer(bytes: try KubernetesClient.encode(object))
    }
}
