import Foundation
import NIOCore
import PostgresNIO
import Testing

@testable import Backend

/// The hand-written JSON of designs against Foundation's own formatting and parsing.
@Suite struct JSONOutputTests {
    private func written(_ body: (inout RawJSONWriter) -> Void, upTo bound: Int = 256) -> String {
        var buffer = ByteBuffer()
        buffer.writeJSON(upTo: bound, body)
        return String(buffer: buffer)
    }

    @Test func timestampsAreRFC3339InUTCWithMillisecondsTruncated() throws {
        #expect(written { $0.timestamp(PostgresTimestamp(microseconds: 0)) } == #""1970-01-01T00:00:00.000Z""#)
        #expect(written { $0.timestamp(PostgresTimestamp(microseconds: -1)) } == #""1969-12-31T23:59:59.999Z""#)
        #expect(written { $0.timestamp(PostgresTimestamp(microseconds: 951_782_400_123_999)) } == #""2000-02-29T00:00:00.123Z""#)

        // Foundation formats the whole seconds (from 1900 to 2400); the fraction is integer arithmetic.
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let microseconds = Int64.random(in: -2_208_988_800_000_000...13_569_465_600_000_000, using: &generator)
            let (seconds, fraction) = microseconds.floorDivided(by: 1_000_000)
            let whole = formatter.string(from: Date(timeIntervalSince1970: Double(seconds)))
            let milliseconds = String(fraction / 1_000)
            let expected = "\"\(whole.dropLast()).\(String(repeating: "0", count: 3 - milliseconds.count))\(milliseconds)Z\""
            #expect(written { $0.timestamp(PostgresTimestamp(microseconds: microseconds)) } == expected)
        }
    }

    @Test func numbersArePaddedToTheirWidthAndNeverCut() {
        for (value, width, text) in [
            (Int64(7), 2, "07"), (99, 2, "99"), (100, 2, "100"), (5, 3, "005"), (999, 3, "999"), (42, 4, "0042"),
            (12_345, 4, "12345"), (0, 1, "0"), (-3, 2, "00"),
        ] {
            #expect(written { $0.digits(value, width: width) } == text)
        }
    }

    @Test func stringsAreEscapedAsRFC8259Requires() throws {
        let tricky = "quote \" backslash \\ newline \n tab \t bell \u{07} nul-free é 🐕 </script>"
        let text = written({ $0.string(tricky) }, upTo: RawJSONWriter.worstCase(string: tricky.utf8.count))
        #expect(text.contains(#"\u0007"#))
        let decoded = try JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed) as? String
        #expect(decoded == tricky)
        let onlyControls = String(repeating: "\u{01}", count: 50)
        let worst = written({ $0.string(onlyControls) }, upTo: RawJSONWriter.worstCase(string: 50))
        #expect(worst.utf8.count == RawJSONWriter.worstCase(string: 50))
    }

    @Test func idsAreLowercaseUUIDs() {
        for _ in 0..<100 {
            let id = UUID()
            #expect(written { $0.uuid(id) } == "\"\(id.uuidString.lowercased())\"")
        }
    }

    @Test func postgreSQLsInfinityIsADecodingErrorNotACrash() throws {
        var infinity = ByteBuffer()
        infinity.writeInteger(Int64.max)
        #expect(throws: PostgresDecodingError.Code.self) {
            _ = try PostgresTimestamp(from: &infinity, type: .timestamptz, format: .binary, context: .default)
        }
        var epoch = ByteBuffer()
        epoch.writeInteger(-PostgresTimestamp.postgresEpochOffset)
        let decoded = try PostgresTimestamp(from: &epoch, type: .timestamptz, format: .binary, context: .default)
        #expect(decoded.microseconds == 0)
    }

    @Test func theReservedRoomHoldsTheLargestDesign() {
        // An empty name and the latest timestamp there is (a 6-digit year): the bound still holds.
        let latest = PostgresTimestamp(microseconds: .max)
        let design = Design(
            id: UUID(), name: "", documentJSON: ByteBuffer(string: "{}"), privateNotes: nil, createdAt: latest, updatedAt: latest)
        #expect(design.json.readableBytes <= design.worstCaseJSONBytes)
    }

    @Test func aPageOfDesignsIsValidJSON() throws {
        let design = Design(
            id: UUID(), name: "Trail \"runner\"\n", documentJSON: ByteBuffer(string: #"{"size": "M", "tags": ["a\"b"]}"#),
            privateNotes: "engrave: Rex\\", createdAt: PostgresTimestamp(microseconds: 1_000),
            updatedAt: PostgresTimestamp(microseconds: 2_000))
        let page = Design.page([design, design], nextCursor: "abc.def")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(buffer: page)) as? [String: Any])
        let items = try #require(json["items"] as? [[String: Any]])
        #expect(items.count == 2 && json["nextCursor"] as? String == "abc.def")
        #expect(items[0]["name"] as? String == "Trail \"runner\"\n" && items[0]["privateNotes"] as? String == "engrave: Rex\\")
        #expect(
            items[0]["createdAt"] as? String == "1970-01-01T00:00:00.001Z" && items[0]["updatedAt"] as? String == "1970-01-01T00:00:00.002Z"
        )
        #expect((items[0]["document"] as? [String: Any])?["tags"] as? [String] == ["a\"b"])
    }
}
