/// Checks for names that end up in Kubernetes objects, Fly apps and image references.
enum Names {
    /// RFC 1123 label: what Kubernetes object names, namespaces and Fly app names accept.
    static func isDNSLabel(_ text: String) -> Bool {
        guard (1...63).contains(text.count), let first = text.first, let last = text.last else { return false }
        let allowed = text.allSatisfy { ($0.isASCII && $0.isLowercase) || $0.isNumber || $0 == "-" }
        return allowed && first != "-" && last != "-" && first.isASCII && last.isASCII
    }

    static func checkDNSLabel(_ text: String, path: String, map: MapReader) -> String? {
        guard isDNSLabel(text) else {
            let suggestion = String(text.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }.prefix(63))
            map.context.error(
                "`\(text)` is not a valid name: use 1 to 63 lower-case letters, digits and '-', starting and ending with a letter or digit",
                at: map.context.locations[path], path: path, fix: "for example `\(suggestion)`")
            return nil
        }
        return text
    }

    static func checkImageRepository(_ text: String, path: String, map: MapReader) -> String? {
        let lastComponent = text.split(separator: "/").last.map(String.init) ?? text
        if text.contains("@") || lastComponent.contains(":") {
            map.context.error(
                "`\(text)` includes a tag or digest", at: map.context.locations[path], path: path,
                fix: "give the repository only (e.g. `registry.example.com/pet-backend`); deploys pin the digest they built")
            return nil
        }
        let valid = !text.isEmpty && text == text.lowercased() && !text.contains(" ") && !text.hasPrefix("/") && !text.hasSuffix("/")
        guard valid else {
            map.context.error(
                "`\(text)` is not an image repository", at: map.context.locations[path], path: path,
                fix: "use lower case letters, digits, '.', '-', '_' and '/' such as `registry.example.com/pet-backend`")
            return nil
        }
        return text
    }

    /// An environment variable name such as `DATABASE_URL`.
    static func isEnvironmentVariable(_ text: String) -> Bool {
        guard let first = text.first, first.isUppercase || first == "_" else { return false }
        return text.allSatisfy { ($0.isASCII && $0.isUppercase) || $0.isNumber || $0 == "_" }
    }
}
