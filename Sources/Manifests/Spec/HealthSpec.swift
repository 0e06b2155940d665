/// `health:` — the endpoints platforms probe and the timing of the probes.
public struct HealthSpec: Sendable, Equatable {
    public struct Probe: Sendable, Equatable {
        public var path: String
        public var initialDelay: SpecDuration
        public var period: SpecDuration
        public var timeout: SpecDuration
        public var failureThreshold: Int
    }

    public var liveness: Probe?
    /// Gates traffic and rollouts; canary and bluegreen deploys need it.
    public var readiness: Probe?
    public var detailedPath: String
    public var metricsPath: String
    /// A second listener that alone serves `metricsPath`, so the scrape need not be public: on
    /// Fly the `[metrics]` scrape reaches it over the private network while only the service
    /// port is exposed; on Kubernetes it is a container port the Service does not route.
    public var metricsPort: Int?
}

extension HealthSpec: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> HealthSpec? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let liveness = map.optional("liveness", as: Probe.self)
        let readiness = map.optional("readiness", as: Probe.self)
        let probesFailed = (map.keys.contains("liveness") && liveness == nil) || (map.keys.contains("readiness") && readiness == nil)
        let detailed = map.optional("detailedPath", as: String.self).flatMap {
            checkPath($0, at: childPath(path, "detailedPath"), in: context)
        }
        let metrics = map.optional("metricsPath", as: String.self).flatMap {
            checkPath($0, at: childPath(path, "metricsPath"), in: context)
        }
        let metricsPort: Int? = map.optional("metricsPort", in: 1...65535)
        let detailedFailed = map.keys.contains("detailedPath") && detailed == nil
        let metricsFailed = map.keys.contains("metricsPath") && metrics == nil
        let metricsPortFailed = map.keys.contains("metricsPort") && metricsPort == nil
        map.finish()
        guard !probesFailed, !detailedFailed, !metricsFailed, !metricsPortFailed else { return nil }
        return HealthSpec(
            liveness: liveness, readiness: readiness,
            detailedPath: detailed ?? "/healthz/detailed", metricsPath: metrics ?? "/metrics", metricsPort: metricsPort)
    }

    static func checkPath(_ text: String, at path: String, in context: ReadContext) -> String? {
        guard text.hasPrefix("/"), !text.contains(" ") else {
            context.error(
                "`\(text)` is not an HTTP path", at: context.locations[path], path: path,
                fix: "start it with '/', such as /\(text.drop { $0 == "/" })")
            return nil
        }
        return text
    }
}

extension HealthSpec.Probe: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> Self? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let probePath = map.required("path", as: String.self).flatMap { HealthSpec.checkPath($0, at: childPath(path, "path"), in: context) }
        let initialDelay = map.optional("initialDelay", default: SpecDuration.seconds(0))
        let period = map.optional("period", default: SpecDuration.seconds(10), in: .seconds(1)...SpecDuration.seconds(3600))
        let timeout = map.optional("timeout", default: SpecDuration.seconds(2), in: .seconds(1)...SpecDuration.seconds(3600))
        let failureThreshold = map.optional("failureThreshold", default: 3, in: 1...100)
        map.finish()
        guard let probePath else { return nil }
        if timeout > period {
            context.error(
                "the probe timeout (\(timeout)) is longer than its period (\(period))", at: context.locations[childPath(path, "timeout")],
                path: childPath(path, "timeout"), fix: "make `timeout` at most \(period)")
            return nil
        }
        return Self(path: probePath, initialDelay: initialDelay, period: period, timeout: timeout, failureThreshold: failureThreshold)
    }
}
