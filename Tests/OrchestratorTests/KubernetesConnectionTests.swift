import Foundation
import TestSupport
import Testing

@testable import Orchestrator

/// How the Kubernetes target finds its API server and credentials, the way kubectl does.
@Suite struct KubernetesConnectionTests {
    let folder: String

    init() throws {
        folder = try LocalProcess.temporaryDirectory("kubeconfig")
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = folder + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func severalKubeconfigFilesMergeFirstWins() throws {
        let first = try write(
            "first.yaml",
            """
            current-context: staging
            clusters:
            - name: shared
              cluster: { server: "https://first.example:6443/", certificate-authority: ca.pem }
            contexts:
            - name: staging
              context: { cluster: shared, user: deployer, namespace: pet-backend-staging }
            users:
            - name: deployer
              user: { token: first-token }
            """)
        _ = try write("ca.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
        let second = try write(
            "second.yaml",
            """
            current-context: other
            clusters:
            - name: shared
              cluster: { server: "https://second.example" }
            - name: dev
              cluster: { server: "https://dev.example", insecure-skip-tls-verify: true }
            contexts:
            - name: kind-dev
              context: { cluster: dev, user: kind }
            users:
            - name: kind
              user: { tokenFile: token }
            """)
        let environment = ["KUBECONFIG": "\(first):\(folder)/missing.yaml:\(second)"]
        let staging = try KubernetesConnection.resolve(kubeconfig: nil, context: nil, environment: environment)
        #expect(staging.context == "staging")
        #expect(staging.server == "https://first.example:6443")
        #expect(staging.namespace == "pet-backend-staging")
        #expect(staging.certificateAuthorityPEM?.count ?? 0 > 0, "a relative certificate-authority is read beside its kubeconfig")
        guard case .bearer("first-token") = staging.credentials else {
            Issue.record("expected the token of the first file")
            return
        }
        let dev = try KubernetesConnection.resolve(kubeconfig: nil, context: "kind-dev", environment: environment)
        #expect(dev.server == "https://dev.example" && dev.insecureSkipTLSVerify)
        guard case .tokenFile(let file) = dev.credentials else {
            Issue.record("expected a token file")
            return
        }
        #expect(file == folder + "/token")

        let missing = failureMessage { _ = try KubernetesConnection.resolve(kubeconfig: nil, context: "prod", environment: environment) }
        #expect(missing.contains("has no context `prod`; known: staging, kind-dev"), "\(missing)")
    }

    @Test func clientCertificatesExecPluginsAndInCluster() async throws {
        let certificate = Data("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".utf8).base64EncodedString()
        let plugin = try write(
            "plugin.sh",
            """
            #!/bin/sh
            [ "$CLUSTER_NAME" = prod-eks ] || { echo "wrong environment" >&2; exit 1; }
            echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-plugin","expirationTimestamp":"2099-01-01T00:00:00Z"}}'
            """)
        chmod(plugin, 0o755)
        let config = try write(
            "config.yaml",
            """
            clusters:
            - { name: c, cluster: { server: "https://c.example" } }
            contexts:
            - { name: cert, context: { cluster: c, user: cert } }
            - { name: eks, context: { cluster: c, user: eks } }
            - { name: half, context: { cluster: c, user: half } }
            users:
            - { name: cert, user: { client-certificate-data: \(certificate), client-key-data: \(certificate) } }
            - { name: half, user: { client-certificate-data: \(certificate) } }
            - name: eks
              user:
                exec:
                  apiVersion: client.authentication.k8s.io/v1
                  command: \(plugin)
                  env: [{ name: CLUSTER_NAME, value: prod-eks }]
            """)
        let cert = try KubernetesConnection.resolve(kubeconfig: config, context: "cert", environment: [:])
        guard case .clientCertificate = cert.credentials else {
            Issue.record("expected a client certificate")
            return
        }
        let half = failureMessage { _ = try KubernetesConnection.resolve(kubeconfig: config, context: "half", environment: [:]) }
        #expect(half.contains("has a client certificate but no client-key"), "\(half)")

        let eks = try KubernetesConnection.resolve(kubeconfig: config, context: "eks", environment: [:])
        guard case .exec(let exec) = eks.credentials else {
            Issue.record("expected an exec plugin")
            return
        }
        let credential = try await ExecCredentialProvider(config: exec).credential()
        #expect(credential.token == "from-plugin")

        let account = folder + "/serviceaccount"
        try FileManager.default.createDirectory(atPath: account, withIntermediateDirectories: true)
        try Data("sa-token\n".utf8).write(to: URL(fileURLWithPath: account + "/token"))
        try Data("pet-backend-prod".utf8).write(to: URL(fileURLWithPath: account + "/namespace"))
        try Data("-----BEGIN CERTIFICATE-----\n".utf8).write(to: URL(fileURLWithPath: account + "/ca.crt"))
        let inCluster = try KubernetesConnection.resolve(
            kubeconfig: nil, context: nil,
            environment: ["KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443", "HOME": folder],
            serviceAccountFolder: account)
        #expect(
            inCluster.server == "https://10.0.0.1:443" && inCluster.namespace == "pet-backend-prod" && inCluster.context == "in-cluster")
        let nothing = failureMessage { _ = try KubernetesConnection.resolve(kubeconfig: nil, context: nil, environment: ["HOME": folder]) }
        #expect(nothing.contains("no kubeconfig found"), "\(nothing)")
    }
}
