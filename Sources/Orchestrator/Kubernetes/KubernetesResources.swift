import Foundation
import NIOCore

/// Typed reads and writes the Kubernetes target needs, over the client.
extension KubernetesClient {
    static let fieldManager = "orchestrate"

    /// Every body orchestrate sends. Foundation escapes `/` as `\/` by default, which JSON allows
    /// and YAML does not: the API server reads apply bodies as YAML and answered 400 ("found
    /// unknown escape character") to every annotation key with a `/`.
    static func encode(_ object: Any) throws -> Data {
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    func object(_ path: String, label: String) async throws -> [String: Any]? {
        let response = try await send(.GET, path)
        if response.status == .notFound { return nil }
        guard response.status == .ok, let object = response.json else { throw failure(response, verb: "get", resource: label) }
        return object
    }

    func list(_ collection: String, labelSelector: String? = nil, label: String) async throws -> [[String: Any]] {
        let query =
            labelSelector.map { "?labelSelector=" + ($0.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? $0) } ?? ""
        let response = try await send(.GET, collection + query)
        guard response.status == .ok else { throw failure(response, verb: "list", resource: label) }
        return response.json?["items"] as? [[String: Any]] ?? []
    }

    /// Server-side apply as `orchestrate`; a conflict with another manager is an error that says
    /// which manager owns which fields, unless `force`.
    @discardableResult
    func apply(
        _ object: DesiredObject, force: Bool, dryRun: Bool = false, fieldManager: String = KubernetesClient.fieldManager
    ) async throws -> [String: Any] {
        var query = "?fieldManager=\(fieldManager)"
        if force { query += "&force=true" }
        if dryRun { query += "&dryRun=All" }
        let response = try await send(
            .PATCH, object.path + query, body: ByteBuffer(bytes: try object.json()), contentType: "application/apply-patch+yaml")
        if response.status == .conflict {
            let message = response.json?["message"] as? String ?? "conflict"
            throw KubernetesError.api(
                "\(object.label): \(message); another field manager changed these fields. Rerun with --force-conflicts to take them over")
        }
        guard (200..<300).contains(response.status.code), let result = response.json else {
            throw failure(response, verb: "apply", resource: object.label)
        }
        return result
    }

    /// Deletes an object and, in the background, what it owns (a Job's pods): without a
    /// propagation policy the API server keeps a Job's pods, orphaned, forever. Gone already is fine.
    func delete(_ path: String, label: String) async throws {
        let response = try await send(.DELETE, path + "?propagationPolicy=Background")
        guard (200..<300).contains(response.status.code) || response.status == .notFound else {
            throw failure(response, verb: "delete", resource: label)
        }
    }

    /// Merges annotations into an object (a JSON merge patch touches nothing else).
    func annotate(_ path: String, _ annotations: [String: String], label: String) async throws {
        let body = try Self.encode(["metadata": ["annotations": annotations]])
        let response = try await send(.PATCH, path, body: ByteBuffer(bytes: body), contentType: "application/merge-patch+json")
        guard response.status == .ok else { throw failure(response, verb: "annotate", resource: label) }
    }

    /// The last lines a pod's container printed; when the log cannot be read (no kubelet answers,
    /// no right to read it), a line that says so: a missing log never fails a deploy.
    func logTail(namespace: String, pod: String, lines: Int = 15) async -> [String] {
        do {
            let response = try await send(.GET, "/api/v1/namespaces/\(namespace)/pods/\(pod)/log?tailLines=\(lines)")
            guard response.status == .ok else {
                let message = response.json?["message"] as? String ?? String(buffer: response.body).prefix(200).description
                return ["(the log of pod \(pod) cannot be read: \(response.status.code) \(message))"]
            }
            return String(buffer: response.body).split(separator: "\n").map(String.init)
        } catch {
            return ["(the log of pod \(pod) cannot be read: \(error))"]
        }
    }
}

/// Small readers for the JSON objects the API returns.
enum Field {
    static func value(_ object: [String: Any]?, _ keys: [String]) -> Any? {
        keys.reduce(object as Any?) { ($0 as? [String: Any])?[$1] }
    }

    static func map(_ object: [String: Any]?, _ keys: String...) -> [String: Any]? {
        value(object, keys) as? [String: Any]
    }

    static func string(_ object: [String: Any]?, _ keys: String...) -> String? {
        value(object, keys) as? String
    }

    static func int(_ object: [String: Any]?, _ keys: String...) -> Int? {
        value(object, keys) as? Int
    }

    static func conditions(_ object: [String: Any]?) -> [[String: Any]] {
        map(object, "status")?["conditions"] as? [[String: Any]] ?? []
    }

    static func owners(_ object: [String: Any]?) -> [[String: Any]] {
        map(object, "metadata")?["ownerReferences"] as? [[String: Any]] ?? []
    }
}
