import Basics
import JSON
import POSIX
import TaskRunner

/// The `retry_backoff` input: the request is tried again, within one execution, after a connection
/// failure or a 5xx or 429 answer, waiting `initial` seconds, then `multiplier` times longer each
/// time up to `maximum`, or as long as the answer's `Retry-After` says; no try starts later than
/// `deadline` seconds after the first. The keys and defaults are those of google-api-core's
/// `Retry`, without its random jitter, so that a job's waits can be told in advance.
struct RetryBackoff: Equatable {
    var initial = 1.0
    var maximum = 60.0
    var multiplier = 2.0
    var deadline = 120.0

    static let keys = ["initial", "maximum", "multiplier", "deadline"]
    /// The shortest wait between two tries, whatever `maximum` or a `Retry-After` of 0 or of a
    /// date past says: a retry never follows the last try at once, over and over.
    static let shortestWait = 0.1

    init(_ given: JSONObject) throws(TaskFailure) {
        if let unknown = given.keys.first(where: { !Self.keys.contains($0) }) {
            throw TaskFailure("input 'retry_backoff' has an unknown key '\(unknown.escapingControlCharacters())' (its keys: \(Self.keys.joined(separator: ", ")))")
        }
        initial = try Self.seconds(given["initial"], "initial", positive: true) ?? initial
        maximum = try Self.seconds(given["maximum"], "maximum") ?? maximum
        deadline = try Self.seconds(given["deadline"], "deadline") ?? deadline
        if let value = given["multiplier"], value != .null {
            guard let number = value.doubleValue, number >= 1, number <= 1000 else {
                throw TaskFailure("input 'retry_backoff': 'multiplier' must be a number from 1 to 1000, not \(value.compactText)")
            }
            multiplier = number
        }
    }

    /// A key in seconds: from 0, or above 0 when `positive`, up to `longestTimeout`.
    static func seconds(_ value: JSON?, _ key: String, positive: Bool = false) throws(TaskFailure) -> Double? {
        guard let value, value != .null else { return nil }
        guard let number = value.doubleValue, positive ? number > 0 : number >= 0, number <= RESTRequest.longestTimeout else {
            let range = positive ? "a positive number of seconds up to" : "a number of seconds from 0 to"
            throw TaskFailure("input 'retry_backoff': '\(key)' must be \(range) \(Int(RESTRequest.longestTimeout)), not \(value.compactText)")
        }
        return number
    }

    /// The wait before retry number `retry` (0 for the first): initial × multiplier^retry, at most
    /// `maximum`.
    func delay(beforeRetry retry: Int) -> Double {
        var delay = initial
        for _ in 0..<retry where delay < maximum { delay *= multiplier }
        return min(delay, maximum)
    }

    /// Whether a status code is worth another try: the server's trouble (5xx) or its asking to slow
    /// down (429), unless the job expects that code.
    static func isRetryable(status: Int, expected: [Int]) -> Bool {
        (status == 429 || (500...599).contains(status)) && !expected.contains(status)
    }

    /// The seconds a `Retry-After` value asks to wait: a number of seconds, or an HTTP date less
    /// `now` (a date past is 0). nil for anything else, which urllib3 ignores as well.
    static func retryAfter(_ value: String, now: Double) -> Double? {
        let text = value.trimming(" \t")
        if !text.isEmpty, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) { return Double(text) }
        return httpDate(text).map { max(0, $0 - now) }
    }

    static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// Seconds since the epoch of an HTTP date (RFC 9110, section 5.6.7): IMF-fixdate
    /// (`Sun, 06 Nov 1994 08:49:37 GMT`), or the obsolete RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`)
    /// and asctime (`Sun Nov  6 08:49:37 1994`) forms; a two-digit year is 1969 to 2068, as
    /// Python's `parsedate_tz` reads it.
    static func httpDate(_ text: String) -> Double? {
        var tokens = text.split(whereSeparator: { " ,-:".contains($0) }).map { $0.lowercased() }
        guard tokens.count >= 7 else { return nil }
        tokens.removeFirst()  // the day of the week
        let numbers: [Int?]
        let month: Int?
        if let asctime = months.firstIndex(of: String(tokens[0].prefix(3))) {
            month = asctime
            numbers = [tokens[1], tokens[5], tokens[2], tokens[3], tokens[4]].map { Int($0) }  // day, year, h, m, s
        } else {
            month = months.firstIndex(of: String(tokens[1].prefix(3)))
            numbers = [tokens[0], tokens[2], tokens[3], tokens[4], tokens[5]].map { Int($0) }
            guard tokens.count == 6 || tokens[6] == "gmt" else { return nil }
        }
        guard let month, let day = numbers[0], var year = numbers[1], let hour = numbers[2], let minute = numbers[3],
              let second = numbers[4], (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        if year < 100 { year += year > 68 ? 1900 : 2000 }
        return Clock.utcSeconds(year: year, month: month + 1, day: day, hour: hour, minute: minute, second: second)
    }
}
