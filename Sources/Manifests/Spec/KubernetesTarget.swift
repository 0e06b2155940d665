/// `targets.kubernetes:` — the cluster, namespace and Secret this environment deploys with.
public struct KubernetesTarget: Sendable, Equatable {
    /// The kubeconfig context; empty means the current context.
    public var context: String?
    public var namespace: String
    /// The Secret that holds every key named under `secrets:`.
    public var secretName: String
    /// The header an ingress in front of the Service sets with the client's address
    /// (`X-Forwarded-For`); nil when clients reach the pods without one, so none is trusted.
    public var clientAddressHeader: String? = nil
    /// How many proxies append to that header (an ingress behind a cloud load balancer: 2).
    public var proxyHops: Int = 1
    /// Where clients reach the service (an ingress or a load balancer); `verify` sends its load here.
    public var publicURL: String? = nil
}

extension KubernetesTarget: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> KubernetesTarget? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let kubeContext = map.optional("context", as: String.self)
        let namespace = map.required("namespace", as: String.self).flatMap {
            Names.checkDNSLabel($0, path: childPath(path, "namespace"), map: map)
        }
        let secretName = map.required("secretName", as: String.self).flatMap {
            Names.checkDNSLabel($0, path: childPath(path, "secretName"), map: map)
        }
        let header = map.optional("clientAddressHeader", as: String.self)
        if let header, header.isEmpty || !header.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) {
            map.context.error(
                "`\(header)` is not an HTTP header name", at: map.context.locations[childPath(path, "clientAddressHeader")],
                path: childPath(path, "clientAddressHeader"), fix: "write the header the ingress sets, such as X-Forwarded-For")
        }
        let hops = map.optional("proxyHops", default: 1, in: 1...10)
        let publicURL = VerifySpec.publicURL(in: map)
        map.finish()
        guard let namespace, let secretName else { return nil }
        return KubernetesTarget(
            context: kubeContext, namespace: namespace, secretName: secretName, clientAddressHeader: header, proxyHops: hops,
            publicURL: publicURL)
    }
}

/// `targets:` — where the environment can be deployed.
public struct TargetsSpec: Sendable, Equatable {
    public enum Name: String, SpecEnum, Sendable {
        case local, fly, kubernetes
    }

    public var local: LocalTarget?
    public var fly: FlyTarget?
    public var kubernetes: KubernetesTarget?
    public var defaultTarget: Name?

    public func isConfigured(_ name: Name) -> Bool {
        switch name {
        case .local: return local != nil
        case .fly: return fly != nil
        case .kubernetes: return kubernetes != nil
        }
    }
}

extension TargetsSpec: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> TargetsSpec? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let local = map.optional("local", as: LocalTarget.self)
        let fly = map.optional("fly", as: FlyTarget.self)
        let kubernetes = map.optional("kubernetes", as: KubernetesTarget.self)
        let defaultTarget = map.optional("default", as: Name.self)
        let failed =
            (map.keys.contains("local") && local == nil) || (map.keys.contains("fly") && fly == nil)
            || (map.keys.contains("kubernetes") && kubernetes == nil)
        map.finish()
        if failed { return nil }
        let targets = TargetsSpec(local: local, fly: fly, kubernetes: kubernetes, defaultTarget: defaultTarget)
        if let defaultTarget, !targets.isConfigured(defaultTarget) {
            context.error(
                "the default target is \(defaultTarget.rawValue), but `targets.\(defaultTarget.rawValue)` is not configured",
                at: context.locations[childPath(path, "default")], path: childPath(path, "default"),
                fix: "add `targets.\(defaultTarget.rawValue):` or choose a configured target")
            return nil
        }
        return targets
    }
}
