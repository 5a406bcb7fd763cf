import JSON

/// JSON values as Python shows them once json.loads has read them: what botocore's messages hold
/// (`value: {param}` is Python's str(), `type: <class 'int'>` its type), so that the task's
/// messages are boto3's word for word.
enum PythonText {
    /// str(value): a string as it is, anything else as repr().
    static func str(_ value: JSON) -> String {
        if case .string(let text) = value { return text }
        return repr(value)
    }

    static func repr(_ value: JSON) -> String {
        switch value {
        case .null: "None"
        case .bool(let flag): flag ? "True" : "False"
        case .int(let number): String(number)
        case .bigInteger(let digits): digits
        case .double(let number): float(number)
        case .string(let text): quoted(text)
        case .array(let items): "[" + items.map(repr).joined(separator: ", ") + "]"
        case .object(let object): "{" + object.map { quoted($0.key) + ": " + repr($0.value) }.joined(separator: ", ") + "}"
        }
    }

    /// type(value) as str() shows it.
    static func typeName(_ value: JSON) -> String {
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

    /// repr() of a float: the shortest digits that read back the same, with ".0" on whole numbers,
    /// and exponents from 1e16 up and below 1e-4 (Swift's description agrees but for the
    /// threshold at the top and the spelling of nan and inf).
    static func float(_ number: Double) -> String {
        if number.isNaN { return "nan" }
        if number.isInfinite { return number < 0 ? "-inf" : "inf" }
        if number.rounded() == number && abs(number) < 1e16 {
            return (number == 0 && number.sign == .minus ? "-" : "") + String(Int64(number)) + ".0"
        }
        return number.description
    }

    /// repr() of a str: single quotes unless the text holds one and no double quote, with
    /// backslash escapes for the quote, the backslash and what Python does not print.
    static func quoted(_ text: String) -> String {
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
