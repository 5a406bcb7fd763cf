import JSON

/// The text Python makes of a job's values where python-requests turns them into bytes: `str()` of a
/// value `json.loads` made, `json.dumps` with its defaults, and `urlencode(doseq=True)`. So that a
/// job's `params`, form, `json` and multipart values go out as a requests script sends them.
enum PythonText {
    /// `str(value)` of a JSON scalar as Python holds it: `True`/`False`, an integer's digits, a
    /// float's `repr` (`1.0`, `1e+16`), a string as it is. nil for null, which requests leaves out,
    /// and for lists and dictionaries, which are no scalar.
    static func str(_ value: JSON) -> String? {
        switch value {
        case .string(let text): text
        case .bool(let flag): flag ? "True" : "False"
        case .int(let number): String(number)
        case .bigInteger(let digits): digits
        case .double(let number): floatRepr(number)
        case .null, .array, .object: nil
        }
    }

    /// `json.dumps(value)` with Python's defaults: `", "` and `": "` between items, every character
    /// outside printable ASCII escaped as `\uXXXX` (ensure_ascii), floats as `repr` writes them.
    static func jsonDumps(_ value: JSON) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .int, .bigInteger, .double: return str(value)!
        case .string(let text): return jsonString(text)
        case .array(let elements): return "[" + elements.map(jsonDumps).joined(separator: ", ") + "]"
        case .object(let object):
            return "{" + object.map { jsonString($0.key) + ": " + jsonDumps($0.value) }.joined(separator: ", ") + "}"
        }
    }

    /// A JSON string as `json.dumps` writes it with ensure_ascii: lower-case hex, characters beyond
    /// the BMP as a surrogate pair.
    static func jsonString(_ text: String) -> String {
        var output = "\""
        for unit in text.utf16 {
            switch unit {
            case 0x22: output += "\\\""
            case 0x5c: output += "\\\\"
            case 0x0a: output += "\\n"
            case 0x0d: output += "\\r"
            case 0x09: output += "\\t"
            case 0x08: output += "\\b"
            case 0x0c: output += "\\f"
            case 0x20...0x7e: output.unicodeScalars.append(Unicode.Scalar(UInt8(unit)))
            default:
                let hex = String(unit, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
        }
        return output + "\""
    }

    /// Python's `repr` of a float: the shortest digits that read back the same, written plainly
    /// when the exponent is from -4 to 15 (`0.0001`, `123.0`) and as `1.5e+16` or `1e-05` otherwise.
    static func floatRepr(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
        let sign = value < 0 ? "-" : ""
        let (digits, point) = shortestDigits(abs(value))
        let exponent = point - 1
        if exponent < -4 || exponent >= 16 {
            let mantissa = digits.count == 1 ? digits : String(digits.prefix(1)) + "." + String(digits.dropFirst())
            let magnitude = String(abs(exponent))
            return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (magnitude.count < 2 ? "0" : "") + magnitude
        }
        if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + digits }
        if point >= digits.count { return sign + digits + String(repeating: "0", count: point - digits.count) + ".0" }
        return sign + String(digits.prefix(point)) + "." + String(digits.dropFirst(point))
    }

    /// The shortest decimal digits of a positive finite number (Swift's description finds them)
    /// without leading or trailing zeros, and where the point goes: 0.00123 is ("123", -2).
    static func shortestDigits(_ value: Double) -> (digits: String, point: Int) {
        let text = value.description.lowercased()
        let parts = text.split(separator: "e", maxSplits: 1)
        let exponent = parts.count == 2 ? Int(parts[1]) ?? 0 : 0
        let mantissa = parts[0].split(separator: ".", maxSplits: 1)
        let whole = String(mantissa[0])
        var digits = whole + (mantissa.count == 2 ? String(mantissa[1]) : "")
        var point = whole.count + exponent
        while digits.hasPrefix("0") {
            digits.removeFirst()
            point -= 1
        }
        while digits.hasSuffix("0") { digits.removeLast() }
        return (digits.isEmpty ? "0" : digits, point)
    }

    /// `urllib.parse.quote_plus(text, safe="")` of the UTF-8 bytes: letters, digits and `_.-~` stay,
    /// a space becomes `+`, every other byte `%XX`.
    static func quotePlus(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var output: [UInt8] = []
        for byte in text.utf8 {
            if byte == 0x20 {
                output.append(UInt8(ascii: "+"))
            } else if isAlwaysSafe(byte) {
                output.append(byte)
            } else {
                output += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func isAlwaysSafe(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte)
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "~")
    }

    /// `urlencode(pairs, doseq=True)`: `name=value` pairs, each side `quotePlus`ed, joined by `&`.
    static func urlencode(_ pairs: [(String, String)]) -> String {
        pairs.map { quotePlus($0.0) + "=" + quotePlus($0.1) }.joined(separator: "&")
    }
}
