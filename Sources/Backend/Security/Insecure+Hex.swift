import Crypto

extension Insecure {
    /// SHA-1 as Redis names scripts (EVALSHA); not used for any security decision.
    static func sha1Hex(_ text: String) -> String {
        Insecure.SHA1.hash(data: Array(text.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
