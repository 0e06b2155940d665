import Foundation
import NIOCore
import TestSupport
import Testing
import Yams

@testable import Orchestrator

/// One test's slice of the shared real control plane: a namespace of its own with the Secret the
/// spec names, the documented RBAC bound to a ServiceAccount `orchestrate` whose token
/// `orchestrate` runs with, a kubelet stand-in for the namespace's pods, and an environment
/// `e2e` (staging, pointed at this namespace) in a folder of its own.
final class EnvtestCluster: Sendable {
    static let environment = "e2e"
    static let shared: Result<(KubernetesControlPlane, PodNetwork), Error> = Result {
        let plane = try KubernetesControlPlane.shared.get()
        let network = try PodNetwork(
            appPort: 3001, certificate: plane.folder + "/server.crt", key: plane.folder + "/server.key", folder: plane.folder)
        return (plane, network)
    }

    let plane: KubernetesControlPlane
    let namespace: String
    let folder: String
    let admin: KubernetesClient
    let kubelet: KubeletStandIn
    /// The kubeconfig `orchestrate` runs with: the ServiceAccount bound to the documented Role.
    private(set) nonisolated(unsafe) var kubeconfig: String

    var instance: String { "pet-backend-\(Self.environment)" }

    static func image(_ letter: Character) -> String {
        "registry.example/pet-backend@sha256:" + String(repeating: letter, count: 64)
    }

    /// `overrides` is YAML merged over staging for this test (shorter timeouts, other replicas…).
    init(_ label: String, overrides: String = "", secretKeysLeftOut: [String] = []) async throws {
        let (plane, network) = try Self.shared.get()
        self.plane = plane
        namespace = "\(label)-\(UUID().uuidString.prefix(6).lowercased())"
        folder = try LocalProcess.temporaryDirectory("envtest-\(label)")
        admin = try KubernetesClient(
            connection: try KubernetesConnection.resolve(kubeconfig: try plane.kubeconfig(for: .admin), context: nil))
        try await Self.create(admin, "/api/v1/namespaces", ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": namespace]])
        kubelet = try await KubeletStandIn(client: admin, network: network, namespace: namespace)
        kubeconfig = ""
        try await seedSecret(leavingOut: secretKeysLeftOut)
        try await bindDocumentedRole()
        kubeconfig = try await serviceAccountKubeconfig()
        try writeEnvironment(overrides: overrides)
    }

    /// Rewrites the environment with more YAML merged over it (a setting changed by its team).
    func setOverrides(_ yaml: String) throws {
        let environments = folder + "/environments"
        try "extends: e2e-base\n\(yaml)\n".write(toFile: "\(environments)/\(Self.environment).yaml", atomically: true, encoding: .utf8)
    }

    /// The configuration the serving pods get: the ConfigMap their live pod template names.
    func podsEnvironment() async throws -> [String: String] {
        let deployment = try await object(deploymentPath)
        let containers = Field.map(deployment, "spec", "template", "spec")?["containers"] as? [[String: Any]] ?? []
        let sources = containers.first?["envFrom"] as? [[String: Any]] ?? []
        var environment: [String: String] = [:]
        for source in sources {
            guard let name = Field.string(source, "configMapRef", "name"),
                let configMap = try await object("/api/v1/namespaces/\(namespace)/configmaps/\(name)")
            else { continue }
            for (key, value) in configMap["data"] as? [String: String] ?? [:] { environment[key] = value }
        }
        return environment
    }

    func stop() async {
        kubelet.stop()
        await admin.shutdown()
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Runs `orchestrate VERB e2e ARGS --target kubernetes` as the ServiceAccount.
    func orchestrate(_ arguments: [String], kubeconfig: String? = nil, input: String? = nil) async throws -> CommandRunner.Outcome {
        try await CommandRunner.run(self.arguments(arguments, kubeconfig: kubeconfig), input: input)
    }

    func arguments(_ arguments: [String], kubeconfig: String? = nil) -> [String] {
        // `secrets set ENV …`: the environment follows the whole command's name.
        let words = arguments.first == "secrets" ? 2 : 1
        return Array(arguments.prefix(words)) + [Self.environment] + arguments.dropFirst(words) + [
            "--target", "kubernetes", "--kubeconfig", kubeconfig ?? self.kubeconfig, "--environments", folder + "/environments",
            "--templates", CommandRunner.repositoryRoot + "/templates",
        ]
    }

    /// `releases --json`, as a script reads it.
    struct History: Decodable {
        struct Release: Decodable {
            var revision: Int
            var replicaSet: String
            var image: String
            var outcome: String?
            var note: String?
        }
        var current: Int?
        var releases: [Release]

        var live: Release? { releases.first { $0.revision == current } }
    }

    func history() async throws -> History {
        let outcome = try await orchestrate(["releases", "--json"])
        return try JSONDecoder().decode(History.self, from: Data(outcome.stdout.utf8))
    }

    func object(_ path: String) async throws -> [String: Any]? {
        try await admin.object(path, label: path)
    }

    func list(_ collection: String, labelSelector: String? = nil) async throws -> [[String: Any]] {
        try await admin.list(collection, labelSelector: labelSelector, label: collection)
    }

    var deploymentPath: String { "/apis/apps/v1/namespaces/\(namespace)/deployments/pet-backend" }
    var jobsPath: String { "/apis/batch/v1/namespaces/\(namespace)/jobs" }
    var podsPath: String { "/api/v1/namespaces/\(namespace)/pods" }

    /// The Secret with every key the spec requires, unless left out.
    func seedSecret(leavingOut missing: [String] = []) async throws {
        let keys = [
            "DATABASE_URL", "REDIS_URL", "JWT_SECRET", "REFRESH_TOKEN_SECRET", "SESSION_SECRET", "ENCRYPTION_KEY", "CLERK_SECRET_KEY",
            "BACKUP_S3_ACCESS_KEY_ID", "BACKUP_S3_SECRET_ACCESS_KEY",
        ]
        let data = Dictionary(uniqueKeysWithValues: keys.filter { !missing.contains($0) }.map { ($0, "c2VjcmV0") })
        _ = try await admin.send(.DELETE, "/api/v1/namespaces/\(namespace)/secrets/pet-backend-secrets")
        try await Self.create(
            admin, "/api/v1/namespaces/\(namespace)/secrets",
            ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "pet-backend-secrets"], "data": data])
    }

    /// docs/kubernetes/orchestrate-rbac.yaml as a user would apply it, with this namespace.
    private func bindDocumentedRole() async throws {
        try await Self.create(
            admin, "/api/v1/namespaces/\(namespace)/serviceaccounts",
            ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "orchestrate"]])
        let text = try String(contentsOfFile: CommandRunner.repositoryRoot + "/docs/kubernetes/orchestrate-rbac.yaml", encoding: .utf8)
            .replacingOccurrences(of: "pet-backend-staging", with: namespace)
        for document in try Yams.load_all(yaml: text) {
            let object = DesiredObjects.jsonCompatible(document as Any)
            let kind = object["kind"] as? String ?? ""
            let plural = [
                "Role": "roles", "RoleBinding": "rolebindings", "ClusterRole": "clusterroles", "ClusterRoleBinding": "clusterrolebindings",
            ][kind]
            guard let plural else { continue }
            let scope = kind.hasPrefix("Cluster") ? "" : "/namespaces/\(namespace)"
            try await Self.create(admin, "/apis/rbac.authorization.k8s.io/v1\(scope)/\(plural)", object)
        }
    }

    /// A token for the ServiceAccount from the TokenRequest API, as a CI runner would hold.
    private func serviceAccountKubeconfig() async throws -> String {
        try writeKubeconfig(token: try await token(), name: "orchestrate")
    }

    func token() async throws -> String {
        let request: [String: Any] = [
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": ["expirationSeconds": 3600],
        ]
        let answer = try await admin.send(
            .POST, "/api/v1/namespaces/\(namespace)/serviceaccounts/orchestrate/token", body: KubeletStandIn.json(request),
            contentType: "application/json")
        guard let token = Field.string(answer.json, "status", "token") else {
            throw MissingServer(description: "no ServiceAccount token: \(String(buffer: answer.body))")
        }
        return token
    }

    /// A kubeconfig for another token (a user with no rights, say).
    func writeKubeconfig(token: String, name: String, server: String? = nil) throws -> String {
        let path = "\(folder)/kubeconfig-\(name)"
        try """
        apiVersion: v1
        kind: Config
        clusters: [{name: envtest, cluster: {server: "\(server ?? plane.server)", certificate-authority: "\(plane.certificateAuthority)"}}]
        users: [{name: \(name), user: {token: "\(token)"}}]
        contexts: [{name: envtest, context: {cluster: envtest, user: \(name)}}]
        current-context: envtest

        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func writeEnvironment(overrides: String) throws {
        let environments = folder + "/environments"
        try FileManager.default.createDirectory(atPath: environments, withIntermediateDirectories: true)
        for file in ["base.yaml", "staging.yaml"] {
            try FileManager.default.copyItem(
                atPath: "\(CommandRunner.repositoryRoot)/environments/\(file)", toPath: "\(environments)/\(file)")
        }
        let spec = """
            extends: staging
            targets:
              kubernetes:
                context: envtest
                namespace: \(namespace)
            \(overrides)
            """
        // The test's own settings live in e2e-base, so that setOverrides can lay more over them.
        try spec.write(toFile: "\(environments)/e2e-base.yaml", atomically: true, encoding: .utf8)
        try setOverrides("")
    }

    static func create(_ client: KubernetesClient, _ collection: String, _ object: [String: Any]) async throws {
        let answer = try await client.send(.POST, collection, body: KubeletStandIn.json(object), contentType: "application/json")
        guard answer.status == .created || answer.status == .conflict else {
            throw MissingServer(description: "creating in \(collection) failed: \(String(buffer: answer.body))")
        }
    }

    /// Waits for `condition` to hold, polling the API every 100 ms.
    func eventually(
        _ what: String, within timeout: Duration = .seconds(30), _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("not within \(timeout): \(what)")
    }
}
