import Foundation
import NIOCore
import NIOHTTP1

extension RegistryClient {
    /// Puts the manifest under `tag` and checks the registry computed the digest we did.
    func putManifest(_ manifest: Blob, tag: String) async throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: manifest.path))
        let response = try await send(
            .PUT, "/v2/\(reference.repository)/manifests/\(tag)", headers: [("Content-Type", OCIMediaType.manifest)],
            body: ByteBuffer(bytes: bytes))
        guard response.status == .created else { throw Self.describe(response, doing: "putting the manifest") }
        if let digest = response.headers.first(name: "Docker-Content-Digest"), digest != manifest.digest {
            throw ImageError("the registry stored the manifest as \(digest), not \(manifest.digest)")
        }
    }
}
