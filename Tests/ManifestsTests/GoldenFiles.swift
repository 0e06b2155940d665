import Foundation
import Testing

@testable import Manifests

/// Compares rendered files with the expected ones kept in `Golden/<scenario>/`. Run with
/// `UPDATE_GOLDEN=1` to rewrite them after an intended change, then review the diff.
enum GoldenFiles {
    static let directory = SpecFixtures.repositoryRoot + "/Tests/ManifestsTests/Golden"

    static func check(_ files: [RenderedFile], scenario: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let folder = "\(directory)/\(scenario)"
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            let before = Dictionary(
                uniqueKeysWithValues: try allFiles(in: folder).map { ($0, try? String(contentsOfFile: "\(folder)/\($0)", encoding: .utf8)) }
            )
            try? FileManager.default.removeItem(atPath: folder)
            for file in files {
                let path = "\(folder)/\(file.path)"
                try FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try Data(file.contents.utf8).write(to: URL(fileURLWithPath: path))
            }
            // A run that rewrites golden files never passes: what it wrote still has to be read.
            let changed = Set(before.keys).union(files.map(\.path)).sorted().filter { path in
                before[path] ?? nil != files.first { $0.path == path }?.contents
            }
            if !changed.isEmpty {
                Issue.record(
                    "rewrote \(scenario)/: \(changed.joined(separator: ", ")); review the diff and run again without UPDATE_GOLDEN",
                    sourceLocation: sourceLocation)
            }
            return
        }
        let expectedPaths = try allFiles(in: folder)
        #expect(files.map(\.path).sorted() == expectedPaths, "rendered files differ from \(folder)", sourceLocation: sourceLocation)
        for file in files {
            let expected = try? String(contentsOfFile: "\(folder)/\(file.path)", encoding: .utf8)
            #expect(file.contents == expected, "\(scenario)/\(file.path) differs from its golden file", sourceLocation: sourceLocation)
        }
    }

    private static func allFiles(in folder: String) throws -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return [] }
        var paths: [String] = []
        while let path = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: "\(folder)/\(path)", isDirectory: &isDirectory), !isDirectory.boolValue {
                paths.append(path)
            }
        }
        return paths.sorted()
    }

    /// The shipped templates as an in-memory file set, with a scenario's own files laid over them.
    static func files(environments: [String: String], templateOverrides: [String: String] = [:]) throws -> InMemoryFiles {
        var files: [String: String] = [:]
        let root = SpecFixtures.repositoryRoot + "/templates"
        for name in try FileManager.default.subpathsOfDirectory(atPath: root)
        where name.hasSuffix(".yaml") || name.hasSuffix(".toml") || name.hasSuffix(".conf") {
            files["templates/\(name)"] = try String(contentsOfFile: "\(root)/\(name)", encoding: .utf8)
        }
        for (name, text) in templateOverrides { files["templates/\(name)"] = text }
        for (name, text) in environments { files["environments/\(name)"] = text }
        return InMemoryFiles(files)
    }
}
