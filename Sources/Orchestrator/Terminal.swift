import Foundation

/// Results go to stdout; diagnostics and progress go to stderr, so output can be piped.
enum Terminal {
    static func out(_ text: String) {
        print(text)
    }

    static func error(_ text: String, newline: Bool = true) {
        var text = text
        if newline, !text.hasSuffix("\n") { text += "\n" }
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Colour only on a terminal and only when NO_COLOR is unset or empty.
    static var colorsOnStandardOutput: Bool { colorsAllowed && isatty(STDOUT_FILENO) == 1 }
    static var colorsOnStandardError: Bool { colorsAllowed && isatty(STDERR_FILENO) == 1 }

    private static var colorsAllowed: Bool {
        (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
    }

    /// Asks on the terminal; false when there is no terminal to ask on.
    static func confirm(_ question: String) -> Bool {
        guard isatty(STDIN_FILENO) == 1 else { return false }
        error("\(question) Only 'yes' will be accepted: ", newline: false)
        return readLine()?.trimmingCharacters(in: .whitespaces) == "yes"
    }
}
