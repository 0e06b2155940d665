import Crypto
import Foundation
import NIOCore

/// Copies one image, by digest, from one repository to another (another registry, or another
/// repository of the same one), as `skopeo copy` or `crane copy` would: blobs first, then the
/// manifest under its digest, and the digest the destination reports is checked.
struct ImageCopy {
    let source: RegistryClient
    let destination: RegistryClient

    /// Layers are read whole into memory on their way through; a pet-backend layer is tens of MB.
    static let largestBlob = 2 << 30

    /// Returns `destination@digest`.
    func copy(digest: String, progress: any ProgressReporter) async throws -> String {
        let accept = [OCIMediaType.manifest, "application/vnd.docker.distribution.manifest.v2+json"].joined(separator: ", ")
        let answer = try await source.send(.GET, "/v2/\(source.reference.repository)/manifests/\(digest)", headers: [("Accept", accept)])
        guard answer.status == .ok else { throw RegistryClient.describe(answer, doing: "reading the manifest \(digest)") }
        let manifest = Data(answer.body.readableBytesView)
        guard Self.digest(of: manifest) == digest else {
            throw ImageError("\(source.reference) answered a manifest whose digest is not \(digest); nothing was copied")
        }
        struct Manifest: Decodable {
            struct Descriptor: Decodable {
                var digest: String
                var size: Int
            }
            var mediaType: String?
            var config: Descriptor?
            var layers: [Descriptor]?
        }
        let parsed = try JSONDecoder().decode(Manifest.self, from: manifest)
        guard let config = parsed.config, let layers = parsed.layers else {
            throw ImageError("\(source.reference)@\(digest) is an image index; promote copies single-platform images only")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("orchestrate-copy-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for blob in [config] + layers {
            let head = try await destination.send(.HEAD, "/v2/\(destination.reference.repository)/blobs/\(blob.digest)")
            if head.status == .ok {
                progress.step("\(destination.reference) already has \(Table.short(blob.digest))")
                continue
            }
            let got = try await source.send(.GET, "/v2/\(source.reference.repository)/blobs/\(blob.digest)", limit: Self.largestBlob)
            guard got.status == .ok else { throw RegistryClient.describe(got, doing: "reading the blob \(blob.digest)") }
            let data = Data(got.body.readableBytesView)
            guard Self.digest(of: data) == blob.digest else {
                throw ImageError("\(source.reference) answered a blob whose digest is not \(blob.digest); nothing was promoted")
            }
            let path = folder + "/" + blob.digest.replacingOccurrences(of: ":", with: "-")
            try data.write(to: URL(fileURLWithPath: path))
            _ = try await destination.push(Blob(digest: blob.digest, size: data.count, path: path))
            progress.step("copied \(Table.short(blob.digest)) (\(ByteCount.describe(data.count))) to \(destination.reference)")
        }
        let put = try await destination.send(
            .PUT, "/v2/\(destination.reference.repository)/manifests/\(digest)",
            headers: [("Content-Type", parsed.mediaType ?? OCIMediaType.manifest)], body: ByteBuffer(bytes: manifest))
        guard put.status == .created else { throw RegistryClient.describe(put, doing: "putting the manifest \(digest)") }
        let reported = put.headers.first(name: "Docker-Content-Digest")
        guard reported == nil || reported == digest else {
            throw ImageError("\(destination.reference) stored the manifest as \(reported ?? "?"), not \(digest); do not deploy it")
        }
        // Read it back: the destination must serve exactly these bytes under this digest.
        let check = try await destination.send(
            .GET, "/v2/\(destination.reference.repository)/manifests/\(digest)", headers: [("Accept", accept)])
        guard check.status == .ok, Self.digest(of: Data(check.body.readableBytesView)) == digest else {
            throw ImageError("\(destination.reference) does not serve \(digest) after the copy (HTTP \(check.status.code))")
        }
        return "\(destination.reference)@\(digest)"
    }

    static func digest(of data: Data) -> String {
        "sha256:" + SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
