/// At most `limit` characters of a text that may be anything a spec holds.
enum Excerpt {
    static func of(_ text: String, limit: Int) -> String {
        guard text.count > limit else { return text }
        return String(text.prefix(limit)) + "… (\(text.count - limit) more characters)"
    }
}
