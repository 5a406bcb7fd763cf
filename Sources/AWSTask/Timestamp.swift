import Basics
import JSON
import POSIX

/// Times as the task takes and gives them: ISO 8601 strings, or seconds since the epoch.
enum Timestamp {
    /// Seconds since the epoch of a time given as a number (a bool is 0 or 1 to Python), a string of
    /// one, or a time as text; nil for anything else, and for a time outside years 0 to 9999, which
    /// no service takes.
    static func seconds(_ value: JSON) -> Double? {
        let flag = value.boolValue.map { $0 ? 1.0 : 0.0 }
        guard let seconds = value.doubleValue ?? flag ?? value.stringValue.flatMap({ Double($0) ?? parse($0) }),
              seconds.isFinite, abs(seconds) < 253_402_300_800 else { return nil }
        return seconds
    }

    /// 2026-11-29T05:56:00Z, with or without fractions, with Z or an offset; also RFC 7231 dates.
    static func parse(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 19, bytes[4] == 45, bytes[7] == 45, bytes[10] == 84 || bytes[10] == 32 else { return rfc7231(text) }
        func number(_ range: Range<Int>) -> Int? { Int(String(decoding: bytes[range], as: UTF8.self)) }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13),
              let minute = number(14..<16), let second = number(17..<19) else { return nil }
        var index = 19
        var fraction = 0.0
        if index < bytes.count, bytes[index] == 46 {
            let start = index
            index += 1
            while index < bytes.count, (48...57).contains(bytes[index]) { index += 1 }
            fraction = Double(String(decoding: bytes[start..<index], as: UTF8.self)) ?? 0
        }
        var offset = 0
        if index < bytes.count, bytes[index] == 43 || bytes[index] == 45, index + 6 <= bytes.count,
           let hours = number((index + 1)..<(index + 3)), let minutes = number((index + 4)..<(index + 6)) {
            offset = (bytes[index] == 43 ? 1 : -1) * (hours * 3600 + minutes * 60)
        }
        return Clock.utcSeconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
            - Double(offset) + fraction
    }

    /// Sun, 29 Nov 2026 05:56:00 GMT (HTTP dates, as rest protocols send in headers).
    static func rfc7231(_ text: String) -> Double? {
        let parts = text.split(separator: " ")
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard parts.count >= 5, let day = Int(parts[1]), let month = months.firstIndex(of: String(parts[2])),
              let year = Int(parts[3]) else { return nil }
        let clock = parts[4].split(separator: ":").compactMap { Int($0) }
        guard clock.count == 3 else { return nil }
        return Clock.utcSeconds(year: year, month: month + 1, day: day, hour: clock[0], minute: clock[1], second: clock[2])
    }

    /// A time as the wire wants it, by the model's `timestampFormat` (the member's, else its shape's,
    /// else the place's default, as botocore's serializers choose): iso8601, unixTimestamp or rfc822.
    static func wire(_ value: JSON, format: String?) -> String {
        guard let seconds = seconds(value) else { return value.stringValue ?? "" }
        switch format {
        case "unixTimestamp": return seconds.rounded() == seconds ? String(Int(seconds)) : String(seconds)
        case "rfc822": return Clock.rfc5322(seconds).replacing("+0000", with: "GMT")
        default: return iso8601(seconds)
        }
    }

    /// The format a member's time takes: its own trait, else its shape's, else `fallback`.
    static func format(member: JSONObject?, shape: JSONObject?, fallback: String) -> String {
        member?["timestampFormat"]?.stringValue ?? shape?["timestampFormat"]?.stringValue ?? fallback
    }

    /// As the query protocols send them: 2026-11-29T05:56:00Z (fractions when there are any).
    static func iso8601(_ seconds: Double) -> String {
        let text = Clock.iso8601(seconds)
        return text.hasSuffix(".000Z") ? String(text.dropLast(5)) + "Z" : text
    }
}

extension Timestamp {
    /// A time of a result as boto3 shows it: Python's isoformat() of the datetime botocore's
    /// parse_timestamp makes of what the server sent. Text keeps its digits: the fraction to the
    /// microsecond (cut, as dateutil cuts it; left out when zero) and the offset it names (Z and
    /// GMT are +00:00; none, none). Seconds since the epoch (the json protocols) are rounded to the
    /// microsecond half to even, as Python's fromtimestamp does, and shown in UTC, +00:00, whatever
    /// the machine's zone (botocore would show them in the local zone: a result must not depend on
    /// where the runner ran). Anything else stays as it came, seconds that are no time of years
    /// 1 to 9999 (nan, inf, 1e300) too.
    static func result(_ value: JSON) -> JSON {
        if let text = value.stringValue {
            if let seconds = Double(text.trimming()) { return isoformat(epoch: seconds).map(JSON.string) ?? value }
            return .string(isoformat(text: text) ?? rfc7231(text).flatMap(isoformat(epoch:)) ?? text)
        }
        return value.doubleValue.flatMap(isoformat(epoch:)).map(JSON.string) ?? value
    }

    /// nil for seconds outside years 1 to 9999, which Python's datetime refuses (and Int(_:) would trap on).
    static func isoformat(epoch: Double) -> String? {
        guard epoch >= -62_135_596_800 && epoch < 253_402_300_800 else { return nil }
        var whole = epoch.rounded(.towardZero)
        var micros = ((epoch - whole) * 1_000_000).rounded(.toNearestOrEven)
        if micros >= 1_000_000 { micros -= 1_000_000; whole += 1 } else if micros < 0 { micros += 1_000_000; whole -= 1 }
        let time = Clock.utc(Int(whole))
        return isoformat(year: time.year, month: time.month, day: time.day, hour: time.hour, minute: time.minute, second: time.second,
                         fraction: micros == 0 ? "" : pad(Int(micros), 6), offset: "+00:00")
    }

    /// 2026-11-29T05:56:00.5Z and the like (a space for the T, an offset of +HH:MM, +HHMM or +HH)
    /// as isoformat() writes the datetime dateutil reads from it; nil for other text.
    static func isoformat(text: String) -> String? {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            range.upperBound <= bytes.count && bytes[range].allSatisfy({ (48...57).contains($0) })
                ? Int(String(decoding: bytes[range], as: UTF8.self)) : nil
        }
        guard bytes.count >= 19, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "), bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19) else { return nil }
        var index = 19
        var fraction = ""
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") || bytes[index] == UInt8(ascii: ",") {
            let start = index + 1
            index = start
            while index < bytes.count, (48...57).contains(bytes[index]) { index += 1 }
            let digits = String(decoding: bytes[start..<index], as: UTF8.self)
            let micros = (digits + "000000").prefix(6)
            fraction = micros == "000000" ? "" : String(micros)
        }
        let zone = String(decoding: bytes[index...], as: UTF8.self)
        guard let offset = isoOffset(zone) else { return nil }
        return isoformat(year: year, month: month, day: day, hour: hour, minute: minute, second: second, fraction: fraction, offset: offset)
    }

    /// An offset as isoformat() writes it: "" for none, +00:00 for Z, UTC and GMT; nil when it is
    /// not one.
    private static func isoOffset(_ zone: String) -> String? {
        switch zone {
        case "": return ""
        case "Z", "z", "UTC", "GMT", " UTC", " GMT": return "+00:00"
        default: break
        }
        let sign = zone.first
        let digits = zone.dropFirst().filter { $0 != ":" }
        guard sign == "+" || sign == "-", digits.count == 2 || digits.count == 4, digits.allSatisfy(\.isASCII), let value = Int(digits) else { return nil }
        let (hours, minutes) = digits.count == 2 ? (value, 0) : (value / 100, value % 100)
        if hours == 0 && minutes == 0 { return "+00:00" }
        return "\(sign!)\(pad(hours, 2)):\(pad(minutes, 2))"
    }

    private static func isoformat(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, fraction: String, offset: String) -> String {
        "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))"
            + (fraction.isEmpty ? "" : "." + fraction) + offset
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}
