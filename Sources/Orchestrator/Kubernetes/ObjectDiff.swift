import Foundation

/// Field-level differences between two Kubernetes objects as JSON values, ignoring what the server
/// owns (status, resourceVersion, managedFields…). List items with a `name` are matched by it, as
/// server-side apply does for containers, ports and env.
enum ObjectDiff {
    static let serverOwnedMetadata: Set<String> = [
        "managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink",
    ]

    static func normalized(_ object: [String: Any]) -> [String: Any] {
        var object = object
        object["status"] = nil
        if var metadata = object["metadata"] as? [String: Any] {
            for key in serverOwnedMetadata { metadata[key] = nil }
            if var annotations = metadata["annotations"] as? [String: Any] {
                annotations["deployment.kubernetes.io/revision"] = nil
                metadata["annotations"] = annotations.isEmpty ? nil : annotations
            }
            object["metadata"] = metadata
        }
        return object
    }

    /// `(path, before, after)` for every leaf that differs; a Secret's `data` and `stringData`
    /// are masked (a ConfigMap's are not: the spec, which holds no secret, is all they come from).
    static func changes(from old: Any?, to new: Any?, path: String = "", sensitive: Bool = false) -> [FieldChange] {
        switch (old, new) {
        case (let old as [String: Any], let new as [String: Any]):
            let isSecret = path.isEmpty && (old["kind"] as? String == "Secret" || new["kind"] as? String == "Secret")
            return Set(old.keys).union(new.keys).sorted().flatMap { key in
                changes(
                    from: old[key], to: new[key], path: path.isEmpty ? key : "\(path).\(key)",
                    sensitive: sensitive || (isSecret && (key == "data" || key == "stringData")))
            }
        case (let old as [Any], let new as [Any]) where keyedByName(old) && keyedByName(new):
            let oldByName = Dictionary(old.compactMap { ($0 as? [String: Any]).map { ($0["name"] as? String ?? "", $0) } }) { a, _ in a }
            let newByName = Dictionary(new.compactMap { ($0 as? [String: Any]).map { ($0["name"] as? String ?? "", $0) } }) { a, _ in a }
            return Set(oldByName.keys).union(newByName.keys).sorted().flatMap { name in
                changes(from: oldByName[name], to: newByName[name], path: "\(path)[name=\(name)]", sensitive: sensitive)
            }
        default:
            let before = old.map(render)
            let after = new.map(render)
            guard before != after else { return [] }
            if sensitive { return [.sensitive(path, before: before != nil, after: after != nil)] }
            return [FieldChange(field: path, before: before, after: after, sensitive: false)]
        }
    }

    private static func keyedByName(_ items: [Any]) -> Bool {
        !items.isEmpty && items.allSatisfy { ($0 as? [String: Any])?["name"] is String }
    }

    /// A leaf (or a whole list without names) as compact JSON text.
    static func render(_ value: Any) -> String {
        if let text = value as? String { return text }
        if value is NSNull { return "null" }
        if let number = value as? NSNumber {
            // JSON booleans arrive as NSNumbers of type char ("c").
            return String(cString: number.objCType) == "c" ? (number.boolValue ? "true" : "false") : number.stringValue
        }
        guard JSONSerialization.isValidJSONObject(value),
            let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return "\(value)" }
        return String(decoding: data, as: UTF8.self)
    }
}
