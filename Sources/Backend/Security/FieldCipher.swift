import Crypto
import Foundation

/// AES-256-GCM for sensitive fields at rest. Each value carries the id of the key that sealed
/// it (`v1.KEYID.BASE64`), so the key can be rotated: new values use the current key, and values
/// sealed with a previous key stay readable while that key is listed in ENCRYPTION_KEY_PREVIOUS.
struct FieldCipher: Sendable {
    private let current: (id: String, key: SymmetricKey)
    private let keys: [String: SymmetricKey]

    enum Failure: Error, Equatable {
        case malformed
        case unknownKey(String)
        case authenticationFailed
    }

    init(currentKey: Sensitive, previousKeys: [Sensitive] = []) {
        let all = ([currentKey] + previousKeys).map { secret -> (String, SymmetricKey) in
            let key = SymmetricKey(data: Array(secret.revealed.utf8))
            return (Self.keyID(secret), key)
        }
        current = all[0]
        keys = Dictionary(all, uniquingKeysWith: { first, _ in first })
    }

    /// A short public fingerprint of a key: never the key, and stable across restarts.
    static func keyID(_ secret: Sensitive) -> String {
        let digest = SHA256.hash(data: Array(("pet-backend field key " + secret.revealed).utf8))
        return digest.prefix(4).map { String(format: "%02x", $0) }.joined()
    }

    func seal(_ plaintext: String) throws -> String {
        let box = try AES.GCM.seal(Array(plaintext.utf8), using: current.key)
        guard let combined = box.combined else { throw Failure.malformed }
        return "v1.\(current.id).\(combined.base64EncodedString())"
    }

    func open(_ sealed: String) throws(Failure) -> String {
        let parts = sealed.split(separator: ".", maxSplits: 2)
        guard parts.count == 3, parts[0] == "v1", let data = Data(base64Encoded: String(parts[2])) else { throw .malformed }
        guard let key = keys[String(parts[1])] else { throw .unknownKey(String(parts[1])) }
        do {
            let box = try AES.GCM.SealedBox(combined: data)
            return String(decoding: try AES.GCM.open(box, using: key), as: UTF8.self)
        } catch {
            throw .authenticationFailed
        }
    }

    var currentKeyID: String { current.id }
}
