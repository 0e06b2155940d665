import CZlib
import Foundation

/// Streaming gzip through the system zlib. The header zlib writes carries no file name and a zero
/// timestamp, so the same input always gives the same bytes (what a reproducible layer needs).
final class GzipCompressor {
    private var stream = z_stream()
    private var output = [UInt8](repeating: 0, count: 256 * 1024)

    init(level: Int32 = 6) throws {
        // windowBits 15 + 16: a gzip wrapper instead of a zlib one.
        let status = deflateInit2_(
            &stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw ImageError("zlib could not start (status \(status))") }
    }

    deinit {
        deflateEnd(&stream)
    }

    /// Compresses `input` and hands every produced chunk to `sink`.
    func compress(_ input: UnsafeRawBufferPointer, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try run(input, flush: Z_NO_FLUSH, sink: sink)
    }

    func finish(sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try run(UnsafeRawBufferPointer(start: nil, count: 0), flush: Z_FINISH, sink: sink)
    }

    private func run(_ input: UnsafeRawBufferPointer, flush: Int32, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        var status: Int32 = Z_OK
        repeat {
            let produced = try output.withUnsafeMutableBytes { buffer -> Int in
                stream.next_out = buffer.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(buffer.count)
                status = deflate(&stream, flush)
                guard status != Z_STREAM_ERROR else { throw ImageError("zlib failed while compressing") }
                return buffer.count - Int(stream.avail_out)
            }
            if produced > 0 {
                try output.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
            }
        } while stream.avail_out == 0 || (flush == Z_FINISH && status != Z_STREAM_END)
    }
}

struct ImageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
