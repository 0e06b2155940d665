/// Renders `redis.conf` from `templates/redis.conf`: the spec's directives replace the template's
/// lines of the same name in place, and the others are appended; comments stay.
enum RedisConfigRenderer {
    static func render(_ spec: EnvironmentSpec, template: String) -> String {
        let directives: [(String, String)] = [
            ("maxmemory", spec.redis.maxMemory.text),
            ("maxmemory-policy", spec.redis.evictionPolicy.rawValue),
            ("appendonly", spec.redis.appendOnly ? "yes" : "no"),
        ]
        var lines = template.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        var pending = directives
        for (index, line) in lines.enumerated() {
            let name = line.trimmingWhitespace.split(separator: " ", maxSplits: 1).first.map { $0.lowercased() } ?? ""
            guard !name.hasPrefix("#"), let position = pending.firstIndex(where: { $0.0 == name }) else { continue }
            lines[index] = "\(pending[position].0) \(pending[position].1)"
            pending.remove(at: position)
        }
        if !pending.isEmpty {
            lines.append("# set by orchestrate from environments/\(spec.name).yaml")
            lines += pending.map { "\($0.0) \($0.1)" }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
