import Foundation
import Testing

@testable import Manifests

/// A complete, valid spec that bad-input tests extend and break one setting at a time.
enum SpecFixtures {
    static let base = """
        app:
          name: pet-backend
          runtime: staging
          port: 3001
          logLevel: info
          image: registry.example.com/pet-backend
        database:
          pool: { min: 2, max: 10 }
          server: { cpus: 2, memory: 4Gi, maxConnections: 100, reservedConnections: 10 }
        redis:
          ttl: 3600s
          keyPrefix: "pet:"
          maxMemory: 256mb
          evictionPolicy: volatile-lru
        secrets:
          DATABASE_URL: { format: url }
          REDIS_URL: { format: url }
          CLERK_SECRET_KEY: { prefix: sk_test_ }
        scaling:
          replicas: { min: 2, max: 4 }
          autoscaling: { targetCPU: 70% }
        resources:
          requests: { cpu: 250m, memory: 256Mi }
          limits: { cpu: 500m, memory: 512Mi }
        health:
          liveness: { path: /healthz, initialDelay: 30s, period: 10s }
          readiness: { path: /healthz, initialDelay: 5s, period: 5s }
        deploy:
          strategy: rolling
          maxUnavailable: 1
          maxSurge: 1
          releaseCommand: pet-backend migrate
        slo: { p95Latency: 200ms, p99Latency: 500ms, errorRate: 1% }

        """

    /// Loads `env/test.yaml` (which usually says `extends: base`) next to the fixture base.
    static func load(_ environment: String, base: String = SpecFixtures.base) -> Result<EnvironmentSpec, SpecErrors> {
        SpecLoader.load(path: "env/test.yaml", using: InMemoryFiles(["env/base.yaml": base, "env/test.yaml": environment]))
    }

    static func errors(_ environment: String, base: String = SpecFixtures.base, sourceLocation: Testing.SourceLocation = #_sourceLocation)
        -> [Diagnostic]
    {
        switch load(environment, base: base) {
        case .success:
            Issue.record("expected the spec to be rejected", sourceLocation: sourceLocation)
            return []
        case .failure(let failure):
            return failure.diagnostics
        }
    }

    static func spec(_ environment: String, base: String = SpecFixtures.base, sourceLocation: Testing.SourceLocation = #_sourceLocation)
        -> EnvironmentSpec?
    {
        switch load(environment, base: base) {
        case .success(let spec): return spec
        case .failure(let failure):
            Issue.record("expected a valid spec, got:\n\(failure)", sourceLocation: sourceLocation)
            return nil
        }
    }

    /// The repository root, found from this file's path, for tests that use the shipped files.
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static var shippedTemplates: TemplateSet {
        TemplateSet(directory: repositoryRoot + "/templates", files: DiskFiles())
    }
}

extension Manifests.SourceLocation {
    static func at(_ file: String, _ line: Int, _ column: Int) -> Manifests.SourceLocation {
        Manifests.SourceLocation(file: file, line: line, column: column)
    }
}
