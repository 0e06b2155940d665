/// `targets.fly:` — the Fly.io app this environment deploys to.
public struct FlyTarget: Sendable, Equatable {
    public enum VMSize: String, SpecEnum, Sendable {
        case sharedCPU1x = "shared-cpu-1x"
        case sharedCPU2x = "shared-cpu-2x"
        case sharedCPU4x = "shared-cpu-4x"
        case sharedCPU8x = "shared-cpu-8x"
        case performance1x = "performance-1x"
        case performance2x = "performance-2x"
        case performance4x = "performance-4x"
        case performance8x = "performance-8x"
        case performance16x = "performance-16x"
    }

    public enum AutoStop: String, SpecEnum, Sendable {
        case off, stop, suspend
    }

    public enum ConcurrencyType: String, SpecEnum, Sendable {
        case connections, requests
    }

    public struct Concurrency: Sendable, Equatable {
        public var type: ConcurrencyType
        public var softLimit: Int
        public var hardLimit: Int
    }

    public var app: String
    public var org: String
    public var primaryRegion: String
    public var vmSize: VMSize
    /// Defaults to `resources.limits.memory`.
    public var memory: ByteSize?
    public var autoStopMachines: AutoStop
    public var autoStartMachines: Bool
    public var concurrency: Concurrency
}

extension FlyTarget: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> FlyTarget? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let app = map.required("app", as: String.self).flatMap { Names.checkDNSLabel($0, path: childPath(path, "app"), map: map) }
        let org = map.required("org", as: String.self)
        let region = map.required("primaryRegion", as: String.self).flatMap { region -> String? in
            guard region.count == 3, region.allSatisfy({ $0.isASCII && $0.isLowercase }) else {
                context.error(
                    "`\(region)` is not a Fly region code", at: context.locations[childPath(path, "primaryRegion")],
                    path: childPath(path, "primaryRegion"),
                    fix: "use a three-letter code as `fly platform regions` lists, such as iad or fra")
                return nil
            }
            return region
        }
        let vmSize = map.optional("vmSize", default: VMSize.sharedCPU1x)
        let memory = map.optional("memory", as: ByteSize.self)
        let autoStop = map.optional("autoStopMachines", default: AutoStop.off)
        let autoStart = map.optional("autoStartMachines", default: true)
        let concurrency = map.optional("concurrency", default: Concurrency(type: .requests, softLimit: 200, hardLimit: 250))
        map.finish()
        guard let app, let org, let region else { return nil }
        if let memory, memory.bytes % (1 << 20) != 0 || memory.wholeMebibytes < 256 {
            context.error(
                "Fly machines take memory in whole megabytes, at least 256", at: context.locations[childPath(path, "memory")],
                path: childPath(path, "memory"), fix: "use a multiple of 256Mi, such as 512Mi or 1Gi")
            return nil
        }
        return FlyTarget(
            app: app, org: org, primaryRegion: region, vmSize: vmSize, memory: memory, autoStopMachines: autoStop,
            autoStartMachines: autoStart, concurrency: concurrency)
    }
}

extension FlyTarget.Concurrency: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> Self? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let type = map.optional("type", default: FlyTarget.ConcurrencyType.requests)
        let soft = map.required("softLimit", in: 1...100_000)
        let hard = map.required("hardLimit", in: 1...100_000)
        map.finish()
        guard let soft, let hard else { return nil }
        guard soft <= hard else {
            context.error(
                "softLimit \(soft) is above hardLimit \(hard)", at: context.locations[childPath(path, "softLimit")],
                path: childPath(path, "softLimit"), fix: "make softLimit at most \(hard)")
            return nil
        }
        return Self(type: type, softLimit: soft, hardLimit: hard)
    }
}
