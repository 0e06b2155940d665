import ArgumentParser
import Foundation
import ProcessSupport

struct BuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build", abstract: "Build pet-backend and pack it into a reproducible OCI image; optionally push it.",
        discussion: """
            Builds in release mode (or packs --binary), writes an OCI image layout to --out, and with \
            --push uploads it over the OCI Distribution API. stdout carries only the image reference \
            with its digest (REPOSITORY@sha256:...); progress goes to stderr. For a registry with a \
            password, pass --username and put the password in REGISTRY_PASSWORD.
            """)

    @Option(help: "Pack this pet-backend binary instead of building one.")
    var binary: String?

    @Option(help: "Push to this repository: HOST[:PORT]/NAME[:TAG] (loopback registries over HTTP).")
    var push: String?

    @Option(help: "The tag to push under. Default: the tag in --push, else the version (git describe).")
    var tag: String?

    @Option(help: "Where to write the OCI image layout.")
    var out = ".orchestrate/image"

    @Option(help: "Registry user; the password is read from REGISTRY_PASSWORD, never from the command line.")
    var username: String?

    func run() async throws {
        try await FailureReport.reporting {
            let progress = Progress.reporter()
            let binary: String
            if let given = self.binary {
                binary = given
            } else {
                binary = try await buildRelease(progress: progress)
            }
            let version = await Git.output(["describe", "--tags", "--always", "--dirty"]) ?? "dev"
            let revision = await Git.output(["rev-parse", "HEAD"]) ?? "unknown"
            let metadata = ImageMetadata(
                title: "pet-backend", version: version, revision: revision, port: 3001,
                entrypoint: ["/" + ImageAssembler.binaryPath], command: ["serve"])
            let layout = try OCILayout(root: out)
            let image = try await ImageAssembler.build(binary: binary, metadata: metadata, layout: layout, progress: progress)
            progress.step(
                "image \(image.manifest.digest) written to \(out) (layers: \(image.layers.map { ByteCount.describe($0.blob.size) }.joined(separator: ", ")))"
            )
            guard let push else {
                Terminal.out("\(out)@\(image.manifest.digest)")
                return
            }
            let reference = try RegistryReference(parsing: push)
            let client = RegistryClient(reference: reference, credentials: try credentials())
            for blob in image.layers.map(\.blob) + [image.config] {
                let uploaded = try await client.push(blob)
                progress.step("\(uploaded ? "uploaded" : "already there, skipped") \(blob.digest) (\(ByteCount.describe(blob.size)))")
            }
            let pushTag = tag ?? reference.tag ?? version
            try await client.putManifest(image.manifest, tag: pushTag)
            progress.step("pushed \(reference):\(pushTag)")
            Terminal.out("\(reference)@\(image.manifest.digest)")
        }
    }

    private func credentials() throws -> RegistryClient.Credentials? {
        guard let username else { return nil }
        guard let password = ProcessInfo.processInfo.environment["REGISTRY_PASSWORD"], !password.isEmpty else {
            throw DeployFailure(kind: .invalid, message: "--username \(username) needs the password in REGISTRY_PASSWORD")
        }
        return RegistryClient.Credentials(username: username, password: password)
    }

    private func buildRelease(progress: any ProgressReporter) async throws -> String {
        progress.step("swift build -c release --product pet-backend")
        guard let swift = ProcessLauncher.executable("swift") else {
            throw DeployFailure(kind: .invalid, message: "swift is not on PATH; install the toolchain or pass --binary")
        }
        let log = NSTemporaryDirectory() + "orchestrate-build-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        let status = try await ProcessLauncher.run(
            swift, arguments: ["build", "-c", "release", "--product", "pet-backend"], environment: ProcessInfo.processInfo.environment,
            logPath: log, timeout: .seconds(3600))
        guard status == 0 else {
            let tail = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").suffix(30).joined(separator: "\n")
            throw DeployFailure(kind: .invalid, message: "swift build failed:\n\(tail)")
        }
        return ".build/release/pet-backend"
    }
}

enum Git {
    static func output(_ arguments: [String]) async -> String? {
        guard let git = ProcessLauncher.executable("git") else { return nil }
        let log = NSTemporaryDirectory() + "orchestrate-git-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: log) }
        let status = try? await ProcessLauncher.run(
            git, arguments: arguments, environment: ProcessInfo.processInfo.environment, logPath: log, timeout: .seconds(30))
        guard status == 0, let text = try? String(contentsOfFile: log, encoding: .utf8) else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }
}

enum ByteCount {
    static func describe(_ bytes: Int) -> String {
        bytes >= 1 << 20 ? String(format: "%.1f MB", Double(bytes) / 1_048_576) : String(format: "%.1f kB", Double(bytes) / 1024)
    }
}
