import Basics
import Spool

/// What a private key given as the `key` input is, read before libssh2 sees it, so that a failure
/// can say why: its kind, and whether it is encrypted.
struct PrivateKey {
    /// The key as libssh2 takes it: with its final newline, which `$(cat keyfile)` strips and
    /// libssh2 needs for ed25519 and ECDSA keys.
    let text: String
    /// ssh-rsa, ssh-ed25519, ecdsa-sha2-nistp256, ...; nil when it cannot be told.
    let kind: String?
    let isEncrypted: Bool

    init(_ given: String) {
        text = given.trimming() + "\n"
        let lines = text.split(separator: "\n").map { $0.trimming() }
        let header = lines.first ?? ""
        if header.contains("BEGIN OPENSSH PRIVATE KEY") {
            let body = lines.dropFirst().prefix { !$0.hasPrefix("-----END") }.joined()
            let fields = Self.openSSHFields(Base64.decode(body) ?? [])
            kind = fields.kind
            isEncrypted = fields.cipher.map { $0 != "none" } ?? false
        } else {
            kind = header.contains("RSA") ? "ssh-rsa" : header.contains("EC ") ? "ecdsa" : header.contains("DSA") ? "ssh-dss" : nil
            isEncrypted = header.contains("ENCRYPTED") || lines.contains { $0.hasPrefix("Proc-Type:") && $0.contains("ENCRYPTED") }
        }
    }

    var isRSA: Bool { kind == "ssh-rsa" }

    /// openssh-key-v1: the magic, then strings: cipher, kdf, kdf options, a count, and the first
    /// public key, whose first string is its kind (PROTOCOL.key in OpenSSH's sources).
    static func openSSHFields(_ bytes: [UInt8]) -> (cipher: String?, kind: String?) {
        let magic = Array("openssh-key-v1\0".utf8)
        guard bytes.starts(with: magic) else { return (nil, nil) }
        var offset = magic.count
        func string() -> [UInt8]? {
            guard offset + 4 <= bytes.count else { return nil }
            let length = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            offset += 4
            guard length >= 0, offset + length <= bytes.count else { return nil }
            defer { offset += length }
            return Array(bytes[offset..<(offset + length)])
        }
        let cipher = string().map { String(decoding: $0, as: UTF8.self) }
        _ = string()  // kdf name
        _ = string()  // kdf options
        offset += 4   // number of keys
        return (cipher, string().flatMap(HostKeys.kind(of:)))
    }
}
