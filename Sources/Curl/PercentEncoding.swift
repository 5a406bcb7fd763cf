/// Percent-encoding as Python's `urllib.parse` does it, which is RFC 3986's as AWS signs it too.
///
/// Decoding as `unquote`, or `unquote_plus` with `plusIsSpace`: a `%` followed by two hex digits is
/// the byte they spell; any other `%` (before a sign such as `%+f` or `%-0`, one digit, or the end
/// of the text) stays as it is, and a `+` becomes a space only with `plusIsSpace` (a `%2B` is a `+`
/// either way). Encoding as `quote` and `quote_plus`: unreserved bytes stay, others are %XX.
public enum PercentEncoding {
    /// `quote(text, safe=safe)` of the UTF-8 bytes: the unreserved bytes and those of `safe` stay,
    /// every other byte is %XX in capitals.
    public static func quoted(_ text: some StringProtocol, safe: String = "") -> String {
        encoded(text, safe: Array(safe.utf8), spaceAsPlus: false)
    }

    /// `quote_plus(text, safe="")`: as `quoted`, but a space is `+`.
    public static func quotedPlus(_ text: some StringProtocol) -> String {
        encoded(text, safe: [], spaceAsPlus: true)
    }

    /// `urlencode(pairs)`: `name=value` pairs, each side `quotedPlus`, joined by `&`; the form body
    /// botocore sends for the query protocol and requests for a form or `params`.
    public static func formEncoded(_ pairs: [(String, String)]) -> String {
        pairs.map { quotedPlus($0.0) + "=" + quotedPlus($0.1) }.joined(separator: "&")
    }

    private static func encoded(_ text: some StringProtocol, safe: [UInt8], spaceAsPlus: Bool) -> String {
        var output: [UInt8] = []
        for byte in text.utf8 {
            if spaceAsPlus && byte == 0x20 {
                output.append(UInt8(ascii: "+"))
            } else if isUnreserved(byte) || safe.contains(byte) {
                output.append(byte)
            } else {
                output += escape(byte)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Whether `byte` is one RFC 3986 never escapes (Python's always-safe set): a letter, a digit,
    /// `-`, `.`, `_` or `~`.
    public static func isUnreserved(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte)
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "~")
    }

    /// `byte` as %XX, the digits in capitals.
    public static func escape(_ byte: UInt8) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        return [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
    }

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
    public static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
