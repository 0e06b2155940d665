import Foundation
import NIOCore
import NIOHTTP1

extension RegistryClient {
    /// Uploads a blob unless the registry has it; returns whether it was uploaded.
    func push(_ blob: Blob) async throws -> Bool {
        let repository = reference.repository
        let head = try await send(.HEAD, "/v2/\(repository)/blobs/\(blob.digest)")
        if head.status == .ok { return false }
        let start = try await send(.POST, "/v2/\(repository)/blobs/uploads/")
        guard start.status == .accepted, let location = start.headers.first(name: "Location") else {
            throw Self.describe(start, doing: "starting the upload of \(blob.digest)")
        }
        // Distribution 2.8 wants POST then one PUT with the digest; the Location may be relative.
        let separator = location.contains("?") ? "&" : "?"
        let target = location + separator + "digest=" + blob.digest
        let data = try Data(contentsOf: URL(fileURLWithPath: blob.path))
        let finish = try await send(
            .PUT, target, headers: [("Content-Type", "application/octet-stream")], body: ByteBuffer(bytes: data))
        guard finish.status == .created else { throw Self.describe(finish, doing: "uploading \(blob.digest)") }
        return true
    }
}
