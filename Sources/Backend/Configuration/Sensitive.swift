/// A secret value read from the environment. It prints as `(sensitive)` everywhere (logs,
/// errors, debug output); code that needs the value asks for `revealed` explicitly.
struct Sensitive: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    let revealed: String

    init(_ value: String) {
        revealed = value
    }

    var description: String { "(sensitive)" }
    var debugDescription: String { "(sensitive)" }
}
