import Foundation

/// Results go to stdout; diagnostics and progress go to stderr, so output can be piped.
enum Terminal {
    static func out(_ text: String) {
        print(text)
    }

    static func error(_ text: String) {
        var text = text
        if !text.hasSuffix("\n") { text += "\n" }
        FileHandle.standardError.write(Data(text.utf8))
    }
}
