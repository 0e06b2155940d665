import Crypto
import Foundation

/// One environment (dev, staging, prod) after `extends` is merged: every setting a deploy needs.
public struct EnvironmentSpec: Sendable {
    /// The file name without `.yaml`: `prod` for `environments/prod.yaml`.
    public var name: String
    /// The files merged into it, the most basic first.
    public var files: [String]
    public var app: AppSpec
    public var database: DatabaseSpec
    public var redis: RedisSpec
    public var features: FeatureFlags
    public var cors: CORSSpec
    public var integrations: IntegrationsSpec
    public var secrets: [SecretSpec]
    public var scaling: ScalingSpec
    public var resources: ResourcesSpec
    public var health: HealthSpec
    public var deploy: DeploySpec
    public var targets: TargetsSpec
    public var slo: SLOSpec
    public var verify: VerifySpec
    public var backups: BackupSpec?
    /// `sha256:` of the merged spec in canonical form; changes whenever any setting does.
    public var specHash: String
    /// Where each key path was set, for messages about it.
    public var locations: [String: SourceLocation]

    public func secret(_ name: String) -> SecretSpec? {
        secrets.first { $0.name == name }
    }
}

extension EnvironmentSpec {
    static let topLevelKeys = [
        "extends", "app", "database", "redis", "features", "cors", "integrations", "secrets", "scaling", "resources",
        "health", "deploy", "targets", "slo", "verify", "backups",
    ]

    static func read(_ source: EnvironmentSource, log: DiagnosticLog) -> EnvironmentSpec? {
        let context = ReadContext(log: log)
        guard let map = MapReader(source.root, at: "", in: context) else { return nil }
        _ = map.entry("extends")
        let app = map.required("app", as: AppSpec.self)
        let database = map.required("database", as: DatabaseSpec.self)
        let redis = map.required("redis", as: RedisSpec.self)
        let features = map.optional("features", as: FeatureFlags.self)
        let cors = map.optional("cors", as: CORSSpec.self)
        let integrations = map.optional("integrations", as: IntegrationsSpec.self)
        let secrets = map.entry("secrets").map { SecretsReader.read($0.value, at: "secrets", in: context) } ?? []
        let scaling = map.required("scaling", as: ScalingSpec.self)
        let resources = map.required("resources", as: ResourcesSpec.self)
        let health = map.required("health", as: HealthSpec.self)
        let deploy = map.required("deploy", as: DeploySpec.self)
        let targets = map.optional("targets", as: TargetsSpec.self)
        let slo = map.required("slo", as: SLOSpec.self)
        let backups = map.optional("backups", as: BackupSpec.self)
        let livenessPath = health?.liveness?.path ?? health?.readiness?.path ?? "/healthz"
        let verifyEntry = map.entry("verify")
        let verify = verifyEntry.map { VerifySpec.read($0.value, at: "verify", in: context, livenessPath: livenessPath) }
        let optionalFailed = ["features", "cors", "integrations", "targets", "backups"].contains { key in
            guard map.keys.contains(key) else { return false }
            switch key {
            case "features": return features == nil
            case "cors": return cors == nil
            case "integrations": return integrations == nil
            case "targets": return targets == nil
            default: return backups == nil
            }
        }
        map.finish()
        guard let app, let database, let redis, let secrets, let scaling, let resources, let health, let deploy, let slo,
            !optionalFailed, verify != .some(nil)
        else { return nil }
        return EnvironmentSpec(
            name: source.name, files: source.files, app: app, database: database, redis: redis,
            features: features ?? FeatureFlags(queue: true, cache: true, rateLimiting: true, performanceMonitoring: false),
            cors: cors ?? CORSSpec(origins: []), integrations: integrations ?? IntegrationsSpec(shopifyAdminAPIEndpoint: nil),
            secrets: secrets, scaling: scaling, resources: resources, health: health, deploy: deploy,
            targets: targets ?? TargetsSpec(local: nil, fly: nil, kubernetes: nil, defaultTarget: nil), slo: slo,
            verify: (verify ?? nil) ?? VerifySpec.defaults(livenessPath: livenessPath), backups: backups,
            specHash: hash(of: source.root), locations: context.locations)
    }

    static func hash(of root: SpecNode) -> String {
        let digest = SHA256.hash(data: Array(root.canonicalText.utf8))
        return "sha256:" + digest.map { String(format: "%02x", $0) }.joined()
    }
}
