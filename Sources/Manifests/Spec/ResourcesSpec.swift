/// `resources:` — what one instance asks for and may use at most.
public struct ResourcesSpec: Sendable, Equatable {
    public struct Amount: Sendable, Equatable {
        public var cpu: CPUQuantity
        public var memory: ByteSize
    }

    public var requests: Amount
    public var limits: Amount
}

extension ResourcesSpec: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> ResourcesSpec? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let requests = map.required("requests", as: Amount.self)
        let limits = map.required("limits", as: Amount.self)
        map.finish()
        guard let requests, let limits else { return nil }
        return ResourcesSpec(requests: requests, limits: limits)
    }
}

extension ResourcesSpec.Amount: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> Self? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let cpu = map.required("cpu", as: CPUQuantity.self)
        let memory = map.required("memory", as: ByteSize.self)
        map.finish()
        guard let cpu, let memory else { return nil }
        if memory < ByteSize.mebibytes(16) {
            context.error(
                "\(memory) is too little memory for the service", at: context.locations[childPath(path, "memory")],
                path: childPath(path, "memory"), fix: "use at least 16Mi; 256Mi is typical")
            return nil
        }
        return Self(cpu: cpu, memory: memory)
    }
}
