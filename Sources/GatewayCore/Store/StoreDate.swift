#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GRDB

/// Dates as the store keeps them: GRDB's text format, `yyyy-MM-dd HH:mm:ss.SSS` in UTC, which
/// sorts as text in time order. Made and read here with integer arithmetic.
///
/// GRDB converts a `Date` with a Foundation `DateFormatter`, and that loads ICU: the first
/// stored stanza of a fresh daemon faulted in 2.5 MiB of ICU's tables (resident for the life of
/// the process), and each conversion cost more than the rest of its row.
enum StoreDate {
    /// `date` as the store's text, to the nearest millisecond, halves upwards: what GRDB's
    /// formatter writes, to the byte (a test compares them over random dates since 1875).
    static func databaseValue(_ date: Date) -> DatabaseValue {
        text(date).databaseValue
    }

    static func text(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000 + 0.5).rounded(.down))
        let (days, millisecondOfDay) = floorDivision(milliseconds, 86_400_000)
        let (year, month, day) = civilDate(daysSince1970: days)
        let secondOfDay = millisecondOfDay / 1000
        var bytes: [UInt8] = []
        bytes.reserveCapacity(23)
        append(year, digits: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        append(month, digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        append(day, digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: " "))
        append(secondOfDay / 3600, digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        append(secondOfDay / 60 % 60, digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        append(secondOfDay % 60, digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        append(millisecondOfDay % 1000, digits: 3, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The date in `text` (`yyyy-MM-dd HH:mm:ss` with an optional fraction, `T` allowed for
    /// the space), or nil for anything else.
    static func date(_ text: String) -> Date? {
        var utf8 = text.utf8[...]
        func number(_ count: Int) -> Int64? {
            guard utf8.count >= count else { return nil }
            var value: Int64 = 0
            for byte in utf8.prefix(count) {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            utf8 = utf8.dropFirst(count)
            return value
        }
        func separator(_ allowed: UInt8...) -> Bool {
            guard let byte = utf8.first, allowed.contains(byte) else { return false }
            utf8 = utf8.dropFirst()
            return true
        }
        guard let year = number(4), separator(UInt8(ascii: "-")), let month = number(2), separator(UInt8(ascii: "-")),
              let day = number(2), separator(UInt8(ascii: " "), UInt8(ascii: "T")),
              let hour = number(2), separator(UInt8(ascii: ":")), let minute = number(2), separator(UInt8(ascii: ":")),
              let second = number(2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var fraction = 0.0
        if separator(UInt8(ascii: ".")) {
            var scale = 0.1
            while let byte = utf8.first, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                fraction += Double(byte - UInt8(ascii: "0")) * scale
                scale /= 10
                utf8 = utf8.dropFirst()
            }
        }
        guard utf8.isEmpty else { return nil }
        let days = daysSince1970(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// Reads a date column written by ``databaseValue(_:)`` or by GRDB itself.
    static func read(_ value: DatabaseValue) -> Date? {
        if let text = String.fromDatabaseValue(value), let date = date(text) { return date }
        return Date.fromDatabaseValue(value)
    }

    // MARK: - Calendar arithmetic (proleptic Gregorian; Howard Hinnant's civil-date algorithms)

    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let remainder = value % divisor
        return remainder < 0 ? (value / divisor - 1, remainder + divisor) : (value / divisor, remainder)
    }

    private static func civilDate(daysSince1970 days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = floorDivision(z, 146_097).quotient
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func daysSince1970(year: Int64, month: Int64, day: Int64) -> Int64 {
        let year = month <= 2 ? year - 1 : year
        let era = floorDivision(year, 400).quotient
        let yearOfEra = year - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func append(_ value: Int64, digits: Int, to bytes: inout [UInt8]) {
        var divisor: Int64 = 1
        for _ in 1..<digits { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }
}
