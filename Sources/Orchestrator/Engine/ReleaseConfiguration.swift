import Manifests

/// The thing a release runs: a build, identified by digest, with the settings it runs under.
struct Artifact: Codable, Equatable, Sendable {
    /// `sha256:…` of the binary, or of the image manifest.
    var digest: String
    /// Where it comes from: a file path, or `repository@sha256:…`.
    var reference: String
}

/// Everything that shapes the running instances of one release. Rolling back restores all of it,
/// not only the build.
struct ReleaseConfiguration: Codable, Equatable, Sendable {
    var artifact: Artifact
    var specHash: String
    /// The non-secret environment of the service (`ServiceEnvironment`).
    var variables: [String: String]
    var secretNames: [String]
    /// A keyed digest of the secret values, so changing a value is a change without showing it.
    var secretsDigest: String
    /// The same per secret, where the platform can say (Fly's digests, local HMACs): lets a plan
    /// name the secrets whose values changed.
    var secretDigests: [String: String]?
    var replicas: Int
    var strategy: DeploySpec.Strategy
    var maxUnavailable: Int
    var maxSurge: Int
    var livenessPath: String
    /// How a platform restarts an instance that stops answering (nil in releases recorded before
    /// it was kept, which are not probed).
    var liveness: LivenessCheck?
    var detailedPath: String
    var healthTimeoutSeconds: Int
    var releaseCommand: [String]?
    var releaseCommandTimeoutSeconds: Int
    /// Fly only: guest, services, checks, regions and secrets version of the release's machines.
    var fly: FlyMachineSettings?

    init(spec: EnvironmentSpec, artifact: Artifact, secretsDigest: String) {
        let replicas = spec.scaling.replicas.min
        self.artifact = artifact
        specHash = spec.specHash
        variables = Dictionary(ServiceEnvironment.variables(for: spec).map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
        // What /healthz/detailed and error reports name as the running build.
        variables["BUILD_VERSION"] = Self.buildVersion(of: artifact.digest)
        secretNames = spec.secrets.map(\.name).sorted()
        self.secretsDigest = secretsDigest
        self.replicas = replicas
        strategy = spec.deploy.strategy
        maxUnavailable = spec.deploy.maxUnavailable.resolved(forTotal: replicas, roundUp: false)
        maxSurge = spec.deploy.maxSurge.resolved(forTotal: replicas, roundUp: true)
        livenessPath = spec.health.liveness?.path ?? spec.health.readiness?.path ?? "/healthz"
        liveness = spec.health.liveness.map {
            LivenessCheck(
                path: $0.path, initialDelaySeconds: Int($0.initialDelay.seconds), periodSeconds: Int($0.period.seconds),
                timeoutSeconds: Int($0.timeout.seconds), failureThreshold: $0.failureThreshold)
        }
        detailedPath = spec.health.detailedPath
        healthTimeoutSeconds = Int(spec.deploy.healthTimeout.seconds)
        releaseCommand = spec.deploy.releaseCommand
        releaseCommandTimeoutSeconds = Int(spec.deploy.releaseCommandTimeout.seconds)
    }
}

extension ReleaseConfiguration {
    /// `sha256:0123456789ab`: the build's digest, short enough for a log line, long enough to find it.
    static func buildVersion(of digest: String) -> String {
        String(digest.prefix("sha256:".count + 12))
    }
}

extension DeploySpec.Strategy: Codable {}

/// The spec's liveness probe, as the kubelet runs it: after the initial delay, every period, a
/// GET with a timeout; so many failures in a row and the instance is restarted.
struct LivenessCheck: Codable, Equatable, Sendable {
    var path: String
    var initialDelaySeconds: Int
    var periodSeconds: Int
    var timeoutSeconds: Int
    var failureThreshold: Int
}
