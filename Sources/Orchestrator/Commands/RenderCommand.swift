import ArgumentParser
import Foundation
import Manifests

struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Render fly.toml, Kubernetes manifests, redis.conf and PostgreSQL tuning for an environment.",
        discussion: """
            Without --out, prints the result: all files, each after a '# ==> PATH <==' line; with \
            --target kubernetes, one multi-document YAML stream that kubectl can read.
            """
    )

    enum TargetChoice: String, ExpressibleByArgument, CaseIterable {
        case fly, kubernetes, all
    }

    @Argument(help: "The environment (prod) or its spec file.")
    var environment: String

    @Option(help: "Which platform's files to render.")
    var target: TargetChoice = .all

    @Option(help: "Write the files into this folder instead of printing them.")
    var out: String?

    @Option(help: "The image to deploy, ideally by digest (REPO@sha256:...). Default: the spec's repository, tag 'unreleased'.")
    var image: String?

    @OptionGroup var locations: SpecLocationOptions

    func run() throws {
        let files = DiskFiles()
        let path = EnvironmentArguments.path(for: environment, in: locations.environmentsDirectory)
        let spec: EnvironmentSpec
        switch SpecLoader.load(path: path, using: files) {
        case .success(let loaded): spec = loaded
        case .failure(let failure):
            for diagnostic in failure.diagnostics { Terminal.error(diagnostic.description) }
            Terminal.error("\(path) is not valid; nothing was rendered.")
            throw ExitCodes.invalid
        }
        try checkTargetConfigured(spec)
        let targets: Set<RenderOptions.Target> =
            target == .all ? Set(RenderOptions.Target.allCases) : [RenderOptions.Target(rawValue: target.rawValue) ?? .fly]
        let rendered: [RenderedFile]
        do {
            rendered = try Renderer.render(
                spec, options: RenderOptions(targets: targets, image: image),
                templates: TemplateSet(directory: locations.templatesDirectory, files: files))
        } catch {
            for diagnostic in error.diagnostics { Terminal.error(diagnostic.description) }
            throw ExitCodes.invalid
        }
        if let out {
            try write(rendered, to: out)
        } else {
            printFiles(rendered)
        }
    }

    private func checkTargetConfigured(_ spec: EnvironmentSpec) throws {
        let missing = (target == .fly && spec.targets.fly == nil) || (target == .kubernetes && spec.targets.kubernetes == nil)
        if missing {
            Terminal.error(
                "error: \(spec.name) has no `targets.\(target.rawValue)` in \(spec.files.last ?? "its spec"); add one to render for \(target.rawValue)"
            )
            throw ExitCodes.invalid
        }
    }

    private func printFiles(_ files: [RenderedFile]) {
        switch target {
        case .kubernetes:
            let objects = files.filter { $0.path.hasPrefix("kubernetes/") }
            Terminal.out(objects.map { $0.contents.trimmingCharacters(in: .newlines) }.joined(separator: "\n---\n"))
        case .fly:
            if let fly = files.first(where: { $0.path == "fly.toml" }) { print(fly.contents, terminator: "") }
        case .all:
            for file in files {
                Terminal.out("# ==> \(file.path) <==")
                print(file.contents, terminator: "")
            }
        }
    }

    /// Removes what an earlier render wrote and this one does not (an HPA after scaling was
    /// fixed, say), so it does not linger in the folder; files of anyone else's stay.
    private func write(_ files: [RenderedFile], to directory: String) throws {
        let manager = FileManager.default
        let writing = Set(files.map(\.path))
        for path in Renderer.possiblePaths.subtracting(writing).sorted() {
            let full = "\(directory)/\(path)"
            guard let contents = try? String(contentsOfFile: full, encoding: .utf8), Renderer.wroteFile(contents) else { continue }
            try manager.removeItem(atPath: full)
        }
        for file in files {
            let path = "\(directory)/\(file.path)"
            let folder = (path as NSString).deletingLastPathComponent
            try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data(file.contents.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            Terminal.out(path)
        }
    }
}
