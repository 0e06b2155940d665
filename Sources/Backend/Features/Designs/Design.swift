import Foundation
import NIOCore

/// A saved harness design: the configurator's document, and private notes encrypted at rest.
/// The document stays the JSON text PostgreSQL returned and is spliced into responses as is:
/// decoding and re-encoding every document was most of a list request's cost.
struct Design: Sendable {
    var id: UUID
    var name: String
    /// Valid JSON (PostgreSQL's `jsonb::text`).
    var documentJSON: String
    var privateNotes: String?
    var createdAt: Date
    /// RFC 3339 in UTC with milliseconds, formatted by PostgreSQL.
    var createdAtText: String
    var updatedAtText: String

    func write(into buffer: inout ByteBuffer) {
        buffer.writeStaticString("{\"createdAt\":")
        buffer.writeJSONString(createdAtText)
        buffer.writeStaticString(",\"document\":")
        buffer.writeString(documentJSON)
        buffer.writeStaticString(",\"id\":")
        buffer.writeJSONString(id.uuidString.lowercased())
        buffer.writeStaticString(",\"name\":")
        buffer.writeJSONString(name)
        buffer.writeStaticString(",\"privateNotes\":")
        if let privateNotes { buffer.writeJSONString(privateNotes) } else { buffer.writeStaticString("null") }
        buffer.writeStaticString(",\"updatedAt\":")
        buffer.writeJSONString(updatedAtText)
        buffer.writeStaticString("}")
    }

    var json: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(documentJSON.utf8.count + name.utf8.count + 200)
        write(into: &buffer)
        return buffer
    }

    static func page(_ designs: [Design], nextCursor: String?) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(designs.reduce(64) { $0 + $1.documentJSON.utf8.count + $1.name.utf8.count + 200 })
        buffer.writeStaticString("{\"items\":[")
        for (index, design) in designs.enumerated() {
            if index > 0 { buffer.writeStaticString(",") }
            design.write(into: &buffer)
        }
        buffer.writeStaticString("],\"nextCursor\":")
        if let nextCursor { buffer.writeJSONString(nextCursor) } else { buffer.writeStaticString("null") }
        buffer.writeStaticString("}")
        return buffer
    }
}

extension ByteBuffer {
    /// A JSON string literal with the escapes RFC 8259 requires.
    mutating func writeJSONString(_ text: String) {
        writeStaticString("\"")
        var start = text.utf8.startIndex
        for index in text.utf8.indices {
            let byte = text.utf8[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            writeSubstring(text[start..<index])
            switch byte {
            case UInt8(ascii: "\""): writeStaticString("\\\"")
            case UInt8(ascii: "\\"): writeStaticString("\\\\")
            case UInt8(ascii: "\n"): writeStaticString("\\n")
            case UInt8(ascii: "\r"): writeStaticString("\\r")
            case UInt8(ascii: "\t"): writeStaticString("\\t")
            default:
                let hex = String(byte, radix: 16)
                writeString("\\u00" + (hex.count == 1 ? "0" : "") + hex)
            }
            start = text.utf8.index(after: index)
        }
        writeSubstring(text[start...])
        writeStaticString("\"")
    }
}

/// What a client sends to create or replace a design.
struct DesignInput: Decodable, StrictlyDecodable, Sendable {
    static let allowedKeys: Set<String> = ["name", "document", "privateNotes"]

    var name: String
    var document: JSONValue
    var privateNotes: String?

    /// Checks beyond the shape, each with a message the client can act on.
    func validated() throws -> DesignInput {
        var copy = self
        copy.name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...200).contains(copy.name.count) else { throw APIError.badRequest("`name` must be 1 to 200 characters") }
        guard case .object = document else { throw APIError.badRequest("`document` must be a JSON object") }
        if name.containsNUL || document.containsNUL || privateNotes?.containsNUL == true {
            throw APIError.badRequest("text must not contain the NUL character (\\u0000)")
        }
        if let notes = privateNotes, notes.count > 4000 { throw APIError.badRequest("`privateNotes` must be at most 4000 characters") }
        return copy
    }
}

enum APIJSON {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}
