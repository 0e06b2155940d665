import Foundation

/// A saved harness design: the configurator's document, and private notes encrypted at rest.
struct Design: Codable, Sendable, Equatable {
    var id: UUID
    var name: String
    var document: JSONValue
    var privateNotes: String?
    var createdAt: Date
    var updatedAt: Date
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

struct DesignPage: Encodable, Sendable {
    var items: [Design]
    var nextCursor: String?
}

enum APIJSON {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}
