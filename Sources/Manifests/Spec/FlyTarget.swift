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
    /// Regions besides the primary one; machines are spread over all of them, the primary first.
    public var regions: [String] = []
    /// The Machines API host (`http://127.0.0.1:4280` for a local server); FLY_API_HOSTNAME wins.
    public var apiHostname: String?
    /// Where clients reach the app; `verify` sends its load here (default `https://APP.fly.dev`).
    public var publicURL: String? = nil

    public var verifyAddress: String { publicURL ?? "https://\(app).fly.dev" }

    /// How many machines each region runs for `count` in all: spread evenly, the remainder to the
    /// regions listed first.
    public func machinesPerRegion(_ count: Int) -> [(region: String, count: Int)] {
        let all = [primaryRegion] + regions
        return all.enumerated().map { index, region in
            (region, count / all.count + (index < count % all.count ? 1 : 0))
        }
    }
}

extension FlyTarget: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> FlyTarget? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let app = map.required("app", as: String.self).flatMap { Names.checkDNSLabel($0, path: childPath(path, "app"), map: map) }
        let org = map.required("org", as: String.self)
        func regionCode(_ region: String, at key: String) -> String? {
            guard region.count == 3, region.allSatisfy({ $0.isASCII && $0.isLowercase }) else {
                context.error(
                    "`\(region)` is not a Fly region code", at: context.locations[key] ?? context.locations[childPath(path, "regions")],
                    path: key,
                    fix: "use a three-letter code as `fly platform regions` lists, such as iad or fra")
                return nil
            }
            return region
        }
        let region = map.required("primaryRegion", as: String.self).flatMap { regionCode($0, at: childPath(path, "primaryRegion")) }
        let extraRegions = map.optional("regions", as: [String].self) ?? []
        let checkedRegions = extraRegions.enumerated().map { index, extra in
            regionCode(extra, at: childPath(path, "regions") + "[\(index)]")
        }
        let apiHostname = map.optional("apiHostname", as: String.self)
        let publicURL = VerifySpec.publicURL(in: map)
        let vmSize = map.optional("vmSize", default: VMSize.sharedCPU1x)
        let memory = map.optional("memory", as: ByteSize.self)
        let autoStop = map.optional("autoStopMachines", default: AutoStop.off)
        let autoStart = map.optional("autoStartMachines", default: true)
        let concurrency = map.optional("concurrency", default: Concurrency(type: .requests, softLimit: 200, hardLimit: 250))
        map.finish()
        guard let app, let org, let region, !checkedRegions.contains(nil) else { return nil }
        if let duplicate = extraRegions.first(where: { $0 == region }) ?? extraRegions.firstDuplicate {
            context.error(
                "region \(duplicate) is listed twice", at: context.locations[childPath(path, "regions")], path: childPath(path, "regions"),
                fix: "list each region once; the primary region is always used")
            return nil
        }
        if let apiHostname, !(apiHostname.hasPrefix("https://") || apiHostname.hasPrefix("http://")) || apiHostname.hasSuffix("/v1") {
            context.error(
                "apiHostname `\(apiHostname)` is not a base URL", at: context.locations[childPath(path, "apiHostname")],
                path: childPath(path, "apiHostname"),
                fix: "write it as FLY_API_HOSTNAME takes it, such as https://api.machines.dev (without /v1)")
            return nil
        }
        if let memory, memory.bytes % (1 << 20) != 0 || memory.wholeMebibytes < 256 {
            context.error(
                "Fly machines take memory in whole megabytes, at least 256", at: context.locations[childPath(path, "memory")],
                path: childPath(path, "memory"), fix: "use a multiple of 256Mi, such as 512Mi or 1Gi")
            return nil
        }
        return FlyTarget(
            app: app, org: org, primaryRegion: region, vmSize: vmSize, memory: memory, autoStopMachines: autoStop,
            autoStartMachines: autoStart, concurrency: concurrency, regions: extraRegions, apiHostname: apiHostname,
            publicURL: publicURL)
    }
}

extension Array where Element: Hashable {
    fileprivate var firstDuplicate: Element? {
        var seen = Set<Element>()
        return first { !seen.insert($0).inserted }
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
