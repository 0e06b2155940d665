import Foundation
import Yams

/// A kubeconfig file as kubectl reads it: clusters, users and contexts by name.
struct Kubeconfig: Decodable, Sendable {
    struct NamedCluster: Decodable, Sendable {
        var name: String
        var cluster: Cluster
    }

    struct Cluster: Decodable, Sendable {
        var server: String
        var certificateAuthority: String?
        var certificateAuthorityData: String?
        var insecureSkipTLSVerify: Bool?

        enum CodingKeys: String, CodingKey {
            case server
            case certificateAuthority = "certificate-authority"
            case certificateAuthorityData = "certificate-authority-data"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
        }
    }

    struct NamedUser: Decodable, Sendable {
        var name: String
        var user: User
    }

    struct User: Decodable, Sendable {
        var token: String?
        var tokenFile: String?
        var clientCertificate: String?
        var clientCertificateData: String?
        var clientKey: String?
        var clientKeyData: String?
        var exec: ExecConfig?

        enum CodingKeys: String, CodingKey {
            case token, tokenFile, exec
            case clientCertificate = "client-certificate"
            case clientCertificateData = "client-certificate-data"
            case clientKey = "client-key"
            case clientKeyData = "client-key-data"
        }
    }

    /// A credential plugin (aws eks get-token, gke-gcloud-auth-plugin, kubelogin).
    struct ExecConfig: Decodable, Sendable {
        struct Variable: Decodable, Sendable {
            var name: String
            var value: String
        }

        var apiVersion: String?
        var command: String
        var args: [String]?
        var env: [Variable]?
        var installHint: String?
    }

    struct NamedContext: Decodable, Sendable {
        var name: String
        var context: Context
    }

    struct Context: Decodable, Sendable {
        var cluster: String
        var user: String?
        var namespace: String?
    }

    var clusters: [NamedCluster]?
    var users: [NamedUser]?
    var contexts: [NamedContext]?
    var currentContext: String?

    enum CodingKeys: String, CodingKey {
        case clusters, users, contexts
        case currentContext = "current-context"
    }

    /// The file's folder: relative paths in a kubeconfig are relative to it.
    var directory = ""

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        clusters = try container.decodeIfPresent([NamedCluster].self, forKey: .clusters)
        users = try container.decodeIfPresent([NamedUser].self, forKey: .users)
        contexts = try container.decodeIfPresent([NamedContext].self, forKey: .contexts)
        currentContext = try container.decodeIfPresent(String.self, forKey: .currentContext)
    }

    init() {}

    static func load(_ path: String) throws -> Kubeconfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw KubernetesError.configuration("cannot read the kubeconfig \(path): \(error.localizedDescription)")
        }
        do {
            var config = try YAMLDecoder().decode(Kubeconfig.self, from: text)
            config.directory = (path as NSString).deletingLastPathComponent
            config.resolvePaths()
            return config
        } catch let error as DecodingError {
            throw KubernetesError.configuration("\(path) is not a kubeconfig: \(KubernetesError.describe(error))")
        }
    }

    /// Merges files the way kubectl does for `KUBECONFIG=a:b`: the first file to define a name
    /// (or the current context) wins.
    static func merged(_ configs: [Kubeconfig]) -> Kubeconfig {
        var result = Kubeconfig()
        func append<T>(_ items: [T]?, into target: inout [T]?, name: (T) -> String) {
            for item in items ?? [] where !(target ?? []).contains(where: { name($0) == name(item) }) {
                target = (target ?? []) + [item]
            }
        }
        for config in configs {
            append(config.clusters, into: &result.clusters, name: \.name)
            append(config.users, into: &result.users, name: \.name)
            append(config.contexts, into: &result.contexts, name: \.name)
            if result.currentContext == nil || result.currentContext?.isEmpty == true { result.currentContext = config.currentContext }
        }
        return result
    }

    private mutating func resolvePaths() {
        let base = directory
        func absolute(_ path: String?) -> String? {
            guard let path, !path.isEmpty, !path.hasPrefix("/") else { return path }
            return base.isEmpty ? path : base + "/" + path
        }
        clusters = clusters?.map { named in
            var named = named
            named.cluster.certificateAuthority = absolute(named.cluster.certificateAuthority)
            return named
        }
        users = users?.map { named in
            var named = named
            named.user.tokenFile = absolute(named.user.tokenFile)
            named.user.clientCertificate = absolute(named.user.clientCertificate)
            named.user.clientKey = absolute(named.user.clientKey)
            return named
        }
    }
}

enum KubernetesError: Error, CustomStringConvertible {
    /// The kubeconfig or in-cluster setup is missing or wrong; the text says what to fix.
    case configuration(String)
    /// The API server answered with an error the user can act on.
    case api(String)
    /// The API server could not be reached.
    case unreachable(String)

    var description: String {
        switch self {
        case .configuration(let text), .api(let text), .unreachable(let text): return text
        }
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "`\(path(context.codingPath + [key]))` is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "`\(path(context.codingPath))`: \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }
}
