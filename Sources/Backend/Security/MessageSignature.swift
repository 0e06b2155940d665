import Crypto
import Foundation

/// HMAC-SHA256 signatures compared in constant time: Shopify's webhook signature, and the
/// service's own signed pagination cursors.
enum MessageSignature {
    static func hmacBase64(_ message: some DataProtocol, secret: Sensitive) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Array(secret.revealed.utf8)))
        return Data(code).base64EncodedString()
    }

    /// Whether `signature` (base64) is the HMAC of the exact bytes received.
    static func isValid(base64 signature: String, for message: some DataProtocol, secret: Sensitive) -> Bool {
        guard let given = Data(base64Encoded: signature) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(
            given, authenticating: message, using: SymmetricKey(data: Array(secret.revealed.utf8)))
    }
}

/// Opaque pagination cursors signed with SESSION_SECRET, so a client cannot forge one to page
/// through another user's designs or inject values into the keyset query.
struct CursorSigner: Sendable {
    let secret: Sensitive

    struct Position: Codable, Equatable, Sendable {
        var createdAt: Date
        var id: UUID
        var userID: String
    }

    func encode(_ position: Position) -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        let payload = (try? encoder.encode(position)) ?? Data()
        let signature = HMAC<SHA256>.authenticationCode(for: payload, using: key)
        return Self.base64URL(payload) + "." + Self.base64URL(Data(signature))
    }

    func decode(_ cursor: String) -> Position? {
        let parts = cursor.split(separator: ".")
        guard parts.count == 2, let payload = Self.data(base64URL: String(parts[0])),
            let signature = Self.data(base64URL: String(parts[1])),
            HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: payload, using: key)
        else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return try? decoder.decode(Position.self, from: payload)
    }

    private var key: SymmetricKey { SymmetricKey(data: Array(("cursor:" + secret.revealed).utf8)) }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func data(base64URL text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
