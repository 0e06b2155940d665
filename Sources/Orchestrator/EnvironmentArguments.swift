import Manifests

/// Turns `prod`, `environments/prod.yaml` or nothing (all environments) into spec file paths.
enum EnvironmentArguments {
    static func paths(for arguments: [String], in directory: String, files: some FileReading) throws -> [String] {
        if arguments.isEmpty {
            let names = try files.list(directory).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
            return names.map { directory.hasSuffix("/") ? directory + $0 : "\(directory)/\($0)" }
        }
        return arguments.map { path(for: $0, in: directory) }
    }

    static func path(for argument: String, in directory: String) -> String {
        if argument.contains("/") || argument.hasSuffix(".yaml") || argument.hasSuffix(".yml") {
            return argument
        }
        return directory.hasSuffix("/") ? "\(directory)\(argument).yaml" : "\(directory)/\(argument).yaml"
    }
}
