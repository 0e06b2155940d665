import NIOCore

/// A RESP2 value as Redis sends it.
public enum RESPValue: Sendable, Equatable {
    case simpleString(String)
    case error(String)
    case integer(Int)
    case bulkString(ByteBuffer)
    case array([RESPValue])
    /// A null bulk string or null array (`$-1`, `*-1`).
    case null

    public var string: String? {
        switch self {
        case .simpleString(let text): return text
        case .bulkString(let buffer): return String(buffer: buffer)
        case .integer(let number): return String(number)
        default: return nil
        }
    }

    public var int: Int? {
        switch self {
        case .integer(let number): return number
        case .bulkString(let buffer): return Int(String(buffer: buffer))
        case .simpleString(let text): return Int(text)
        default: return nil
        }
    }

    public var array: [RESPValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    public var isNull: Bool { self == .null }
}

/// A command argument: strings and bytes go over the wire as bulk strings.
public protocol RESPArgument: Sendable {
    func write(into buffer: inout ByteBuffer)
}

extension String: RESPArgument {
    public func write(into buffer: inout ByteBuffer) {
        buffer.writeStaticString("$")
        buffer.writeString(String(utf8.count))
        buffer.writeStaticString("\r\n")
        buffer.writeString(self)
        buffer.writeStaticString("\r\n")
    }
}

extension Int: RESPArgument {
    public func write(into buffer: inout ByteBuffer) {
        String(self).write(into: &buffer)
    }
}

extension ByteBuffer: RESPArgument {
    public func write(into buffer: inout ByteBuffer) {
        buffer.writeStaticString("$")
        buffer.writeString(String(readableBytes))
        buffer.writeStaticString("\r\n")
        buffer.writeImmutableBuffer(self)
        buffer.writeStaticString("\r\n")
    }
}

/// One command: its name and arguments, encoded as a RESP array of bulk strings.
public struct RESPCommand: Sendable {
    public var arguments: [any RESPArgument]

    public init(_ name: String, _ arguments: [any RESPArgument] = []) {
        self.arguments = [name] + arguments
    }

    public init(_ name: String, _ arguments: any RESPArgument...) {
        self.init(name, arguments)
    }

    public var name: String { (arguments.first as? String) ?? "?" }

    func write(into buffer: inout ByteBuffer) {
        buffer.writeStaticString("*")
        buffer.writeString(String(arguments.count))
        buffer.writeStaticString("\r\n")
        for argument in arguments { argument.write(into: &buffer) }
    }
}
