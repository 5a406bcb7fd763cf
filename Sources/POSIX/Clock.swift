#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock and monotonic time, and the one timestamp format that flowspool writes.
public enum Clock {
    /// Seconds since the epoch.
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Seconds on a clock that never jumps, for deadlines.
    public static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Sleeps for `seconds`, the whole time even when signals interrupt. For delays asked for, never
    /// for waiting on an event.
    public static func sleep(_ seconds: Double) {
        let seconds = Seconds.clamping(seconds).value
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1 && errno == EINTR {
            request = remaining
        }
    }

    /// UTC time in ISO 8601 with milliseconds: 2026-11-28T23:30:00.123Z.
    /// Total: a time before the epoch or past year 9999 (or not a number) is written as the nearest
    /// of those two.
    public static func iso8601(_ seconds: Double) -> String {
        let seconds = seconds.isNaN ? 0 : min(max(seconds, 0), lastWritableTime)
        var whole = time_t(seconds.rounded(.down))
        let millis = Int((seconds - Double(whole)) * 1000)
        var parts = tm()
        gmtime_r(&whole, &parts)
        // Written digit by digit: `flowspool list` writes one for each of many executions.
        var text = Array("0000-00-00T00:00:00.000Z".utf8)
        func put(_ value: Int32, at end: Int, width: Int) {
            var value = value
            for position in stride(from: end, to: end - width, by: -1) {
                text[position] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
        }
        put(parts.tm_year + 1900, at: 3, width: 4)
        put(parts.tm_mon + 1, at: 6, width: 2)
        put(parts.tm_mday, at: 9, width: 2)
        put(parts.tm_hour, at: 12, width: 2)
        put(parts.tm_min, at: 15, width: 2)
        put(parts.tm_sec, at: 18, width: 2)
        put(Int32(millis), at: 22, width: 3)
        return String(decoding: text, as: UTF8.self)
    }

    /// The date of a mail header (RFC 5322, section 3.3), in UTC: "Sun, 29 Nov 2026 05:40:00 +0000".
    public static func rfc5322(_ seconds: Double) -> String {
        var whole = time_t(min(max(seconds.isNaN ? 0 : seconds, 0), lastWritableTime).rounded(.down))
        var parts = tm()
        gmtime_r(&whole, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) +0000"
    }

    /// The UTC calendar date and time of a whole second since the epoch, before 1970 too, as
    /// gmtime_r gives it.
    public static func utc(_ seconds: Int) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        var whole = time_t(seconds)
        var parts = tm()
        gmtime_r(&whole, &parts)
        return (Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    /// 9999-12-31T23:59:59.999Z, the last time four digits of year can say.
    static let lastWritableTime = 253_402_300_799.999

    /// Parses what `iso8601` writes; nil for anything else.
    public static func parseISO8601(_ text: some StringProtocol) -> Double? {
        let bytes = Array(text.utf8)
        guard bytes.count == 24, bytes[4] == 45, bytes[10] == 84, bytes[23] == 90 else { return nil }
        func number(_ range: Range<Int>) -> Int32? {
            var value: Int32 = 0
            for byte in bytes[range] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int32(byte - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              let millis = number(20..<23) else { return nil }
        return utcSeconds(year: Int(year), month: Int(month), day: Int(day), hour: Int(hour), minute: Int(minute), second: Int(second))
            + Double(millis) / 1000
    }

    /// Seconds since the epoch of a UTC date and time (timegm(3)).
    public static func utcSeconds(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Double {
        var parts = tm()
        parts.tm_year = Int32(clamping: year - 1900)
        parts.tm_mon = Int32(clamping: month - 1)
        parts.tm_mday = Int32(clamping: day)
        parts.tm_hour = Int32(clamping: hour)
        parts.tm_min = Int32(clamping: minute)
        parts.tm_sec = Int32(clamping: second)
        return Double(timegm(&parts))
    }

    /// A duration for people: 850ms, 12.3s, 4m05s, 2h07m, 3d04h.
    public static func describeDuration(_ seconds: Double) -> String {
        let seconds = Seconds.clamping(seconds).value
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        if seconds < 60 { return "\((seconds * 10).rounded() / 10)s" }
        let whole = Int(seconds)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        if whole < 3600 { return "\(whole / 60)m\(two(whole % 60))s" }
        if whole < 86400 { return "\(whole / 3600)h\(two(whole % 3600 / 60))m" }
        return "\(whole / 86400)d\(two(whole % 86400 / 3600))h"
    }
}

/// A length of time, checked where it enters flowspool (a task input, a job's timeout, `c.sleep`,
/// `c.wait`): finite, not negative, at most a hundred years, so that every deadline made from it
/// is a date that can be written and every sleep one that can be slept.
public struct Seconds: Sendable {
    public let value: Double

    /// A hundred years.
    public static let longest = 3_155_760_000.0

    /// nil for a value that is not such a length of time.
    public init?(_ value: Double) {
        guard value.isFinite, value >= 0, value <= Self.longest else { return nil }
        self.value = value
    }

    /// The nearest length of time to any number, for code that must not fail: not a number is 0.
    public static func clamping(_ value: Double) -> Seconds {
        Seconds(value.isNaN ? 0 : min(max(value, 0), longest))!
    }

    /// Whether a number from the command line is a length of time above zero: `nan`, `inf` and
    /// `1e400` are not, whatever a Double makes of them.
    public static func isPositive(_ value: Double) -> Bool {
        value > 0 && Seconds(value) != nil
    }

    /// What an operator is told a positive duration must be.
    public static let positiveRange = "a positive number of seconds up to \(Int(longest)) (a hundred years)"

    /// What an operator is told a duration must be, in seconds or (with `perUnit` 60) minutes.
    public static func range(in unit: String, perUnit: Double = 1) -> String {
        "a number of \(unit) from 0 to \(Int(longest / perUnit)) (a hundred years)"
    }
}
