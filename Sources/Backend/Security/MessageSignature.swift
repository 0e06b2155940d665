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
/// through another user's designs or inject values into the keyset query. The payload is
/// binary (microseconds, the id's 16 bytes, the user id) and base64url-encoded byte by byte:
/// JSON and Foundation's string replacing made this 12 % of a list request's CPU.
struct CursorSigner: Sendable {
    /// HMAC's state after the key: each cursor copies it instead of deriving the key pads again.
    private let keyed: HMAC<SHA256>

    init(secret: Sensitive) {
        keyed = HMAC(key: SymmetricKey(data: Array(("cursor:" + secret.revealed).utf8)))
    }

    private func signature(_ payload: [UInt8]) -> HMAC<SHA256>.MAC {
        var hmac = keyed
        hmac.update(data: payload)
        return hmac.finalize()
    }

    struct Position: Equatable, Sendable {
        var createdAt: PostgresTimestamp
        var id: UUID
        var userID: String
    }

    func encode(_ position: Position) -> String {
        var payload: [UInt8] = []
        payload.reserveCapacity(24 + position.userID.utf8.count)
        // PostgreSQL keeps microseconds; a coarser cursor would repeat rows on the next page.
        withUnsafeBytes(of: position.createdAt.microseconds.bigEndian) { payload.append(contentsOf: $0) }
        withUnsafeBytes(of: position.id.uuid) { payload.append(contentsOf: $0) }
        payload.append(contentsOf: position.userID.utf8)
        return Self.base64URL(payload) + "." + Self.base64URL(Array(signature(payload)))
    }

    func decode(_ cursor: String) -> Position? {
        let parts = cursor.split(separator: ".")
        guard parts.count == 2, let payload = Self.bytes(base64URL: parts[0]), payload.count >= 24,
            let given = Self.bytes(base64URL: parts[1]),
            signature(payload) == given  // constant time: swift-crypto's comparison of a MAC with bytes
        else { return nil }
        let microseconds = payload[0..<8].reduce(Int64(0)) { $0 << 8 | Int64($1) }
        let idBytes = Array(payload[8..<24])
        let id = UUID(
            uuid: (
                idBytes[0], idBytes[1], idBytes[2], idBytes[3], idBytes[4], idBytes[5], idBytes[6], idBytes[7], idBytes[8], idBytes[9],
                idBytes[10], idBytes[11], idBytes[12], idBytes[13], idBytes[14], idBytes[15]
            ))
        guard let user = String(validating: payload[24...], as: UTF8.self) else { return nil }
        return Position(createdAt: PostgresTimestamp(microseconds: microseconds), id: id, userID: user)
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        let encoded = Data(bytes).base64EncodedData()
        var result: [UInt8] = []
        result.reserveCapacity(encoded.count)
        encoded.withUnsafeBytes { encoded in
            for byte in encoded {
                switch byte {
                case UInt8(ascii: "+"): result.append(UInt8(ascii: "-"))
                case UInt8(ascii: "/"): result.append(UInt8(ascii: "_"))
                case UInt8(ascii: "="): continue
                default: result.append(byte)
                }
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    static func bytes(base64URL text: Substring) -> [UInt8]? {
        var base64: [UInt8] = text.utf8.map { byte in
            switch byte {
            case UInt8(ascii: "-"): UInt8(ascii: "+")
            case UInt8(ascii: "_"): UInt8(ascii: "/")
            default: byte
            }
        }
        while base64.count % 4 != 0 { base64.append(UInt8(ascii: "=")) }
        return Data(base64Encoded: Data(base64)).map(Array.init)
    }
}
