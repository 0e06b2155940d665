/// `scaling:` — how many instances run and when the autoscaler adds more.
public struct ScalingSpec: Sendable, Equatable {
    public struct Replicas: Sendable, Equatable {
        public var min: Int
        public var max: Int
    }

    public struct Autoscaling: Sendable, Equatable {
        public var targetCPU: Percentage
        public var targetMemory: Percentage?
    }

    public var replicas: Replicas
    public var autoscaling: Autoscaling?

    /// Autoscaling only means something when there is room between min and max.
    public var scales: Bool { replicas.max > replicas.min && autoscaling != nil }
}

extension ScalingSpec: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> ScalingSpec? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let replicas = map.required("replicas", as: Replicas.self)
        let autoscaling = map.optional("autoscaling", as: Autoscaling.self)
        let autoscalingFailed = map.keys.contains("autoscaling") && autoscaling == nil
        map.finish()
        guard let replicas, !autoscalingFailed else { return nil }
        return ScalingSpec(replicas: replicas, autoscaling: autoscaling)
    }
}

extension ScalingSpec.Replicas: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> Self? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let min = map.required("min", in: 0...1_000)
        let max = map.required("max", in: 1...1_000)
        map.finish()
        guard let min, let max else { return nil }
        return Self(min: min, max: max)
    }
}

extension ScalingSpec.Autoscaling: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> Self? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let cpu = map.required("targetCPU", in: Percentage(1)...Percentage(100))
        let memory = map.entry("targetMemory").flatMap {
            Percentage.read($0.value, at: childPath(path, "targetMemory"), in: context)
        }
        map.finish()
        guard let cpu else { return nil }
        if let memory, !(Percentage(1)...Percentage(100)).contains(memory) {
            context.error(
                "\(memory) is out of range", at: context.locations[childPath(path, "targetMemory")],
                path: childPath(path, "targetMemory"), fix: "use a utilization between 1% and 100%")
            return nil
        }
        return Self(targetCPU: cpu, targetMemory: memory)
    }
}
