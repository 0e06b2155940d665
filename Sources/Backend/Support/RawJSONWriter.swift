import Foundation
import NIOCore

/// Writes JSON bytes straight into memory reserved beforehand. A page of designs was 12 % of a
/// list request's CPU when written through `ByteBuffer`'s per-call capacity and uniqueness
/// checks; here each byte is one store. The caller reserves enough room (`worstCase` helpers),
/// and every write checks it anyway, so a wrong estimate stops the process instead of
/// corrupting memory.
struct RawJSONWriter: ~Copyable {
    private let memory: UnsafeMutableRawBufferPointer
    private(set) var count = 0

    init(_ memory: UnsafeMutableRawBufferPointer) {
        self.memory = memory
    }

    /// The most bytes `string(_:)` writes for text of `utf8Count` bytes: quotes and `\u00XX` for each.
    static func worstCase(string utf8Count: Int) -> Int { 2 + 6 * utf8Count }

    mutating func byte(_ value: UInt8) {
        precondition(count < memory.count, "RawJSONWriter: reserved too little")
        memory[count] = value
        count += 1
    }

    mutating func ascii(_ text: StaticString) {
        raw(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func raw(_ bytes: UnsafeRawBufferPointer) {
        precondition(count + bytes.count <= memory.count, "RawJSONWriter: reserved too little")
        guard let source = bytes.baseAddress, let target = memory.baseAddress else { return }
        (target + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    /// A JSON string literal with the escapes RFC 8259 requires; text that needs none is one copy.
    mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { string(bytes: UnsafeRawBufferPointer($0)) }
    }

    mutating func string(bytes: UnsafeRawBufferPointer) {
        byte(UInt8(ascii: "\""))
        var start = 0
        for index in bytes.indices {
            let value = bytes[index]
            guard value < 0x20 || value == UInt8(ascii: "\"") || value == UInt8(ascii: "\\") else { continue }
            raw(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
            switch value {
            case UInt8(ascii: "\""): ascii("\\\"")
            case UInt8(ascii: "\\"): ascii("\\\\")
            case UInt8(ascii: "\n"): ascii("\\n")
            case UInt8(ascii: "\r"): ascii("\\r")
            case UInt8(ascii: "\t"): ascii("\\t")
            default:
                ascii("\\u00")
                byte(Self.hexDigits[Int(value >> 4)])
                byte(Self.hexDigits[Int(value & 0x0F)])
            }
            start = index + 1
        }
        raw(UnsafeRawBufferPointer(rebasing: bytes[start...]))
        byte(UInt8(ascii: "\""))
    }

    /// `3f2b8c1e-6a7d-4e1f-9c2b-1a2b3c4d5e6f`, as a string literal.
    mutating func uuid(_ id: UUID) {
        byte(UInt8(ascii: "\""))
        withUnsafeBytes(of: id.uuid) { bytes in
            for (index, value) in bytes.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 { byte(UInt8(ascii: "-")) }
                byte(Self.hexDigits[Int(value >> 4)])
                byte(Self.hexDigits[Int(value & 0x0F)])
            }
        }
        byte(UInt8(ascii: "\""))
    }

    /// `value` in decimal, zero-padded to `width` digits (more when it needs them). The widths a
    /// timestamp uses divide by constants, which compile to multiplications: a page of designs
    /// writes fourteen numbers per row.
    mutating func digits(_ value: Int64, width: Int) {
        switch (width, value) {
        case (2, 0...99):
            digit(value / 10)
            digit(value % 10)
        case (3, 0...999):
            digit(value / 100)
            digit(value / 10 % 10)
            digit(value % 10)
        case (4, 0...9_999):
            digit(value / 1_000)
            digit(value / 100 % 10)
            digit(value / 10 % 10)
            digit(value % 10)
        default:
            var power: Int64 = 1
            var digitCount = 1
            while digitCount < width || power <= max(0, value) / 10 {
                power *= 10
                digitCount += 1
            }
            while power > 0 {
                digit(max(0, value) / power % 10)
                power /= 10
            }
        }
    }

    private mutating func digit(_ value: Int64) {
        byte(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: value))
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}

extension ByteBuffer {
    /// Reserves `upTo` bytes and lets `body` write at most that many.
    mutating func writeJSON(upTo bound: Int, _ body: (inout RawJSONWriter) -> Void) {
        writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { memory in
            var writer = RawJSONWriter(UnsafeMutableRawBufferPointer(rebasing: memory[0..<bound]))
            body(&writer)
            return writer.count
        }
    }

    /// A JSON string literal with the escapes RFC 8259 requires.
    mutating func writeJSONString(_ text: String) {
        writeJSON(upTo: RawJSONWriter.worstCase(string: text.utf8.count)) { $0.string(text) }
    }
}
