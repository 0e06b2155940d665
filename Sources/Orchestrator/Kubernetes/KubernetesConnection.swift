import Foundation

/// Where the API server is and how to authenticate, resolved like kubectl: `--kubeconfig`, else
/// every file in `KUBECONFIG`, else `~/.kube/config`, else the pod's service account when running
/// inside a cluster. The context: `--context`, else the spec's, else the current one.
struct KubernetesConnection: Sendable {
    enum Credentials: Sendable {
        case none
        case bearer(String)
        /// Read at every request: projected service-account tokens are rotated on disk.
        case tokenFile(String)
        case clientCertificate(certificatePEM: [UInt8], keyPEM: [UInt8])
        case exec(Kubeconfig.ExecConfig)
    }

    var server: String
    var certificateAuthorityPEM: [UInt8]?
    var insecureSkipTLSVerify: Bool
    var credentials: Credentials
    var namespace: String?
    /// The context used, or `in-cluster`.
    var context: String

    static let serviceAccountFolder = "/var/run/secrets/kubernetes.io/serviceaccount"

    static func resolve(
        kubeconfig explicitPath: String?, context requested: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccountFolder: String = serviceAccountFolder
    ) throws -> KubernetesConnection {
        let paths = configPaths(explicit: explicitPath, environment: environment)
        if paths.isEmpty {
            if let inCluster = try inCluster(environment: environment, folder: serviceAccountFolder) { return inCluster }
            throw KubernetesError.configuration(
                "no kubeconfig found: pass --kubeconfig FILE, set KUBECONFIG, create ~/.kube/config, or run inside a cluster")
        }
        let config = Kubeconfig.merged(try paths.map(Kubeconfig.load))
        let contexts = config.contexts ?? []
        guard let name = requested ?? config.currentContext, !name.isEmpty else {
            throw KubernetesError.configuration(
                "no context chosen: pass --context NAME (known: \(contexts.map(\.name).joined(separator: ", "))) or set current-context")
        }
        guard let context = contexts.first(where: { $0.name == name })?.context else {
            let known = contexts.map(\.name).joined(separator: ", ")
            throw KubernetesError.configuration(
                "the kubeconfig (\(paths.joined(separator: ":"))) has no context `\(name)`; known: \(known.isEmpty ? "none" : known)")
        }
        guard let cluster = config.clusters?.first(where: { $0.name == context.cluster })?.cluster else {
            throw KubernetesError.configuration(
                "context `\(name)` names cluster `\(context.cluster)`, which the kubeconfig does not define")
        }
        var credentials = Credentials.none
        if let userName = context.user {
            guard let user = config.users?.first(where: { $0.name == userName })?.user else {
                throw KubernetesError.configuration("context `\(name)` names user `\(userName)`, which the kubeconfig does not define")
            }
            credentials = try Self.credentials(for: user, named: userName)
        }
        return KubernetesConnection(
            server: cluster.server.hasSuffix("/") ? String(cluster.server.dropLast()) : cluster.server,
            certificateAuthorityPEM: try pem(
                data: cluster.certificateAuthorityData, file: cluster.certificateAuthority, what: "certificate-authority"),
            insecureSkipTLSVerify: cluster.insecureSkipTLSVerify ?? false, credentials: credentials, namespace: context.namespace,
            context: name)
    }

    static func configPaths(explicit: String?, environment: [String: String]) -> [String] {
        if let explicit { return [explicit] }
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            return list.split(separator: ":").map(String.init).filter { FileManager.default.fileExists(atPath: $0) }
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let standard = home + "/.kube/config"
        return FileManager.default.fileExists(atPath: standard) ? [standard] : []
    }

    static func credentials(for user: Kubeconfig.User, named name: String) throws -> Credentials {
        if let token = user.token, !token.isEmpty { return .bearer(token) }
        if let file = user.tokenFile, !file.isEmpty { return .tokenFile(file) }
        if let certificate = try pem(data: user.clientCertificateData, file: user.clientCertificate, what: "client-certificate") {
            guard let key = try pem(data: user.clientKeyData, file: user.clientKey, what: "client-key") else {
                throw KubernetesError.configuration("user `\(name)` has a client certificate but no client-key or client-key-data")
            }
            return .clientCertificate(certificatePEM: certificate, keyPEM: key)
        }
        if let exec = user.exec { return .exec(exec) }
        return .none
    }

    static func inCluster(environment: [String: String], folder: String) throws -> KubernetesConnection? {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
            FileManager.default.fileExists(atPath: folder + "/token")
        else { return nil }
        let port = environment["KUBERNETES_SERVICE_PORT"] ?? "443"
        let bracketed = host.contains(":") ? "[\(host)]" : host
        let namespace = (try? String(contentsOfFile: folder + "/namespace", encoding: .utf8))?.trimmingCharacters(
            in: .whitespacesAndNewlines)
        return KubernetesConnection(
            server: "https://\(bracketed):\(port)", certificateAuthorityPEM: try pem(data: nil, file: folder + "/ca.crt", what: "ca.crt"),
            insecureSkipTLSVerify: false, credentials: .tokenFile(folder + "/token"), namespace: namespace, context: "in-cluster")
    }

    /// `*-data` (base64) wins over the file form, as in kubectl.
    static func pem(data: String?, file: String?, what: String) throws -> [UInt8]? {
        if let data, !data.isEmpty {
            guard let decoded = Data(base64Encoded: data.filter { !$0.isWhitespace }) else {
                throw KubernetesError.configuration("\(what)-data is not base64")
            }
            return Array(decoded)
        }
        guard let file, !file.isEmpty else { return nil }
        guard let contents = FileManager.default.contents(atPath: file) else {
            throw KubernetesError.configuration("cannot read \(what) file \(file)")
        }
        return Array(contents)
    }
}
