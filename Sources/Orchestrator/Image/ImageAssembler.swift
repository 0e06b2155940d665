import Foundation

/// What an image is made of besides its files.
struct ImageMetadata: Sendable {
    var title: String
    var version: String
    var revision: String
    var port: Int
    var entrypoint: [String]
    var command: [String]
}

struct BuiltImage: Sendable {
    var manifest: Blob
    var config: Blob
    var layers: [Layer]
    var tag: String
}

/// Two layers (runtime files, then the binary, so a rebuild only changes the second), an image
/// config and a manifest, all written as canonical JSON with no timestamps: the same inputs give
/// the same digest.
enum ImageAssembler {
    static let binaryPath = "usr/local/bin/pet-backend"

    static func build(binary: String, metadata: ImageMetadata, layout: OCILayout, progress: any ProgressReporter) async throws -> BuiltImage
    {
        progress.step(
            "packing the runtime layer (shared libraries, PostgreSQL client tools, CA certificates, zoneinfo, user \(RuntimeFiles.user.name))"
        )
        let runtime = try LayerBuilder.build(try await RuntimeFiles.entries(for: binary), into: layout)
        progress.step("packing the binary layer (\(binary))")
        let application = try LayerBuilder.build([LayerEntry(path: binaryPath, content: .file(source: binary), mode: 0o755)], into: layout)
        let layers = [runtime, application]
        let config: [String: Any] = [
            "architecture": architecture, "os": "linux",
            "config": [
                "User": "\(RuntimeFiles.user.id):\(RuntimeFiles.user.id)",
                "Entrypoint": metadata.entrypoint, "Cmd": metadata.command,
                "ExposedPorts": ["\(metadata.port)/tcp": [String: String]()],
                "Env": [
                    "PATH=/usr/local/bin:/usr/bin:/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt", "TZDIR=/usr/share/zoneinfo",
                ],
                "WorkingDir": "/home/\(RuntimeFiles.user.name)",
                "Labels": labels(metadata),
            ],
            "rootfs": ["type": "layers", "diff_ids": layers.map(\.diffID)],
            "history": [
                ["created_by": "orchestrate build: runtime files", "created": "1970-01-01T00:00:00Z"],
                ["created_by": "orchestrate build: \(metadata.title) \(metadata.version)", "created": "1970-01-01T00:00:00Z"],
            ],
        ]
        let configBlob = try layout.write(try canonical(config))
        let manifest: [String: Any] = [
            "schemaVersion": 2, "mediaType": OCIMediaType.manifest,
            "config": ["mediaType": OCIMediaType.config, "digest": configBlob.digest, "size": configBlob.size],
            "layers": layers.map { ["mediaType": OCIMediaType.layer, "digest": $0.blob.digest, "size": $0.blob.size] },
            "annotations": labels(metadata),
        ]
        let manifestBlob = try layout.write(try canonical(manifest))
        try layout.writeIndex(manifest: manifestBlob, tag: metadata.version)
        return BuiltImage(manifest: manifestBlob, config: configBlob, layers: layers, tag: metadata.version)
    }

    static func labels(_ metadata: ImageMetadata) -> [String: String] {
        [
            "org.opencontainers.image.title": metadata.title,
            "org.opencontainers.image.version": metadata.version,
            "org.opencontainers.image.revision": metadata.revision,
        ]
    }

    static func canonical(_ object: [String: Any]) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    static var architecture: String {
        #if arch(arm64)
            return "arm64"
        #else
            return "amd64"
        #endif
    }
}
