import JSON
import POSIX
import Spool
import TaskRunner

/// The operation's parameters checked against its input shape before anything is sent, the way
/// botocore's ParamValidator checks them: unknown and missing members, and wrong types, each named
/// by its path (Tags[0].Key).
struct ParameterValidator {
    let model: ServiceModel

    func validate(_ value: JSON, shape name: String?, path: String = "") throws(TaskFailure) {
        guard let shape = model.shape(name), shape["document"]?.boolValue != true else { return }  // a document is any JSON
        let shown = path.isEmpty ? "input" : path
        switch shape["type"]?.stringValue {
        case "structure":
            guard case .object(let object) = value else { throw wrongType(value, path: shown, expected: "a dictionary") }
            let members = shape["members"]?.objectValue ?? [:]
            for required in shape["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where object[required] == nil {
                throw TaskFailure("Missing required parameter in \(shown): \"\(required)\"")
            }
            for (key, member) in object {
                guard let definition = members[key]?.objectValue else {
                    throw TaskFailure("Unknown parameter in \(shown): \"\(key)\", must be one of: \(members.map(\.key).sorted().joined(separator: ", "))")
                }
                try validate(member, shape: definition["shape"]?.stringValue, path: path.isEmpty ? key : "\(path).\(key)")
            }
        case "list":
            guard case .array(let elements) = value else { throw wrongType(value, path: shown, expected: "a list") }
            for (index, element) in elements.enumerated() {
                try validate(element, shape: shape["member"]?["shape"]?.stringValue, path: "\(path)[\(index)]")
            }
        case "map":
            guard case .object(let object) = value else { throw wrongType(value, path: shown, expected: "a dictionary") }
            for (key, element) in object {
                try validate(element, shape: shape["value"]?["shape"]?.stringValue, path: "\(path).\(key)")
            }
        case "string":
            guard case .string = value else { throw wrongType(value, path: shown, expected: "a string") }
        case "integer", "long":
            guard value.intValue != nil, !(value.doubleValue.map { $0.rounded() != $0 } ?? false) else { throw wrongType(value, path: shown, expected: "an integer") }
        case "float", "double":
            guard value.doubleValue != nil else { throw wrongType(value, path: shown, expected: "a number") }
        case "boolean":
            guard case .bool = value else { throw wrongType(value, path: shown, expected: "a boolean") }
        case "timestamp":
            guard Timestamp.seconds(value) != nil else { throw wrongType(value, path: shown, expected: "an ISO 8601 time or seconds since the epoch") }
        case "blob":
            guard Blob.bytes(value) != nil else { throw wrongType(value, path: shown, expected: "a string or {\"base64\": \"...\"}") }
        default:
            break
        }
    }

    private func wrongType(_ value: JSON, path: String, expected: String) -> TaskFailure {
        TaskFailure("Invalid type for parameter \(path), value: \(value.compactText.prefix(80)), type: \(value.kindDescription), valid types: \(expected)")
    }
}

/// Times as the task takes and gives them: ISO 8601 strings, or seconds since the epoch.
enum Timestamp {
    /// Seconds since the epoch of a time given as a number or a string; nil for anything else, and
    /// for a time outside years 0 to 9999, which no service takes.
    static func seconds(_ value: JSON) -> Double? {
        guard let seconds = value.doubleValue ?? value.stringValue.flatMap(parse),
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

/// Binary values as the task takes and gives them, as the REDIS task does: {"base64": "..."} for
/// the bytes it encodes, both ways, so that a result goes back in as the same bytes (get_item, then
/// put_item); a plain string given stands for its UTF-8 bytes.
enum Blob {
    static func bytes(_ value: JSON) -> [UInt8]? {
        if let text = value.stringValue { return Array(text.utf8) }
        return Base64.bytes(ofObject: value)
    }

    /// A blob of a result, which the service sent as base64 text: {"base64": "..."}.
    static func result(base64 text: String) -> JSON {
        Base64.decode(text).map(Base64.object) ?? .string(text)
    }
}
