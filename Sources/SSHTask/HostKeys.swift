import Basics
import Spool

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
