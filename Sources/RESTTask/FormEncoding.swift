/// A job's `params` and forms as python-requests encodes them: `urlencode(doseq=True)`.
enum FormEncoding {
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
