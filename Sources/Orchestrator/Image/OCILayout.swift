import Crypto
import Foundation

/// An OCI image layout folder (`oci-layout`, `index.json`, `blobs/sha256/`): where `build`
/// writes the image, readable by skopeo and umoci, and what `push` uploads from.
struct OCILayout: Sendable {
    let root: String

    var blobsDirectory: String { root + "/blobs/sha256" }

    init(root: String) throws {
        self.root = root
        try FileManager.default.createDirectory(atPath: root + "/blobs/sha256", withIntermediateDirectories: true)
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: root + "/oci-layout"))
    }

    func path(of digest: String) -> String {
        blobsDirectory + "/" + digest.replacingOccurrences(of: "sha256:", with: "")
    }

    /// Moves a finished temporary file to its content address.
    func adopt(_ temporary: String, digest: String, size: Int) throws -> Blob {
        let target = path(of: digest)
        try? FileManager.default.removeItem(atPath: target)
        guard rename(temporary, target) == 0 else { throw ImageError("cannot move \(temporary) to \(target)") }
        return Blob(digest: digest, size: size, path: target)
    }

    func write(_ bytes: [UInt8]) throws -> Blob {
        let digest = "sha256:" + LayerBuilder.hex(SHA256.hash(data: bytes))
        try Data(bytes).write(to: URL(fileURLWithPath: path(of: digest)))
        return Blob(digest: digest, size: bytes.count, path: path(of: digest))
    }

    /// Points `index.json` at the manifest under `tag` (skopeo's `oci:DIR:TAG`).
    func writeIndex(manifest: Blob, tag: String) throws {
        let index: [String: Any] = [
            "schemaVersion": 2,
            "manifests": [
                [
                    "mediaType": OCIMediaType.manifest, "digest": manifest.digest, "size": manifest.size,
                    "annotations": ["org.opencontainers.image.ref.name": tag],
                ]
            ],
        ]
        let data = try JSONSerialization.data(withJSONObject: index, options: [.sortedKeys])
        try data.write(to: URL(fileURLWithPath: root + "/index.json"))
    }
}

enum OCIMediaType {
    static let manifest = "application/vnd.oci.image.manifest.v1+json"
    static let config = "application/vnd.oci.image.config.v1+json"
    static let layer = "application/vnd.oci.image.layer.v1.tar+gzip"
}
