import Foundation
import ProcessSupport

/// One JSON style for every file and every `--json` output: sorted keys, ISO 8601 dates.
enum JSONCoding {
    static func encoder(pretty: Bool = true) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    static func encode(_ value: some Encodable, pretty: Bool = true) throws -> String {
        String(decoding: try encoder(pretty: pretty).encode(value), as: UTF8.self)
    }

    static func decode<Value: Decodable>(_ type: Value.Type, from text: String) throws -> Value {
        try decoder().decode(type, from: Data(text.utf8))
    }

    /// A value as JSONSerialization's objects, to sit inside a hand-built report.
    static func object(_ value: some Encodable) throws -> Any {
        try JSONSerialization.jsonObject(with: try encoder(pretty: false).encode(value))
    }

    static func decode<Value: Decodable>(_ type: Value.Type, fromFile path: String) throws -> Value {
        try decoder().decode(type, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Writes through a temporary file and a rename, so a reader never sees half a file.
    static func write(_ value: some Encodable, toFile path: String, permissions: Int = 0o644) throws {
        var data = try encoder().encode(value)
        data.append(0x0A)
        try AtomicFile.write(data, to: path, permissions: permissions)
    }
}

enum AtomicFile {
    static func write(_ data: Data, to path: String, permissions: Int = 0o644) throws {
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: permissions]) else {
            throw ProcessLauncher.LaunchError(description: "cannot write \(temporary)")
        }
        guard rename(temporary, path) == 0 else {
            throw ProcessLauncher.LaunchError(description: "cannot move \(temporary) to \(path): \(String(cString: strerror(errno)))")
        }
    }
}

enum Timestamps {
    static func iso8601(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
