import NIOCore

/// Parses RESP2 values out of a buffer incrementally: `nil` means "not all bytes are here yet",
/// and the buffer's reader index only moves past complete values.
public struct RESPParser: Sendable {
    /// Nesting deeper than this is refused instead of recursing without bound on hostile input.
    static let maximumDepth = 32

    public init() {}

    public func parse(_ buffer: inout ByteBuffer) throws(RESPProtocolError) -> RESPValue? {
        var copy = buffer
        guard let value = try parseValue(&copy, depth: 0) else { return nil }
        buffer = copy
        return value
    }

    private func parseValue(_ buffer: inout ByteBuffer, depth: Int) throws(RESPProtocolError) -> RESPValue? {
        guard depth < Self.maximumDepth else { throw .nestedTooDeep }
        guard let marker = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
        var rest = buffer
        rest.moveReaderIndex(forwardBy: 1)
        guard let line = readLine(&rest) else { return nil }
        let value: RESPValue
        switch marker {
        case UInt8(ascii: "+"):
            value = .simpleString(line)
        case UInt8(ascii: "-"):
            value = .error(line)
        case UInt8(ascii: ":"):
            guard let number = Int(line) else { throw .invalidInteger(line) }
            value = .integer(number)
        case UInt8(ascii: "$"):
            guard let length = Int(line), length >= -1 else { throw .invalidLength(line) }
            if length == -1 {
                value = .null
            } else {
                guard rest.readableBytes >= length + 2, let bytes = rest.readSlice(length: length) else { return nil }
                guard rest.readInteger(as: UInt16.self) == 0x0D0A else { throw .missingTerminator }
                value = .bulkString(bytes)
            }
        case UInt8(ascii: "*"):
            guard let count = Int(line), count >= -1 else { throw .invalidLength(line) }
            if count == -1 {
                value = .null
            } else {
                var items: [RESPValue] = []
                items.reserveCapacity(min(count, 1024))
                for _ in 0..<count {
                    guard let item = try parseValue(&rest, depth: depth + 1) else { return nil }
                    items.append(item)
                }
                value = .array(items)
            }
        default:
            throw .unknownType(marker)
        }
        buffer = rest
        return value
    }

    private func readLine(_ buffer: inout ByteBuffer) -> String? {
        let view = buffer.readableBytesView
        guard let cr = view.firstIndex(of: UInt8(ascii: "\r")), cr + 1 < view.endIndex, view[cr + 1] == UInt8(ascii: "\n") else {
            return nil
        }
        let length = cr - view.startIndex
        let line = buffer.readString(length: length)
        buffer.moveReaderIndex(forwardBy: 2)
        return line
    }
}

public enum RESPProtocolError: Error, Equatable {
    case unknownType(UInt8)
    case invalidInteger(String)
    case invalidLength(String)
    case missingTerminator
    case nestedTooDeep
}
