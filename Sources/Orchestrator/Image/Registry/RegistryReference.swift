/// `host[:port]/repository[:tag]`, as `docker push` takes it.
struct RegistryReference: Sendable, CustomStringConvertible {
    var host: String
    var repository: String
    var tag: String?

    init(parsing text: String) throws {
        guard let slash = text.firstIndex(of: "/") else {
            throw ImageError("\(text) has no registry host; write it as HOST[:PORT]/REPOSITORY, e.g. 127.0.0.1:5005/pet-backend")
        }
        host = String(text[..<slash])
        var rest = String(text[text.index(after: slash)...])
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            tag = String(rest[rest.index(after: colon)...])
            rest = String(rest[..<colon])
        }
        guard !rest.isEmpty, rest == rest.lowercased(),
            rest.allSatisfy({ $0.isLetter || $0.isNumber || "._-/".contains($0) })
        else {
            throw ImageError("\(rest) is not a valid repository name: lowercase letters, digits, '.', '_', '-' and '/' only")
        }
        repository = rest
    }

    /// Plain HTTP for loopback registries, as docker and skopeo allow; HTTPS elsewhere.
    var baseURL: String {
        let loopback = host.hasPrefix("127.") || host.hasPrefix("localhost") || host.hasPrefix("[::1]")
        return (loopback ? "http://" : "https://") + host
    }

    var description: String { "\(host)/\(repository)" }
}
