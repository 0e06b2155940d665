import Foundation

/// The file system as the loaders see it; tests pass an in-memory one, as kustomize's tests do.
public protocol FileReading: Sendable {
    func read(_ path: String) throws -> String
    func exists(_ path: String) -> Bool
    /// File names (not paths) directly inside a directory, sorted.
    func list(_ directory: String) throws -> [String]
}

public struct FileReadError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "cannot read \(path): \(reason)" }
}

public struct DiskFiles: FileReading {
    public init() {}

    public func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileReadError(path: path, reason: exists(path) ? "permission denied or not a file" : "no such file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw FileReadError(path: path, reason: "not valid UTF-8 text")
        }
        return text
    }

    public func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path)
    }

    public func list(_ directory: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw FileReadError(path: directory, reason: "not a readable directory")
        }
    }
}

public struct InMemoryFiles: FileReading {
    public var files: [String: String]

    public init(_ files: [String: String]) {
        self.files = files
    }

    public func read(_ path: String) throws -> String {
        guard let text = files[Paths.normalized(path)] else {
            throw FileReadError(path: path, reason: "no such file")
        }
        return text
    }

    public func exists(_ path: String) -> Bool {
        let wanted = Paths.normalized(path)
        return files[wanted] != nil || files.keys.contains { $0.hasPrefix(wanted + "/") }
    }

    public func list(_ directory: String) throws -> [String] {
        let prefix = Paths.normalized(directory) + "/"
        let names = files.keys.compactMap { path -> String? in
            guard path.hasPrefix(prefix) else { return nil }
            return path.dropFirst(prefix.count).split(separator: "/").first.map(String.init)
        }
        return Set(names).sorted()
    }
}

enum Paths {
    static func join(_ directory: String, _ name: String) -> String {
        if directory.isEmpty || directory == "." { return name }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }

    static func fileName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    static func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) where part != "." {
            parts.append(part)
        }
        return parts.joined(separator: "/")
    }
}
