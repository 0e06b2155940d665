/// The merged YAML of one environment before it is read into an `EnvironmentSpec`.
public struct EnvironmentSource: Sendable {
    public var name: String
    public var files: [String]
    public var root: SpecNode
}

/// Loads an environment file and the chain of files it `extends`, and merges them.
public enum EnvironmentLoader {
    /// The largest spec file read (the shipped ones are a few KiB).
    public static let maximumFileBytes = 1 << 20

    public static func load(path: String, using files: FileReading, log: DiagnosticLog) -> EnvironmentSource? {
        load(path: path, using: files, log: log, chain: [])
    }

    /// The environment name of a spec file: its name without `.yaml`.
    public static func environmentName(of path: String) -> String {
        let name = Paths.fileName(of: path)
        for suffix in [".yaml", ".yml"] where name.hasSuffix(suffix) {
            return String(name.dropLast(suffix.count))
        }
        return name
    }

    private static func load(path: String, using files: FileReading, log: DiagnosticLog, chain: [String]) -> EnvironmentSource? {
        let text: String
        do {
            text = try files.read(path)
        } catch {
            log.error("\(error)", at: nil, path: "", fix: "check the path; environments live in environments/NAME.yaml")
            return nil
        }
        // A spec is a page of settings; a file many times that is a mistake or an attack, and
        // reading it would take time and memory before saying so.
        guard text.utf8.count <= maximumFileBytes else {
            log.error(
                "\(path) is \(text.utf8.count / 1024) KiB; a spec file may be at most \(maximumFileBytes / 1024) KiB",
                at: SourceLocation(file: path, line: 1, column: 1), path: "", fix: "check that this is the spec you meant")
            return nil
        }
        let root: SpecNode
        do {
            root = try YAMLSpecParser.parse(text, file: path)
        } catch {
            log.append(error)
            return nil
        }
        guard let entries = root.entries else {
            log.error(
                "a spec file must be a map of settings, found \(root.kindDescription)", at: root.location, path: "",
                fix: "start the file with `app:`")
            return nil
        }
        let name = environmentName(of: path)
        guard let extendsEntry = entries.first(where: { $0.key == "extends" }) else {
            return EnvironmentSource(name: name, files: [path], root: root)
        }
        guard case .string(let baseName) = extendsEntry.value.value, !baseName.isEmpty else {
            log.error(
                "`extends` must name another environment, found \(extendsEntry.value.kindDescription)",
                at: extendsEntry.value.location, path: "extends", fix: "write `extends: base`")
            return nil
        }
        // Only a sibling: `extends: ../secrets/x` must not read files outside the folder.
        guard !baseName.contains("/"), !baseName.hasPrefix(".") else {
            log.error(
                "`extends: \(baseName)` leaves the environments folder", at: extendsEntry.value.location, path: "extends",
                fix: "name an environment in the same folder, such as `extends: base`")
            return nil
        }
        let basePath = resolve(baseName, nextTo: path)
        if chain.contains(basePath) || basePath == path {
            log.error(
                "`extends: \(baseName)` makes a cycle: \((chain + [path, basePath]).joined(separator: " → "))",
                at: extendsEntry.value.location, path: "extends", fix: "remove `extends` from one of these files")
            return nil
        }
        guard files.exists(basePath) else {
            let directory = Paths.directory(of: path)
            let available = ((try? files.list(directory)) ?? []).filter { $0.hasSuffix(".yaml") && $0 != Paths.fileName(of: path) }
                .map(environmentName(of:))
            let hint = Suggestion.didYouMean(baseName, in: available).map { "\($0) " } ?? ""
            log.error(
                "`extends: \(baseName)` names \(basePath), which does not exist", at: extendsEntry.value.location, path: "extends",
                fix: "\(hint)environments here: \(available.joined(separator: ", "))")
            return nil
        }
        guard let base = load(path: basePath, using: files, log: log, chain: chain + [path]) else { return nil }
        let own = SpecNode(.map(entries.filter { $0.key != "extends" }), at: root.location)
        return EnvironmentSource(name: name, files: base.files + [path], root: own.merged(over: base.root))
    }

    private static func resolve(_ baseName: String, nextTo path: String) -> String {
        let fileName = baseName.hasSuffix(".yaml") || baseName.hasSuffix(".yml") ? baseName : baseName + ".yaml"
        return Paths.join(Paths.directory(of: path), fileName)
    }
}
