/// Percent-decoding as Python's `urllib.parse.unquote` does it, or `unquote_plus` with
/// `plusIsSpace`: a `%` followed by two hex digits is the byte they spell; any other `%` (before a
/// sign such as `%+f` or `%-0`, one digit, or the end of the text) stays as it is, and a `+`
/// becomes a space only with `plusIsSpace` (a `%2B` is a `+` either way).
public enum PercentEncoding {
    /// The decoded bytes of `text`.
    public static func decode(_ text: some StringProtocol, plusIsSpace: Bool = false) -> [UInt8] {
        var bytes: [UInt8] = []
        var input = Array(text.utf8)[...]
        while let byte = input.popFirst() {
            if byte == UInt8(ascii: "%"), input.count >= 2,
               let high = hexValue(input[input.startIndex]), let low = hexValue(input[input.startIndex + 1]) {
                bytes.append(high << 4 | low)
                input = input.dropFirst(2)
            } else {
                bytes.append(byte == UInt8(ascii: "+") && plusIsSpace ? UInt8(ascii: " ") : byte)
            }
        }
        return bytes
    }

    /// The decoded text of `text`, bytes that are no UTF-8 replaced with U+FFFD (Python's
    /// `errors="replace"`).
    public static func decodedString(_ text: some StringProtocol, plusIsSpace: Bool = false) -> String {
        String(decoding: decode(text, plusIsSpace: plusIsSpace), as: UTF8.self)
    }

    /// The value of one hex digit (0-9, a-f, A-F); nil for any other byte, a sign included.
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
