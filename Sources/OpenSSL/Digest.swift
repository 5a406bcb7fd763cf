import CCrypto

/// SHA-256 and HMAC-SHA256 from OpenSSL's libcrypto, for AWS Signature Version 4; SHA-1, SHA-256,
/// SHA-512 and MD5 for the checksums AWS services ask for and S3's downloads carry.
public enum Digest {
    public static func sha256(_ data: some Collection<UInt8>) -> [UInt8] {
        digest(data, EVP_sha256(), length: 32)
    }

    /// MD5, which S3 wants of an SSE-C key (never used to protect anything here).
    public static func md5(_ data: some Collection<UInt8>) -> [UInt8] {
        digest(data, EVP_md5(), length: 16)
    }

    public static func sha1(_ data: some Collection<UInt8>) -> [UInt8] {
        digest(data, EVP_sha1(), length: 20)
    }

    public static func sha512(_ data: some Collection<UInt8>) -> [UInt8] {
        digest(data, EVP_sha512(), length: 64)
    }

    private static func digest(_ data: some Collection<UInt8>, _ algorithm: OpaquePointer?, length: Int) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: length)
        var written: UInt32 = 0
        let bytes = Array(data)
        bytes.withUnsafeBytes { raw in
            _ = EVP_Digest(raw.baseAddress, raw.count, &digest, &written, algorithm, nil)
        }
        return digest
    }

    public static func hmacSHA256(key: [UInt8], _ data: some Collection<UInt8>) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let bytes = Array(data)
        key.withUnsafeBytes { keyBytes in
            bytes.withUnsafeBytes { raw in
                _ = HMAC(EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count), raw.baseAddress?.assumingMemoryBound(to: UInt8.self), raw.count, &digest, &length)
            }
        }
        return digest
    }

    /// Lower-case hexadecimal, as SigV4 writes digests.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }
}
