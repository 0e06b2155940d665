import Foundation
import TestSupport
import Testing

@testable import Orchestrator

/// promote's image copy between two real registries (one behind basic auth), checked by skopeo.
@Suite(.serialized) struct ImageCopyTests {
    struct Silent: ProgressReporter {
        func step(_ message: String) {}
        func instance(_ name: String, _ state: String) {}
    }

    @Test func anImageIsCopiedToAnotherRegistryByDigestAndReadBack() async throws {
        let source = try LocalRegistry()
        let destination = try LocalRegistry(auth: .basic(user: "deployer", password: "correct-horse-battery"))
        let scratch = try LocalProcess.temporaryDirectory("image-copy")
        defer {
            source.stop()
            destination.stop()
            try? FileManager.default.removeItem(atPath: scratch)
        }
        let petBackend = URL(fileURLWithPath: CommandRunner.executable).deletingLastPathComponent().appendingPathComponent("pet-backend")
            .path
        let built = try await CommandRunner.run(
            ["build", "--binary", petBackend, "--out", scratch + "/image", "--push", "\(source.host)/staging/pet-backend"])
        #expect(built.status == 0, "\(built.stderr)")
        let digest = String(built.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "@").last ?? "")

        let credentials = RegistryClient.Credentials(username: "deployer", password: "correct-horse-battery")
        let copy = ImageCopy(
            source: RegistryClient(reference: try RegistryReference(parsing: "\(source.host)/staging/pet-backend"), credentials: nil),
            destination: RegistryClient(
                reference: try RegistryReference(parsing: "\(destination.host)/prod/pet-backend"), credentials: credentials))
        let copied = try await copy.copy(digest: digest, progress: Silent())
        #expect(copied == "\(destination.host)/prod/pet-backend@\(digest)")
        let skopeo = try #require(LocalProcess.executable("skopeo", searching: ["/usr/sbin"]), "skopeo is not installed")
        let log = scratch + "/skopeo.log"
        let status = try await LocalPostgres.run(
            skopeo, ["inspect", "--no-tags", "--tls-verify=false", "--creds", "deployer:correct-horse-battery", "docker://\(copied)"],
            log: log)
        let inspected = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(status == 0, "\(inspected)")
        let manifest = try JSONSerialization.jsonObject(with: Data(inspected.utf8)) as? [String: Any]
        #expect(manifest?["Digest"] as? String == digest)
        // Copying again finds every blob there and puts the same manifest.
        #expect(try await copy.copy(digest: digest, progress: Silent()) == copied)

        let missing = "sha256:" + String(repeating: "0", count: 64)
        await #expect(throws: ImageError.self) { try await copy.copy(digest: missing, progress: Silent()) }
    }
}
