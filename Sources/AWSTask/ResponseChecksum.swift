import Basics
import Curl
import JSON
import OpenSSL
import Spool
import TaskRunner
import Zlib

/// botocore's flexible checksums on downloads (httpchecksum.py, handle_checksum_body): when the call
/// asked for them (the operation's validation mode member, which the task sets as boto3 does), the
/// body is checked against the first x-amz-checksum-ALGORITHM header of the algorithms botocore
/// checks without awscrt, in its order, and the algorithm checked is named in ResponseMetadata as
/// ChecksumAlgorithm. A body that does not match ends the call in botocore's words.
enum ResponseChecksum {
    /// The algorithms botocore checks without awscrt (crc32c and crc64nvme need it), in its order.
    static let algorithms = ["crc32", "sha1", "sha256", "sha512"]

    static func digest(_ body: [UInt8], by algorithm: String) -> [UInt8] {
        switch algorithm {
        case "crc32":
            let crc = CRC32.checksum(body)
            return [UInt8(crc >> 24), UInt8(crc >> 16 & 255), UInt8(crc >> 8 & 255), UInt8(crc & 255)]
        case "sha1": return Digest.sha1(body)
        case "sha256": return Digest.sha256(body)
        default: return Digest.sha512(body)
        }
    }

    /// The algorithm the body was checked with; nil when the call did not ask, or no header names
    /// one of them (or names a checksum of parts, with a -N suffix).
    static func validate(_ response: CurlEasy.Response, operation: Operation, parameters: JSONObject) throws(TaskFailure) -> String? {
        let checksum = operation.definition["httpChecksum"]?.objectValue ?? [:]
        guard let mode = checksum["requestValidationModeMember"]?.stringValue, parameters[mode] != nil else { return nil }
        let offered = Set((checksum["responseAlgorithms"]?.arrayValue ?? []).compactMap { $0.stringValue?.lowercased() })
        for name in algorithms where offered.contains(name) {
            guard let expected = response.headers.last(where: { $0.name.lowercased() == "x-amz-checksum-" + name })?.value,
                  !expected.contains("-") else { continue }
            let computed = digest(response.body, by: name)
            guard Base64.decode(expected) == computed else {
                throw TaskFailure("Expected checksum \(expected) did not match calculated checksum: \(Base64.encode(computed))")
            }
            return name
        }
        return nil
    }
}
