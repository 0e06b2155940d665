import Foundation
import NIOCore
import PostgresNIO

/// A `timestamptz` exactly as PostgreSQL keeps it, in microseconds, written as RFC 3339 in UTC
/// with milliseconds. Formatting here instead of with `to_char` in SQL halved PostgreSQL's
/// work for a page of designs, and keeping microseconds (not a `Date`'s floating seconds) lets a
/// pagination cursor name a row's position exactly.
struct PostgresTimestamp: Equatable, Sendable {
    /// Since 1970-01-01 00:00 UTC.
    var microseconds: Int64

    /// PostgreSQL counts from 2000-01-01 00:00 UTC.
    static let postgresEpochOffset: Int64 = 946_684_800 * 1_000_000

    /// The proleptic Gregorian date of a day count from 1970-01-01 (Howard Hinnant's
    /// `civil_from_days`, exact for every Int64 day a timestamp can hold).
    static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = daysSinceEpoch + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension PostgresTimestamp: PostgresDecodable {
    init<JSONDecoder: PostgresJSONDecoder>(
        from buffer: inout ByteBuffer, type: PostgresDataType, format: PostgresFormat, context: PostgresDecodingContext<JSONDecoder>
    ) throws {
        guard type == .timestamptz || type == .timestamp else { throw PostgresDecodingError.Code.typeMismatch }
        guard format == .binary, buffer.readableBytes == 8, let value = buffer.readInteger(as: Int64.self) else {
            throw PostgresDecodingError.Code.failure
        }
        // PostgreSQL's `infinity` and the last years it can hold do not fit once counted from 1970.
        let (since1970, overflow) = value.addingReportingOverflow(Self.postgresEpochOffset)
        guard !overflow else { throw PostgresDecodingError.Code.failure }
        microseconds = since1970
    }
}

extension PostgresTimestamp: PostgresNonThrowingEncodable {
    static var psqlType: PostgresDataType { .timestamptz }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        // Every value came from PostgreSQL (directly or through a signed cursor), so it fits back.
        byteBuffer.writeInteger(microseconds &- Self.postgresEpochOffset)
    }
}

extension Int64 {
    /// Quotient rounded towards minus infinity and a remainder that is never negative, so
    /// times before 1970 fall on the right day.
    func floorDivided(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}

extension RawJSONWriter {
    /// `"2026-11-29T06:37:29.123Z"`: UTC, milliseconds truncated as PostgreSQL's `MS` does.
    mutating func timestamp(_ time: PostgresTimestamp) {
        let (days, microsecondOfDay) = time.microseconds.floorDivided(by: 86_400_000_000)
        let (year, month, day) = PostgresTimestamp.civilDate(daysSinceEpoch: days)
        let millisecondOfDay = microsecondOfDay / 1_000
        let second = millisecondOfDay / 1_000
        byte(UInt8(ascii: "\""))
        digits(year, width: 4)
        byte(UInt8(ascii: "-"))
        digits(month, width: 2)
        byte(UInt8(ascii: "-"))
        digits(day, width: 2)
        byte(UInt8(ascii: "T"))
        digits(second / 3_600, width: 2)
        byte(UInt8(ascii: ":"))
        digits(second / 60 % 60, width: 2)
        byte(UInt8(ascii: ":"))
        digits(second % 60, width: 2)
        byte(UInt8(ascii: "."))
        digits(millisecondOfDay % 1_000, width: 3)
        ascii("Z\"")
    }
}
