/// The `hostkey` input: the keys the server may prove it holds. People paste them in several forms,
/// one per line: `ssh-ed25519 AAAA...`, with a comment after it, the output of `ssh-keyscan` (with the
/// host name first, and its `#` lines), or a known_hosts line.
struct HostKeys {
    /// Each pinned key as its SSH wire blob, with its kind ("ssh-ed25519").
    let keys: [(kind: String, blob: [UInt8])]

    static let kinds = [
        "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-dss",
    ]

    init(parsing text: String) {
        var keys: [(String, [UInt8])] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            // Comments, and known_hosts markers: a @revoked key must never be accepted, and a
            // @cert-authority key signs host keys rather than being one.
            guard let first = words.first, !first.hasPrefix("#"), !first.hasPrefix("@"),
                  let kindIndex = words.firstIndex(where: { Self.kinds.contains($0) }),
                  kindIndex + 1 < words.count, let blob = Base64.decode(words[kindIndex + 1]) else { continue }
            keys.append((words[kindIndex], blob))
        }
        self.keys = keys
    }

    func accepts(_ blob: [UInt8]) -> Bool {
        keys.contains { $0.blob == blob }
    }

    /// The kinds of the pinned keys, in the order given, each once: a server with keys of several
    /// kinds is asked for one kind at a time, so that it shows the key that was pinned.
    var kinds: [String] {
        var kinds: [String] = []
        for key in keys where !kinds.contains(key.kind) { kinds.append(key.kind) }
        return kinds
    }

    /// A key blob as people paste it: `ssh-ed25519 AAAA...`.
    static func pasteForm(of blob: [UInt8]) -> String {
        "\(kind(of: blob) ?? "unknown") \(Base64.encode(blob))"
    }

    /// The kind named by the first field of an SSH key blob.
    static func kind(of blob: [UInt8]) -> String? {
        guard blob.count >= 4 else { return nil }
        let length = Int(blob[0]) << 24 | Int(blob[1]) << 16 | Int(blob[2]) << 8 | Int(blob[3])
        guard length <= blob.count - 4 else { return nil }
        return String(decoding: blob[4..<(4 + length)], as: UTF8.self)
    }
}

/// Base64 as SSH keys use it (RFC 4648, with padding).
enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
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

    static func decode(_ text: String) -> [UInt8]? {
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
