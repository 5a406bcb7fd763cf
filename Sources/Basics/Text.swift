import JSON

extension StringProtocol {
    /// The text with every control character (C0, DEL, C1) and bidirectional control written as
    /// an escape (`\n`, `\x1b`, `\u{9b}`), so that a value that came from a job, a server or a script
    /// cannot move the cursor, change colours or start a new row on a terminal. `kept` names the
    /// characters that pass as they are: a log keeps its newlines and tabs.
    public func escapingControlCharacters(keeping kept: String = "") -> String {
        var escaped = ""
        for scalar in unicodeScalars {
            if kept.unicodeScalars.contains(scalar) {
                escaped.unicodeScalars.append(scalar)
                continue
            }
            switch scalar.value {
            case 0x0a: escaped += "\\n"
            case 0x0d: escaped += "\\r"
            case 0x09: escaped += "\\t"
            case 0..<0x20, 0x7f:
                let hex = String(scalar.value, radix: 16)
                escaped += "\\x" + (hex.count < 2 ? "0" : "") + hex
            case _ where (0x80..<0xa0).contains(scalar.value) || scalar.isBidirectionalControl:
                escaped += "\\u{" + String(scalar.value, radix: 16) + "}"
            default:
                escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// Whether the text holds a CR, LF or NUL: what would start another line of a header or of a
    /// protocol command. Looked at byte by byte: as Characters, "\r\n" is one, equal to neither.
    public var hasLineBreakOrNUL: Bool {
        utf8.contains { $0 == 0x0d || $0 == 0x0a || $0 == 0 }
    }

    /// The text without the given characters at either end: `" a b\n".trimming(" \n")` is `"a b"`.
    /// Compared scalar by scalar: as Characters, "\r\n" is one, and a lone "\n" would not match it.
    public func trimming(_ characters: String = " \t\r\n") -> String {
        let trimmed = Set(characters.unicodeScalars)
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !trimmed.contains($0) }),
              let last = scalars.lastIndex(where: { !trimmed.contains($0) }) else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}
