import Foundation
import Hummingbird

/// Request bodies: size-limited, valid UTF-8 JSON, and decoded strictly (unknown fields are an
/// error, so a typo in a field name is reported instead of silently ignored).
enum JSONBody {
    static func data(_ request: Request, limit: Int) async throws -> Data {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, code: "body_too_large", "the request body is larger than \(limit) bytes")
        }
        return Data(buffer: buffer)
    }

    static func decode<T: Decodable & StrictlyDecodable>(_ type: T.Type, from data: Data) throws -> T {
        guard !data.isEmpty else { throw APIError.badRequest("the request body is empty; send a JSON object") }
        guard String(validating: data, as: UTF8.self) != nil else { throw APIError.badRequest("the request body is not valid UTF-8") }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw APIError.badRequest("the request body is not valid JSON")
        }
        if hasTrailingComma(data) { throw APIError.badRequest("the request body is not valid JSON (a trailing comma)") }
        try checkKeys(object, allowed: T.allowedKeys)
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            return try decoder.decode(T.self, from: data)
        } catch let error as DecodingError {
            throw APIError.badRequest(describe(error))
        }
    }

    /// Foundation's parser accepts `{"a":1,}` and `[1,]`, which JSON (RFC 8259) does not; a
    /// comma followed, outside strings, by only whitespace and a closing bracket.
    static func hasTrailingComma(_ data: Data) -> Bool {
        var inString = false
        var escaped = false
        var pendingComma = false
        for byte in data {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): continue
            case UInt8(ascii: "}"), UInt8(ascii: "]"): if pendingComma { return true }
            case UInt8(ascii: "\""): inString = true
            default: break
            }
            pendingComma = byte == UInt8(ascii: ",")
        }
        return false
    }

    private static func checkKeys(_ object: Any, allowed: Set<String>) throws {
        guard let dictionary = object as? [String: Any] else { throw APIError.badRequest("the request body must be a JSON object") }
        let unknown = Set(dictionary.keys).subtracting(allowed).sorted()
        if !unknown.isEmpty {
            throw APIError.badRequest(
                "unknown field\(unknown.count == 1 ? "" : "s") \(unknown.map { "`\($0)`" }.joined(separator: ", ")); allowed: \(allowed.sorted().joined(separator: ", "))"
            )
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let text = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return text.isEmpty ? "the body" : "`\(text)`"
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = context.codingPath.isEmpty ? "" : " in \(path(context))"
            return "the field `\(key.stringValue)` is required\(parent)"
        case .typeMismatch(let type, let context): return "\(path(context)) must be \(typeName(type))"
        case .valueNotFound(let type, let context): return "\(path(context)) must be \(typeName(type)), not null"
        case .dataCorrupted(let context): return "\(path(context)) is invalid: \(context.debugDescription)"
        @unknown default: return "the body does not match the expected shape"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is [Any].Type: return "a list"
        default: return "an object"
        }
    }
}

extension String {
    var containsNUL: Bool { unicodeScalars.contains("\u{0}") }
}

/// A request body type that names the fields it accepts.
protocol StrictlyDecodable {
    static var allowedKeys: Set<String> { get }
}

/// Any JSON value, for documents the service stores without interpreting.
enum JSONValue: Codable, Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let items = try? container.decode([JSONValue].self) {
            self = .array(items)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// PostgreSQL's text and jsonb cannot store the NUL character (`\u0000`), so input carrying
    /// one is refused up front with a 400 rather than failing in the database.
    var containsNUL: Bool {
        switch self {
        case .string(let text): return text.containsNUL
        case .array(let items): return items.contains(where: \.containsNUL)
        case .object(let fields): return fields.contains { $0.key.containsNUL || $0.value.containsNUL }
        default: return false
        }
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let flag): try container.encode(flag)
        case .number(let number): try container.encode(number)
        case .string(let text): try container.encode(text)
        case .array(let items): try container.encode(items)
        case .object(let fields): try container.encode(fields)
        }
    }
}
