/// `app:` — what the service is and how it runs.
public struct AppSpec: Sendable, Equatable {
    public enum Runtime: String, SpecEnum, Sendable {
        case development, staging, production
    }

    public enum LogLevel: String, SpecEnum, Sendable {
        case trace, debug, info, warn, error, fatal
    }

    public var name: String
    /// `NODE_ENV` for the service.
    public var runtime: Runtime
    public var port: Int
    public var host: String
    public var logLevel: LogLevel
    /// Image repository without tag or digest; a deploy pins the exact digest it built.
    public var image: String
}

extension AppSpec: SpecReadable {
    static func read(_ node: SpecNode, at path: String, in context: ReadContext) -> AppSpec? {
        guard let map = MapReader(node, at: path, in: context) else { return nil }
        let name = map.required("name", as: String.self).flatMap { Names.checkDNSLabel($0, path: childPath(path, "name"), map: map) }
        let runtime = map.required("runtime", as: Runtime.self)
        let port = map.required("port", in: 1...65535)
        let host = map.optional("host", default: "0.0.0.0")
        let logLevel = map.required("logLevel", as: LogLevel.self)
        let image = map.required("image", as: String.self).flatMap {
            Names.checkImageRepository($0, path: childPath(path, "image"), map: map)
        }
        map.finish()
        guard let name, let runtime, let port, let logLevel, let image else { return nil }
        return AppSpec(name: name, runtime: runtime, port: port, host: host, logLevel: logLevel, image: image)
    }
}
