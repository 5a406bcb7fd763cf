extension JSON {
    /// The value as compact JSON text on one line.
    public var compactText: String {
        var output = ""
        write(to: &output, indent: nil, level: 0)
        return output
    }

    /// The value as JSON text indented by two spaces, as people read it.
    public var prettyText: String {
        var output = ""
        write(to: &output, indent: "  ", level: 0)
        return output
    }

    private func write(to output: inout String, indent: String?, level: Int) {
        switch self {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .int(let value): output += String(value)
        case .bigInteger(let text): output += text
        case .double(let value): output += value.isFinite ? Self.format(value) : "null"
        case .string(let value): Self.writeString(value, to: &output)
        case .array(let elements):
            writeContainer(open: "[", close: "]", count: elements.count, to: &output, indent: indent, level: level) {
                output, index in elements[index].write(to: &output, indent: indent, level: level + 1)
            }
        case .object(let object):
            let keys = object.keys
            writeContainer(open: "{", close: "}", count: keys.count, to: &output, indent: indent, level: level) {
                output, index in
                Self.writeString(keys[index], to: &output)
                output += indent == nil ? ":" : ": "
                object[keys[index]]!.write(to: &output, indent: indent, level: level + 1)
            }
        }
    }

    private func writeContainer(
        open: String, close: String, count: Int, to output: inout String, indent: String?, level: Int,
        element: (inout String, Int) -> Void
    ) {
        output += open
        if count == 0 { output += close; return }
        for index in 0..<count {
            if index > 0 { output += "," }
            if let indent { output += "\n" + String(repeating: indent, count: level + 1) }
            element(&output, index)
        }
        if let indent { output += "\n" + String(repeating: indent, count: level) }
        output += close
    }

    private static func format(_ value: Double) -> String {
        if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
        if value.rounded() == value && abs(value) < 1e15 { return String(Int(value)) + ".0" }
        return String(value)
    }

    private static func writeString(_ value: String, to output: inout String) {
        output += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            // C0 as JSON demands, and DEL, C1 and the bidirectional controls too, so that no JSON
            // text can steer a terminal or show its text in another order than it has.
            case _ where scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value) || scalar.isBidirectionalControl:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}

extension Unicode.Scalar {
    /// The bidirectional formatting characters of Unicode (UAX #9): the marks (U+061C, U+200E,
    /// U+200F), embeddings and overrides (U+202A to U+202E) and isolates (U+2066 to U+2069). Shown
    /// raw, they reorder the text around them, so that what a terminal shows is not what is there
    /// (CVE-2021-42574, "Trojan Source").
    public var isBidirectionalControl: Bool {
        switch value {
        case 0x061c, 0x200e, 0x200f, 0x202a...0x202e, 0x2066...0x2069: true
        default: false
        }
    }
}
