/// JSON values as Python shows them once `json.loads` has read them: `str()`, `repr()`, `type()`
/// and `json.dumps()` with its defaults. The AWS task words its messages as botocore's, which hold
/// Python's text of a value, and the REST task sends values as python-requests turns them into bytes.
public enum PythonText {
    /// str(value): a string as it is, anything else as repr().
    public static func str(_ value: JSON) -> String {
        if case .string(let text) = value { return text }
        return repr(value)
    }

    public static func repr(_ value: JSON) -> String {
        switch value {
        case .null: "None"
        case .bool(let flag): flag ? "True" : "False"
        case .int(let number): String(number)
        case .bigInteger(let digits): digits
        case .double(let number): floatRepr(number)
        case .string(let text): quoted(text)
        case .array(let items): "[" + items.map(repr).joined(separator: ", ") + "]"
        case .object(let object): "{" + object.map { quoted($0.key) + ": " + repr($0.value) }.joined(separator: ", ") + "}"
        }
    }

    /// type(value) as str() shows it.
    public static func typeName(_ value: JSON) -> String {
        let name = switch value {
        case .null: "NoneType"
        case .bool: "bool"
        case .int, .bigInteger: "int"
        case .double: "float"
        case .string: "str"
        case .array: "list"
        case .object: "dict"
        }
        return "<class '\(name)'>"
    }

    /// `str(value)` of a JSON scalar as Python holds it: `True`/`False`, an integer's digits, a
    /// float's `repr` (`1.0`, `1e+16`), a string as it is. nil for null, which requests leaves out,
    /// and for lists and dictionaries, which are no scalar.
    public static func scalarStr(_ value: JSON) -> String? {
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
    public static func jsonDumps(_ value: JSON) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .int, .bigInteger, .double: return scalarStr(value)!
        case .string(let text): return jsonString(text)
        case .array(let elements): return "[" + elements.map(jsonDumps).joined(separator: ", ") + "]"
        case .object(let object):
            return "{" + object.map { jsonString($0.key) + ": " + jsonDumps($0.value) }.joined(separator: ", ") + "}"
        }
    }

    /// A JSON string as `json.dumps` writes it with ensure_ascii: lower-case hex, characters beyond
    /// the BMP as a surrogate pair.
    public static func jsonString(_ text: String) -> String {
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
    public static func floatRepr(_ value: Double) -> String {
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

    /// repr() of a str: single quotes unless the text holds one and no double quote, with
    /// backslash escapes for the quote, the backslash and what Python does not print.
    public static func quoted(_ text: String) -> String {
        let quote: Character = text.contains("'") && !text.contains("\"") ? "\"" : "'"
        var output = String(quote)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where Character(scalar) == quote: output += "\\" + String(quote)
            case _ where !isPrintable(scalar):
                let digits = scalar.value < 0x100 ? 2 : scalar.value < 0x10000 ? 4 : 8
                output += (digits == 2 ? "\\x" : digits == 4 ? "\\u" : "\\U") + hex(scalar.value, digits: digits)
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output + String(quote)
    }

    /// Python's str.isprintable() of one character: not a control, format, private-use,
    /// unassigned or separator character, the space excepted.
    private static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator: return false
        default: return true
        }
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
