/// How many instances can run at once, counting those a deploy starts beside the old ones.
public struct DeployCapacity: Sendable, Equatable {
    public var peakInstances: Int
    /// Why the peak is what it is, in words for error messages.
    public var explanation: String

    public init(scaling: ScalingSpec, deploy: DeploySpec) {
        let max = scaling.replicas.max
        switch deploy.strategy {
        case .immediate:
            peakInstances = max
            explanation = "scaling.replicas.max \(max); an immediate deploy stops old instances first"
        case .rolling:
            let surge = deploy.maxSurge.resolved(forTotal: max, roundUp: true)
            peakInstances = max + surge
            explanation = "scaling.replicas.max \(max) + deploy.maxSurge \(surge) during a rolling deploy"
        case .canary:
            peakInstances = max + 1
            explanation = "scaling.replicas.max \(max) + 1 canary instance"
        case .bluegreen:
            peakInstances = max * 2
            explanation = "scaling.replicas.max \(max) twice: a bluegreen deploy runs both fleets until the switch"
        }
    }
}
