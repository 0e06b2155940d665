import Crypto
import Foundation

/// One file, folder or link of a layer, by its path inside the image (no leading slash).
struct LayerEntry: Sendable {
    enum Content: Sendable {
        case directory
        /// Copied from this file on the build machine.
        case file(source: String)
        case bytes([UInt8])
        case symlink(to: String)
    }

    var path: String
    var content: Content
    var mode: Int
    var owner: Int = 0
}

/// A content-addressed blob in an OCI layout's `blobs/sha256/`.
struct Blob: Sendable, Equatable {
    var digest: String
    var size: Int
    var path: String
}

struct Layer: Sendable {
    var blob: Blob
    /// sha256 of the uncompressed tar, for the config's `rootfs.diff_ids`.
    var diffID: String
}

/// Streams entries into a gzipped tar, hashing both forms on the way; nothing is held in memory
/// beyond one chunk.
enum LayerBuilder {
    static func build(_ entries: [LayerEntry], into layout: OCILayout) throws -> Layer {
        let sorted = withParentDirectories(entries).sorted { $0.path < $1.path }
        let temporary = layout.blobsDirectory + "/.layer-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: temporary, contents: nil)
        guard let output = FileHandle(forWritingAtPath: temporary) else { throw ImageError("cannot write \(temporary)") }
        defer { try? output.close() }
        var tarHash = SHA256()
        var gzipHash = SHA256()
        var compressedSize = 0
        let gzip = try GzipCompressor()
        let sink: (UnsafeRawBufferPointer) throws -> Void = { chunk in
            gzipHash.update(bufferPointer: chunk)
            compressedSize += chunk.count
            try output.write(contentsOf: Data(chunk))
        }
        func emit(_ bytes: [UInt8]) throws {
            guard !bytes.isEmpty else { return }
            try bytes.withUnsafeBytes { buffer in
                tarHash.update(bufferPointer: buffer)
                try gzip.compress(buffer, sink: sink)
            }
        }
        for entry in sorted {
            switch entry.content {
            case .directory:
                try emit(TarHeader.make(path: entry.path, kind: .directory, size: 0, mode: entry.mode, owner: entry.owner))
            case .symlink(let target):
                try emit(TarHeader.make(path: entry.path, kind: .symlink, size: 0, mode: entry.mode, linkTarget: target))
            case .bytes(let bytes):
                try emit(TarHeader.make(path: entry.path, kind: .file, size: bytes.count, mode: entry.mode, owner: entry.owner))
                try emit(bytes)
                try emit(TarHeader.padding(after: bytes.count))
            case .file(let source):
                let size = try fileSize(source)
                try emit(TarHeader.make(path: entry.path, kind: .file, size: size, mode: entry.mode, owner: entry.owner))
                guard let input = FileHandle(forReadingAtPath: source) else { throw ImageError("cannot read \(source)") }
                defer { try? input.close() }
                var copied = 0
                while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                    try emit(Array(chunk))
                    copied += chunk.count
                }
                guard copied == size else { throw ImageError("\(source) changed size while it was being packed") }
                try emit(TarHeader.padding(after: size))
            }
        }
        try emit(TarHeader.end)
        try gzip.finish(sink: sink)
        let digest = "sha256:" + hex(gzipHash.finalize())
        let blob = try layout.adopt(temporary, digest: digest, size: compressedSize)
        return Layer(blob: blob, diffID: "sha256:" + hex(tarHash.finalize()))
    }

    /// Tar readers create missing parents with default modes; listing them keeps modes fixed.
    static func withParentDirectories(_ entries: [LayerEntry]) -> [LayerEntry] {
        var byPath: [String: LayerEntry] = [:]
        for entry in entries { byPath[entry.path] = entry }
        for entry in entries {
            var parent = (entry.path as NSString).deletingLastPathComponent
            while !parent.isEmpty, byPath[parent] == nil {
                byPath[parent] = LayerEntry(path: parent, content: .directory, mode: 0o755)
                parent = (parent as NSString).deletingLastPathComponent
            }
        }
        return Array(byPath.values)
    }

    static func fileSize(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.size] as? NSNumber)?.intValue ?? 0
    }

    static func hex(_ digest: some Sequence<UInt8>) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
