import Foundation

/// The official OpenAPI v3 documents in shared/reference/kubernetes, to hold the fake API server
/// to the real API's paths and object shapes.
struct OpenAPIShapes {
    private(set) var paths: [String: Set<String>] = [:]
    private(set) var schemas: [String: [String: Any]] = [:]

    static let folder: String = {
        let candidates = [
            CommandRunner.repositoryRoot + "/../shared/reference/kubernetes",
            CommandRunner.repositoryRoot + "/shared/reference/kubernetes",
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0) } ?? candidates[0]
    }()

    init() throws {
        for file in try FileManager.default.contentsOfDirectory(atPath: Self.folder) where file.hasSuffix("_openapi.json") {
            let data = try Data(contentsOf: URL(fileURLWithPath: Self.folder + "/" + file))
            guard let document = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { continue }
            for (path, item) in document["paths"] as? [String: [String: Any]] ?? [:] {
                paths[path, default: []].formUnion(item.keys)
            }
            let components = (document["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]] ?? [:]
            schemas.merge(components) { first, _ in first }
        }
    }

    /// Keys of `value` the schema does not define, with their paths.
    func unknownFields(in value: Any, schema name: String) -> [String] {
        var problems: [String] = []
        check(value, schema: schemas[name] ?? [:], path: name.split(separator: ".").last.map(String.init) ?? name, problems: &problems)
        return problems
    }

    private func resolve(_ schema: [String: Any]) -> [String: Any] {
        if let reference = schema["$ref"] as? String {
            return resolve(schemas[String(reference.split(separator: "/").last ?? "")] ?? [:])
        }
        if let all = schema["allOf"] as? [[String: Any]], all.count == 1, let only = all.first { return resolve(only) }
        return schema
    }

    private func check(_ value: Any, schema raw: [String: Any], path: String, problems: inout [String]) {
        let schema = resolve(raw)
        if let properties = schema["properties"] as? [String: [String: Any]], let object = value as? [String: Any] {
            for (key, child) in object {
                guard let childSchema = properties[key] else {
                    problems.append("\(path).\(key)")
                    continue
                }
                check(child, schema: childSchema, path: "\(path).\(key)", problems: &problems)
            }
        } else if let items = schema["items"] as? [String: Any], let array = value as? [Any] {
            for (index, item) in array.enumerated() { check(item, schema: items, path: "\(path)[\(index)]", problems: &problems) }
        } else if let additional = schema["additionalProperties"] as? [String: Any], let object = value as? [String: Any] {
            for (key, child) in object { check(child, schema: additional, path: "\(path).\(key)", problems: &problems) }
        }
    }
}
