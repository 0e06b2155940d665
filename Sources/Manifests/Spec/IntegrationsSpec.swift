/// `integrations:` — non-secret settings of outside services (their credentials are secrets).
public struct IntegrationsSpec: Sendable, Equatable {
    /// `SHOPIFY_ADMIN_API_ENDPOINT`.
    public var shopifyAdminAPIEndpoint: String?
}

extension IntegrationsSpec: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> IntegrationsSpec? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let endpoint = map.optional("shopifyAdminApiEndpoint", as: String.self)
        map.finish()
        if let endpoint, !endpoint.hasPrefix("https://") {
            context.error(
                "`\(endpoint)` is not an https URL", at: context.locations[childPath(path, "shopifyAdminApiEndpoint")],
                path: childPath(path, "shopifyAdminApiEndpoint"),
                fix: "write it as https://STORE.myshopify.com/admin/api/VERSION")
            return nil
        }
        return IntegrationsSpec(shopifyAdminAPIEndpoint: endpoint)
    }
}
