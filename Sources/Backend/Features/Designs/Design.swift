import Foundation
import NIOCore

/// A saved harness design: the configurator's document, and private notes encrypted at rest.
/// The document stays the JSON text PostgreSQL returned and is spliced into responses as is:
/// decoding and re-encoding every document was most of a list request's cost.
struct Design: Sendable {
    var id: UUID
    var name: String
    /// Valid JSON (PostgreSQL's `jsonb::text`).
    var documentJSON: ByteBuffer
    var privateNotes: String?
    var createdAt: PostgresTimestamp
    var updatedAt: PostgresTimestamp

    func write(into buffer: inout ByteBuffer) {
        let document = documentJSON
        buffer.writeJSON(upTo: worstCaseJSONBytes) { json in
            json.ascii("{\"createdAt\":")
            json.timestamp(createdAt)
            json.ascii(",\"document\":")
            document.withUnsafeReadableBytes { json.raw($0) }
            json.ascii(",\"id\":")
            json.uuid(id)
            json.ascii(",\"name\":")
            json.string(name)
            json.ascii(",\"privateNotes\":")
            if let privateNotes { json.string(privateNotes) } else { json.ascii("null") }
            json.ascii(",\"updatedAt\":")
            json.timestamp(updatedAt)
            json.ascii("}")
        }
    }

    /// Keys, punctuation, id, `null` and two timestamps take 163 bytes (years up to 9999; 4 more
    /// for the 6-digit years a timestamp can reach); the rest is room to spare.
    static let fixedJSONBytes = 200

    /// The most bytes `write(into:)` can take: the fixed text, and every character escaped.
    var worstCaseJSONBytes: Int {
        Self.fixedJSONBytes + documentJSON.readableBytes + RawJSONWriter.worstCase(string: name.utf8.count)
            + RawJSONWriter.worstCase(string: privateNotes?.utf8.count ?? 0)
    }

    var json: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(worstCaseJSONBytes)
        write(into: &buffer)
        return buffer
    }

    static func page(_ designs: [Design], nextCursor: String?) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(designs.reduce(64) { $0 + $1.worstCaseJSONBytes })
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
        // Counted as PostgreSQL's char_length counts (code points), not as Swift's grapheme
        // clusters: an accented letter written with a combining mark is two, a family emoji seven.
        guard (1...200).contains(copy.name.unicodeScalars.count) else {
            throw APIError.badRequest("`name` must be 1 to 200 characters (Unicode code points)")
        }
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
