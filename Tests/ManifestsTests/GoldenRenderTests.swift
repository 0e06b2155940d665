import Foundation
import Testing

@testable import Manifests

/// One scenario per test, kustomize style: the inputs are written here, the expected output is
/// kept beside the test in Golden/<scenario>/.
@Suite struct GoldenRenderTests {
    private func render(
        _ environments: [String: String], environment: String = "test", templates: [String: String] = [:],
        options: RenderOptions = RenderOptions(
            image: "registry.example.com/pet-backend@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
    ) throws -> [RenderedFile] {
        let files = try GoldenFiles.files(environments: environments, templateOverrides: templates)
        let spec = try SpecLoader.load(path: "environments/\(environment).yaml", using: files).get()
        return try Renderer.render(spec, options: options, templates: TemplateSet(directory: "templates", files: files))
    }

    /// A single-instance Kubernetes environment: no HPA (nothing to scale), no PDB (one pod),
    /// a Recreate rollout for `immediate`, and no backup CronJob.
    @Test func singleInstanceKubernetes() throws {
        let files = try render([
            "test.yaml": """
            app: { name: shop-api, runtime: development, port: 8080, logLevel: debug, image: registry.example.com/shop-api }
            database:
              pool: { min: 1, max: 5 }
              server: { cpus: 1, memory: 1Gi, maxConnections: 50 }
            redis: { ttl: 10m, keyPrefix: "shop:", maxMemory: 64mb, evictionPolicy: volatile-lru }
            features: { queue: false }
            secrets:
              DATABASE_URL: { format: url }
              REDIS_URL: { format: url }
              API_TOKEN: { required: false, minLength: 20 }
            scaling: { replicas: { min: 1, max: 1 } }
            resources:
              requests: { cpu: 100m, memory: 128Mi }
              limits: { cpu: "1", memory: 256Mi }
            health:
              readiness: { path: /ready, initialDelay: 2s, period: 5s, timeout: 1s }
            deploy: { strategy: immediate }
            slo: { p95Latency: 100ms, p99Latency: 300ms, errorRate: 0.5% }
            targets:
              kubernetes: { namespace: shop-dev, secretName: shop-secrets }

            """
        ])
        try GoldenFiles.check(files, scenario: "single-instance-kubernetes")
    }

    /// A Fly-only environment with a percentage for max_unavailable (a fraction in fly.toml) and
    /// a release command with quoted words.
    @Test func flyWithFractionalUnavailable() throws {
        let files = try render([
            "base.yaml": SpecFixtures.base,
            "test.yaml": """
            extends: base
            scaling: { replicas: { min: 4, max: 8 } }
            deploy:
              maxUnavailable: 25%
              releaseCommand: pet-backend migrate --note "release day"
            database: { server: { maxConnections: 120 } }
            targets:
              fly: { app: shop-staging, org: acme, primaryRegion: fra, vmSize: performance-1x, memory: 2Gi }

            """,
        ])
        try GoldenFiles.check(files, scenario: "fly-fractional-unavailable")
    }

    /// A team's own template: a toleration, an extra sidecar and a changed history limit survive
    /// the merge, and the backend container keeps the template's extra fields.
    @Test func customizedDeploymentTemplate() throws {
        let deployment = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: pet-backend
              annotations:
                team: payments
            spec:
              revisionHistoryLimit: 3
              template:
                spec:
                  tolerations:
                    - key: dedicated
                      operator: Equal
                      value: api
                      effect: NoSchedule
                  containers:
                    - name: backend
                      image: placeholder
                      lifecycle:
                        preStop:
                          exec:
                            command: ["sleep", "5"]
                    - name: log-shipper
                      image: fluent/fluent-bit:3.0

            """
        let all = try render(
            [
                "base.yaml": SpecFixtures.base,
                "test.yaml": "extends: base\ntargets:\n  kubernetes: { namespace: payments, secretName: api-secrets }\n",
            ],
            templates: ["kubernetes/deployment.yaml": deployment])
        try GoldenFiles.check(all.filter { $0.path == "kubernetes/03-deployment.yaml" }, scenario: "customized-deployment-template")
    }

    /// The shipped prod spec, every target: all eight Kubernetes kinds (HPA, PDB, migration Job
    /// and backup CronJob included), fly.toml, redis.conf and both PostgreSQL tunings.
    @Test func shippedProdRendersEveryKind() throws {
        let root = SpecFixtures.repositoryRoot + "/environments/"
        let all = try render(
            [
                "base.yaml": try String(contentsOfFile: root + "base.yaml", encoding: .utf8),
                "prod.yaml": try String(contentsOfFile: root + "prod.yaml", encoding: .utf8),
            ], environment: "prod")
        #expect(all.filter { $0.path.hasPrefix("kubernetes/") }.count == Renderer.kubernetesFiles.count)
        #expect(all.contains { $0.path == "postgres/replica.sql" })
        try GoldenFiles.check(all, scenario: "prod")
    }

    /// The ConfigMap is immutable and named by its content, so an entry a team adds in the
    /// template must change the name too (else the apply of new content would be refused).
    @Test func aConfigMapEntryFromTheTemplateChangesTheConfigMapsName() throws {
        let environments = [
            "base.yaml": SpecFixtures.base,
            "test.yaml": "extends: base\ntargets:\n  kubernetes: { namespace: payments, secretName: api-secrets }\n",
        ]
        func configMapName(_ templates: [String: String]) throws -> (configMap: String, deployment: String) {
            let files = try render(environments, templates: templates)
            let configMap = try #require(files.first { $0.path == "kubernetes/01-configmap.yaml" }).contents
            let deployment = try #require(files.first { $0.path == "kubernetes/03-deployment.yaml" }).contents
            let name = try #require(configMap.split(separator: "\n").first { $0.hasPrefix("  name: ") }).dropFirst(8)
            return (String(name), deployment)
        }
        let plain = try configMapName([:])
        let extended = try configMapName([
            "kubernetes/configmap.yaml":
                "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\ndata: { TRUSTED_CLIENT_IP_HEADER: X-Forwarded-For }\n"
        ])
        #expect(plain.configMap != extended.configMap)
        #expect(extended.deployment.contains("name: \(extended.configMap)"))
    }

    /// With an ingress in front, the ConfigMap tells the service which header carries the
    /// client's address and through how many proxies; without one it names none.
    @Test func anIngressHeaderReachesTheConfigMap() throws {
        func data(_ kubernetes: String) throws -> String {
            let files = try render([
                "base.yaml": SpecFixtures.base, "test.yaml": "extends: base\ntargets:\n  kubernetes: \(kubernetes)\n",
            ])
            return try #require(files.first { $0.path == "kubernetes/01-configmap.yaml" }).contents
        }
        let behind = try data("{ namespace: shop, secretName: s, clientAddressHeader: X-Forwarded-For, proxyHops: 2 }")
        #expect(behind.contains("TRUSTED_CLIENT_IP_HEADER: X-Forwarded-For") && behind.contains("TRUSTED_PROXY_HOPS: \"2\""), "\(behind)")
        #expect(!(try data("{ namespace: shop, secretName: s }")).contains("TRUSTED_CLIENT_IP_HEADER"))
        let bad = SpecFixtures.errors(
            "extends: base\ntargets:\n  kubernetes: { namespace: shop, secretName: s, clientAddressHeader: \"X Forwarded\", proxyHops: 0 }\n"
        )
        #expect(bad.map(\.path).sorted() == ["targets.kubernetes.clientAddressHeader", "targets.kubernetes.proxyHops"], "\(bad)")
    }
}
