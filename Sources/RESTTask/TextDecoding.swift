/// A response body decoded as Python decodes it for python-requests' `text` (`str(content,
/// encoding, errors="replace")`), for the charsets servers declare most: UTF-8, Latin-1,
/// Windows-1252, ASCII and UTF-16. An encoding Python would not know, or none, is read as UTF-8,
/// as requests falls back to it.
enum TextDecoding {
    enum Codec {
        case utf8, latin1, windows1252, ascii, utf16, utf16LittleEndian, utf16BigEndian
    }

    static func decode(_ bytes: [UInt8], encoding: String?) -> String {
        switch encoding.flatMap(codec(named:)) ?? .utf8 {
        case .utf8: return String(decoding: bytes, as: UTF8.self)
        case .latin1: return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        case .windows1252: return String(String.UnicodeScalarView(bytes.map(windows1252)))
        case .ascii: return String(String.UnicodeScalarView(bytes.map { $0 < 0x80 ? Unicode.Scalar($0) : replacement }))
        case .utf16: return utf16(bytes)
        case .utf16LittleEndian: return utf16(bytes, bigEndian: false)
        case .utf16BigEndian: return utf16(bytes, bigEndian: true)
        }
    }

    static let replacement: Unicode.Scalar = "\u{FFFD}"

    /// The codec of a charset name, as Python's codec registry finds it: any case, `-`, `_` and
    /// spaces alike.
    static func codec(named name: String) -> Codec? {
        let key = String(name.lowercased().map { $0 == "-" || $0 == " " ? "_" : $0 })
        switch key {
        case "utf_8", "utf8", "u8", "utf", "cp65001": return .utf8
        case "latin_1", "latin1", "latin", "l1", "iso_8859_1", "iso8859_1", "8859", "cp819", "iso_ir_100": return .latin1
        case "windows_1252", "cp1252": return .windows1252
        case "ascii", "us_ascii", "646", "us": return .ascii
        case "utf_16", "utf16", "u16": return .utf16
        case "utf_16_le", "utf_16le", "utf16le": return .utf16LittleEndian
        case "utf_16_be", "utf_16be", "utf16be": return .utf16BigEndian
        default: return nil
        }
    }

    /// Windows-1252: Latin-1 but for 0x80 to 0x9F, five of which it leaves undefined (replaced).
    static func windows1252(_ byte: UInt8) -> Unicode.Scalar {
        guard (0x80...0x9f).contains(byte) else { return Unicode.Scalar(byte) }
        let high: [UInt32] = [
            0x20ac, 0xfffd, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0xfffd, 0x017d, 0xfffd,
            0xfffd, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0xfffd, 0x017e, 0x0178,
        ]
        return Unicode.Scalar(high[Int(byte - 0x80)])!
    }

    /// UTF-16 in the given byte order; without one, from the byte-order mark (dropped), else
    /// little-endian, as Python's `utf-16` reads it. An odd last byte is replaced.
    static func utf16(_ bytes: [UInt8], bigEndian given: Bool? = nil) -> String {
        var body = bytes[...]
        var bigEndian = given ?? false
        if given == nil, bytes.count >= 2 {
            if bytes[0] == 0xfe && bytes[1] == 0xff { bigEndian = true; body = body.dropFirst(2) }
            else if bytes[0] == 0xff && bytes[1] == 0xfe { body = body.dropFirst(2) }
        }
        var units: [UInt16] = []
        var index = body.startIndex
        while index + 1 < body.endIndex {
            let (first, second) = (UInt16(body[index]), UInt16(body[index + 1]))
            units.append(bigEndian ? first << 8 | second : second << 8 | first)
            index += 2
        }
        let text = String(decoding: units, as: UTF16.self)
        return body.count % 2 == 1 ? text + "\u{FFFD}" : text
    }
}
