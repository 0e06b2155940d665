import Foundation
import Testing

@testable import Manifests

/// The environments and templates in the repository: valid, rendered, and accepted by the real
/// validators (kubernetes-validate for Kubernetes 1.32, check-jsonschema with Fly's schema).
@Suite struct ShippedEnvironmentTests {
    static let environments = ["dev", "staging", "prod"]
    /// A copy of SchemaStore's fly.toml schema (shared/reference/fly), kept so a clone is self-contained.
    static let flySchema = SpecFixtures.repositoryRoot + "/docs/reference/fly-toml.schema.json"

    private func load(_ name: String) throws -> EnvironmentSpec {
        try SpecLoader.load(path: "\(SpecFixtures.repositoryRoot)/environments/\(name).yaml").get()
    }

    private func render(_ name: String, image: String? = nil) throws -> [RenderedFile] {
        try Renderer.render(try load(name), options: RenderOptions(image: image), templates: SpecFixtures.shippedTemplates)
    }

    @Test(arguments: ["base", "dev", "staging", "prod"])
    func shippedSpecIsValid(name: String) throws {
        _ = try load(name)
    }

    @Test func shippedValuesMatchTheRunbook() throws {
        let dev = try load("dev")
        let staging = try load("staging")
        let prod = try load("prod")
        #expect(dev.database.pool.max == 10 && staging.database.pool.max == 20)
        #expect(dev.features.queue == false && prod.features.queue)
        #expect(prod.redis.maxMemory.text == "2gb" && staging.redis.maxMemory.text == "256mb" && prod.redis.appendOnly)
        #expect(prod.database.readReplica?.poolMax == 30)
        #expect(prod.scaling.replicas == .init(min: 2, max: 10) && prod.scaling.autoscaling?.targetCPU == Percentage(70))
        #expect(prod.targets.fly?.app == "pet-backend-prod" && staging.targets.fly?.app == "pet-backend-staging")
        #expect(prod.cors.origins == ["https://harnesshe.ro", "https://www.harnesshe.ro"])
        #expect(prod.secret("CLERK_SECRET_KEY")?.prefix == "sk_live_" && staging.secret("CLERK_SECRET_KEY")?.prefix == "sk_test_")
        #expect(prod.secret("ENCRYPTION_KEY")?.length == 32)
        let tuning = Dictionary(uniqueKeysWithValues: PostgresTuning.settings(for: prod.database.server).map { ($0.name, $0.value) })
        #expect(tuning["shared_buffers"] == "2GB" && tuning["effective_cache_size"] == "6GB" && tuning["maintenance_work_mem"] == "512MB")
        #expect(tuning["max_connections"] == "200" && tuning["wal_buffers"] == "16MB" && tuning["checkpoint_completion_target"] == "0.9")
    }

    @Test(arguments: environments)
    func renderingIsDeterministic(name: String) throws {
        #expect(try render(name) == render(name))
    }

    /// Secrets reach the service only by reference: never as a literal value in any env list,
    /// and never in Fly's [env] or the ConfigMap.
    @Test(arguments: environments)
    func secretsAppearOnlyByReference(name: String) throws {
        let spec = try load(name)
        let secretNames = Set(spec.secrets.map(\.name))
        for file in try render(name) {
            if file.path.hasSuffix(".yaml") {
                let object = try YAMLDocument.parse(file.contents, file: file.path)
                for entry in Self.envEntries(in: object) {
                    guard case .string(let variable) = entry["name"], secretNames.contains(variable) else { continue }
                    #expect(entry["value"] == nil, "\(file.path) sets \(variable) to a literal")
                    #expect(entry[path: "valueFrom", "secretKeyRef", "key"] == .string(variable))
                }
                if object["kind"] == "ConfigMap", case .map(let data) = object["data"] ?? .map([]) {
                    #expect(Set(data.map(\.key)).isDisjoint(with: secretNames))
                }
            }
            if file.path == "fly.toml" {
                let config = try TOMLReader.parse(file.contents, file: file.path)
                guard case .map(let env) = config["env"] ?? .map([]) else { continue }
                #expect(Set(env.map(\.key)).isDisjoint(with: secretNames))
            }
        }
    }

    private static func envEntries(in value: ManifestValue) -> [ManifestValue] {
        switch value {
        case .map(let fields):
            var found: [ManifestValue] = []
            for field in fields {
                if field.key == "env", case .list(let entries) = field.value { found += entries }
                found += envEntries(in: field.value)
            }
            return found
        case .list(let items): return items.flatMap(envEntries)
        default: return []
        }
    }

    @Test func everyRenderedKubernetesObjectValidatesFor132() throws {
        let folder = try TemporaryFolder()
        var paths: [String] = []
        for name in Self.environments {
            let files = try render(name, image: "registry.example.com/pet-backend@sha256:" + String(repeating: "ab", count: 32))
            try folder.write(files.map { ("\(name)/\($0.path)", $0.contents) })
            paths += files.filter { $0.path.hasPrefix("kubernetes/") }.map { "\(folder.path)/\(name)/\($0.path)" }
        }
        #expect(paths.count >= 18)
        let outcome = try ExternalTool(name: "kubernetes-validate").run(["--strict", "-k", "1.32"] + paths)
        #expect(outcome.status == 0, "kubernetes-validate said:\n\(outcome.output)")
        #expect(outcome.output.components(separatedBy: "passed for resource").count - 1 == paths.count)
    }

    /// The validator is really checking: an unknown field in a Deployment is rejected.
    @Test func kubernetesValidatorRejectsAnUnknownField() throws {
        let folder = try TemporaryFolder()
        let deployment = try #require(try render("prod").first { $0.path == "kubernetes/03-deployment.yaml" })
        let broken = deployment.contents.replacingOccurrences(
            of: "  revisionHistoryLimit: 10\n", with: "  revisionHistoryLimit: 10\n  replicaz: 3\n")
        #expect(broken != deployment.contents)
        try folder.write([("deployment.yaml", broken)])
        let outcome = try ExternalTool(name: "kubernetes-validate").run(["--strict", "-k", "1.32", "\(folder.path)/deployment.yaml"])
        #expect(outcome.status != 0)
        #expect(outcome.output.contains("replicaz"))
    }

    @Test func everyRenderedFlyTomlMatchesFlysSchema() throws {
        let folder = try TemporaryFolder()
        var paths: [String] = []
        for name in Self.environments {
            guard let fly = try render(name).first(where: { $0.path == "fly.toml" }) else { continue }
            try folder.write([("\(name)/fly.toml", fly.contents)])
            paths.append("\(folder.path)/\(name)/fly.toml")
        }
        #expect(paths.count == 2)
        let outcome = try ExternalTool(name: "check-jsonschema").run(["--schemafile", Self.flySchema] + paths)
        #expect(outcome.status == 0, "check-jsonschema said:\n\(outcome.output)")
    }

    @Test func flySchemaCheckRejectsABadStrategy() throws {
        let folder = try TemporaryFolder()
        let fly = try #require(try render("prod").first { $0.path == "fly.toml" })
        try folder.write([("fly.toml", fly.contents.replacingOccurrences(of: "strategy = \"rolling\"", with: "strategy = \"sideways\""))])
        let outcome = try ExternalTool(name: "check-jsonschema").run(["--schemafile", Self.flySchema, "\(folder.path)/fly.toml"])
        #expect(outcome.status != 0)
        #expect(outcome.output.contains("sideways"))
    }
}
