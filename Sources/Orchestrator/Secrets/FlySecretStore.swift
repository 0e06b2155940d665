/// The app's secrets on Fly. Setting them makes a new secrets version, which the ledger keeps so
/// that the next release pins it (`min_secrets_version`) and a rollback restores it.
struct FlySecretStore: SecretStore {
    let api: FlyAPI
    let ledger: FlyLedger

    func list() async throws -> [SecretEntry] {
        try await api.secrets().compactMap { secret in
            secret.name.map { SecretEntry(name: $0, digest: String((secret.digest ?? "").prefix(12))) }
        }.sorted { $0.name < $1.name }
    }

    func set(_ values: [String: String]) async throws -> String? {
        let version = try await api.setSecrets(values)
        guard let version else { return nil }
        if try await ledger.find() != nil { try await ledger.setSecretsVersion(version) }
        return "secrets version \(version); machines get it with the next apply"
    }

    func unset(_ names: [String]) async throws {
        for name in names { try await api.deleteSecret(name) }
    }
}
