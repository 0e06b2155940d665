import NIOCore
import Testing

@testable import RESP

@Suite struct RESPParserTests {
    private func parse(_ text: String) throws -> (RESPValue?, Int) {
        var buffer = ByteBuffer(string: text)
        let value = try RESPParser().parse(&buffer)
        return (value, buffer.readableBytes)
    }

    @Test func everyType() throws {
        #expect(try parse("+OK\r\n").0 == .simpleString("OK"))
        #expect(try parse("-ERR wrong\r\n").0 == .error("ERR wrong"))
        #expect(try parse(":-42\r\n").0 == .integer(-42))
        #expect(try parse("$5\r\nhe\r\no\r\n").0 == .bulkString(ByteBuffer(string: "he\r\no")))
        #expect(try parse("$-1\r\n").0 == .null)
        #expect(try parse("*-1\r\n").0 == .null)
        #expect(try parse("*2\r\n:1\r\n*1\r\n+x\r\n").0 == .array([.integer(1), .array([.simpleString("x")])]))
    }

    @Test func incompleteInputConsumesNothing() throws {
        for partial in ["+OK", "$5\r\nhel", "*2\r\n:1\r\n", "$5\r\nhello\r"] {
            let (value, left) = try parse(partial)
            #expect(value == nil)
            #expect(left == partial.utf8.count)
        }
    }

    @Test func twoRepliesInOneBufferComeOutOneByOne() throws {
        var buffer = ByteBuffer(string: "+A\r\n+B\r\n")
        #expect(try RESPParser().parse(&buffer) == .simpleString("A"))
        #expect(try RESPParser().parse(&buffer) == .simpleString("B"))
        #expect(buffer.readableBytes == 0)
    }

    @Test func hostileInputIsRefused() {
        #expect(throws: RESPProtocolError.unknownType(UInt8(ascii: "?"))) { try parse("?x\r\n") }
        #expect(throws: RESPProtocolError.invalidLength("-7")) { try parse("$-7\r\n") }
        #expect(throws: RESPProtocolError.missingTerminator) { try parse("$2\r\nabXY") }
        #expect(throws: RESPProtocolError.nestedTooDeep) { try parse(String(repeating: "*1\r\n", count: 40) + ":1\r\n") }
    }

    @Test func commandsEncodeAsArraysOfBulkStrings() {
        var buffer = ByteBuffer()
        RESPCommand("SET", "k", "välue", 5).write(into: &buffer)
        #expect(String(buffer: buffer) == "*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\nvälue\r\n$1\r\n5\r\n")
    }

    @Test func urlsParseWithoutEchoingThePassword() throws {
        let full = try RedisConfiguration(url: "redis://user:p%40ss@cache.internal:6380/2")
        #expect(full.host == "cache.internal" && full.port == 6380 && full.database == 2)
        #expect(full.username == "user" && full.password == "p@ss")
        let passwordOnly = try RedisConfiguration(url: "redis://:secret@127.0.0.1")
        #expect(passwordOnly.username == nil && passwordOnly.password == "secret" && passwordOnly.port == 6379)
        do {
            _ = try RedisConfiguration(url: "redis://:secret@host:notaport")
            Issue.record("a bad port was accepted")
        } catch {
            #expect(!error.description.contains("secret"))
        }
        #expect(throws: RedisClientError.self) { try RedisConfiguration(url: "http://host") }
    }
}
