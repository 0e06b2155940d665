/// Everything that was wrong with one environment.
public struct SpecErrors: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}

/// Loads, merges, reads and checks one environment: the single entry point for the CLI and tests.
public enum SpecLoader {
    public static func load(path: String, using files: FileReading = DiskFiles()) -> Result<EnvironmentSpec, SpecErrors> {
        let log = DiagnosticLog()
        guard let source = EnvironmentLoader.load(path: path, using: files, log: log),
            let spec = EnvironmentSpec.read(source, log: log)
        else {
            return .failure(SpecErrors(diagnostics: log.sorted))
        }
        SpecChecks.run(spec, log: log)
        return log.isEmpty ? .success(spec) : .failure(SpecErrors(diagnostics: log.sorted))
    }
}
