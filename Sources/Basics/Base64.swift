import JSON

/// Base64 (RFC 4648, with padding), as SSH keys, MIME and RESP values in JSON use it. Decoding
/// refuses anything outside the alphabet.
public enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        for start in stride(from: 0, to: bytes.count, by: 3) {
            let chunk = Array(bytes[start..<min(start + 3, bytes.count)]) + [0, 0]
            let value = UInt32(chunk[0]) << 16 | UInt32(chunk[1]) << 8 | UInt32(chunk[2])
            for index in 0..<4 {
                output.append(index <= bytes.count - start ? alphabet[Int(value >> (18 - 6 * index) & 63)] : UInt8(ascii: "="))
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var values: [UInt8] = []
        for byte in text.utf8 where byte != UInt8(ascii: "=") {
            guard let index = alphabet.firstIndex(of: byte) else { return nil }
            values.append(UInt8(index))
        }
        guard values.count % 4 != 1 else { return nil }
        var output: [UInt8] = []
        for start in stride(from: 0, to: values.count, by: 4) {
            let chunk = Array(values[start..<min(start + 4, values.count)])
            let padded = chunk + Array(repeating: 0, count: 4 - chunk.count)
            let value = UInt32(padded[0]) << 18 | UInt32(padded[1]) << 12 | UInt32(padded[2]) << 6 | UInt32(padded[3])
            let bytes = [UInt8(value >> 16 & 255), UInt8(value >> 8 & 255), UInt8(value & 255)]
            output += bytes.prefix(chunk.count - 1)
        }
        return output
    }
}

extension Base64 {
    /// Bytes where JSON has only text: {"base64": "..."}, the form the REDIS and AWS tasks take and give.
    public static func object(_ bytes: [UInt8]) -> JSON {
        ["base64": .string(encode(bytes))]
    }

    /// The bytes of {"base64": "..."}; nil for anything else.
    public static func bytes(ofObject value: JSON) -> [UInt8]? {
        guard let object = value.objectValue, object.count == 1, let encoded = object["base64"]?.stringValue else { return nil }
        return decode(encoded)
    }
}
