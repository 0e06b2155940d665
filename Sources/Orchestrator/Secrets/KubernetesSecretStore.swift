import Foundation
import NIOCore

/// The environment's named Secret (`targets.kubernetes.secretName`), changed key by key with a
/// JSON merge patch so that keys set by others stay.
struct KubernetesSecretStore: SecretStore {
    let client: KubernetesClient
    let namespace: String
    let name: String

    private var path: String { "/api/v1/namespaces/\(namespace)/secrets/\(name)" }

    func list() async throws -> [SecretEntry] {
        let answer = try await client.send(.GET, path)
        if answer.status == .notFound { return [] }
        guard answer.status == .ok else { throw client.failure(answer, verb: "get", resource: "Secret \(name)") }
        let data = answer.json?["data"] as? [String: String] ?? [:]
        return data.sorted { $0.key < $1.key }.map { key, encoded in
            let value = Data(base64Encoded: encoded).map { String(decoding: $0, as: UTF8.self) } ?? encoded
            return SecretEntry(name: key, digest: SecretDigest.short(value))
        }
    }

    func set(_ values: [String: String]) async throws -> String? {
        let data = values.mapValues { Data($0.utf8).base64EncodedString() }
        try await patch(data)
        return "pods get the new values when they next start (the next apply restarts them)"
    }

    func unset(_ names: [String]) async throws {
        try await patch(Dictionary(names.map { ($0, NSNull() as Any) }, uniquingKeysWith: { $1 }))
    }

    private func patch(_ data: [String: Any]) async throws {
        let body = try JSONSerialization.data(withJSONObject: ["data": data])
        let answer = try await client.send(.PATCH, path, body: ByteBuffer(bytes: body), contentType: "application/merge-patch+json")
        if answer.status == .notFound {
            let object: [String: Any] = [
                "apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": ["name": name, "namespace": namespace],
                "data": data.filter { !($0.value is NSNull) },
            ]
            let created = try await client.send(
                .POST, "/api/v1/namespaces/\(namespace)/secrets",
                body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object)),
                contentType: "application/json")
            guard created.status == .created else { throw client.failure(created, verb: "create", resource: "Secret \(name)") }
            return
        }
        guard answer.status == .ok else { throw client.failure(answer, verb: "patch", resource: "Secret \(name)") }
    }
}
