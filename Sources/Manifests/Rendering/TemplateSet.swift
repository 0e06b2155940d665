/// The plain base files in `templates/` that rendered output is merged into.
public struct TemplateSet: Sendable {
    public var directory: String
    public var files: any FileReading

    public init(directory: String, files: any FileReading) {
        self.directory = directory
        self.files = files
    }

    func yaml(_ name: String) throws(SpecErrors) -> ManifestValue {
        let path = Paths.join(directory, name)
        do {
            return try YAMLDocument.parse(try text(path), file: path)
        } catch {
            throw SpecErrors(diagnostics: [error])
        }
    }

    func toml(_ name: String) throws(SpecErrors) -> ManifestValue {
        let path = Paths.join(directory, name)
        do {
            return try TOMLReader.parse(try text(path), file: path)
        } catch {
            throw SpecErrors(diagnostics: [error])
        }
    }

    func text(_ path: String) throws(Diagnostic) -> String {
        do {
            return try files.read(path)
        } catch {
            throw Diagnostic(
                location: nil, path: "", message: "the template \(path) cannot be read (\(error))",
                fix: "restore it from the repository, or pass --templates with the folder that holds it")
        }
    }
}
