import Foundation
import Manifests
import Yams

/// One rendered Kubernetes object, as JSON for the API.
struct DesiredObject: @unchecked Sendable {
    var kind: ResourceKind
    var name: String
    var namespace: String?
    /// JSONSerialization-compatible dictionary.
    var body: [String: Any]

    var path: String { kind.path(name: name, namespace: namespace) }
    var label: String { "\(kind.kind)/\(name)" }

    /// JSON that is also YAML, as server-side apply (`application/apply-patch+yaml`) reads it.
    func json() throws -> Data {
        try KubernetesClient.encode(body)
    }
}

enum DesiredObjects {
    /// The environment's objects in apply order, with the image to deploy.
    static func render(_ spec: EnvironmentSpec, target: KubernetesTarget, image: String, templates: TemplateSet) throws -> [DesiredObject] {
        let files: [RenderedFile]
        do {
            files = try Renderer.kubernetesObjects(spec, target: target, image: image, templates: templates)
        } catch {
            throw KubernetesError.configuration(error.diagnostics.map(\.description).joined(separator: "\n"))
        }
        return try files.map { file in
            guard let body = try Yams.load(yaml: file.contents) as? [String: Any], let apiVersion = body["apiVersion"] as? String,
                let kindName = body["kind"] as? String, let metadata = body["metadata"] as? [String: Any],
                let name = metadata["name"] as? String
            else { throw KubernetesError.configuration("\(file.path) did not render to a Kubernetes object") }
            guard let kind = ResourceKind.of(apiVersion: apiVersion, kind: kindName) else {
                throw KubernetesError.configuration("\(file.path): \(apiVersion) \(kindName) is not a kind orchestrate applies")
            }
            return DesiredObject(kind: kind, name: name, namespace: metadata["namespace"] as? String, body: jsonCompatible(body))
        }
    }

    /// Yams gives Int, Double, Bool and String leaves; JSONSerialization takes them as they are,
    /// but nested collections must be plain arrays and dictionaries.
    static func jsonCompatible(_ value: Any) -> [String: Any] {
        (convert(value) as? [String: Any]) ?? [:]
    }

    private static func convert(_ value: Any) -> Any {
        switch value {
        case let map as [String: Any]: return map.mapValues(convert)
        case let map as [AnyHashable: Any]:
            return Dictionary(map.map { ("\($0.key)", convert($0.value)) }) { first, _ in first }
        case let list as [Any]: return list.map(convert)
        default: return value
        }
    }
}
