import Curl
import JSON
import OpenSSL
import Spool
import TaskRunner
import Zlib

/// What botocore adds to a call by itself, so that the task's results are boto3's: idempotency
/// tokens, flexible checksums (CRC32 on uploads, checksums asked for on downloads), and S3 listings
/// asked for URL-encoded and decoded again.
struct Customizations {
    let model: ServiceModel
    let operation: Operation
    /// Whether the task asked S3 for URL-encoded keys, and so decodes them.
    private(set) var decodesListing = false

    init(model: ServiceModel, operation: Operation) {
        self.model = model
        self.operation = operation
    }

    static let listings: [String: [String]] = [
        "ListObjects": ["Delimiter", "Marker", "NextMarker"],
        "ListObjectsV2": ["Delimiter", "Prefix", "StartAfter"],
        "ListObjectVersions": ["Delimiter", "KeyMarker", "NextKeyMarker", "Prefix"],
    ]

    /// The parameters with what boto3 fills in when the caller leaves it out.
    mutating func parameters(_ given: JSONObject) -> JSONObject {
        var parameters = given
        let members = model.shape(operation.inputShape)?["members"]?.objectValue ?? [:]
        for (member, definition) in members where definition["idempotencyToken"]?.boolValue == true && parameters[member] == nil {
            parameters[member] = .string(ServiceModel.uuid4())
        }
        let checksum = operation.definition["httpChecksum"]?.objectValue ?? [:]
        if let algorithm = checksum["requestAlgorithmMember"]?.stringValue, parameters[algorithm] == nil,
           !parameters.contains(where: { $0.key.hasPrefix("Checksum") }) {
            parameters[algorithm] = "CRC32"
        }
        if let mode = checksum["requestValidationModeMember"]?.stringValue, parameters[mode] == nil {
            parameters[mode] = "ENABLED"
        }
        if model.client == "s3", Self.listings[operation.name] != nil, parameters["EncodingType"] == nil {
            parameters["EncodingType"] = "url"
            decodesListing = true
        }
        return parameters
    }

    /// The checksum of the body an upload carries, by the algorithm the call names (CRC32 unless the
    /// caller chose another), unless the caller gave the checksum itself.
    func request(_ request: inout SignedRequest, parameters: JSONObject) throws(TaskFailure) {
        guard let member = operation.definition["httpChecksum"]?["requestAlgorithmMember"]?.stringValue,
              let algorithm = parameters[member]?.stringValue?.uppercased() else { return }
        let header = "x-amz-checksum-" + algorithm.lowercased()
        guard !request.headers.contains(where: { $0.0.lowercased() == header }) else { return }
        let digest: [UInt8]
        switch algorithm {
        case "CRC32":
            let crc = CRC32.checksum(request.body)
            digest = [UInt8(crc >> 24), UInt8(crc >> 16 & 255), UInt8(crc >> 8 & 255), UInt8(crc & 255)]
        case "SHA256": digest = Digest.sha256(request.body)
        case "SHA1": digest = Digest.sha1(request.body)
        default:
            throw TaskFailure("ChecksumAlgorithm \(algorithm) is not one flowspool computes (CRC32, SHA1 or SHA256); give the checksum yourself in its Checksum parameter, or choose one of those")
        }
        request.headers.append((header, Base64.encode(digest)))
    }

    /// The result with S3's URL-encoded listing decoded, when the task asked for the encoding, and
    /// GetBucketLocation's answer, which is the text of the root element itself
    /// (botocore's parse_get_bucket_location; us-east-1 answers it empty).
    func result(_ result: JSON, response: CurlEasy.Response) -> JSON {
        guard var object = result.objectValue else { return result }
        if model.client == "s3", operation.name == "GetBucketLocation", let root = try? XMLParser.parse(response.body) {
            object["LocationConstraint"] = root.text.isEmpty ? .null : .string(root.text)
        }
        guard decodesListing, object["EncodingType"] == "url", let fields = Self.listings[operation.name] else { return .object(object) }
        for field in fields { if let text = object[field]?.stringValue { object[field] = .string(Self.percentDecode(text)) } }
        for (list, field) in [("Contents", "Key"), ("CommonPrefixes", "Prefix"), ("Versions", "Key"), ("DeleteMarkers", "Key")] {
            guard let items = object[list]?.arrayValue else { continue }
            object[list] = .array(items.map { item in
                guard var entry = item.objectValue, let text = entry[field]?.stringValue else { return item }
                entry[field] = .string(Self.percentDecode(text))
                return .object(entry)
            })
        }
        return .object(object)
    }

    /// S3 answers some calls (CopyObject, CompleteMultipartUpload, UploadPartCopy) 200 with an
    /// <Error> body when they fail late (botocore's _handle_200_error).
    static func isErrorDespite200(_ response: CurlEasy.Response, operation: Operation, model: ServiceModel) -> Bool {
        guard model.client == "s3", ["CopyObject", "CompleteMultipartUpload", "UploadPartCopy"].contains(operation.name) else { return false }
        return (try? XMLParser.parse(response.body))?.name == "Error" || response.body.isEmpty
    }

    /// %XX and + (a space) decoded, as Python's unquote_plus does.
    static func percentDecode(_ text: String) -> String {
        var bytes: [UInt8] = []
        var input = Array(text.utf8)[...]
        while let byte = input.popFirst() {
            if byte == UInt8(ascii: "%"), input.count >= 2, let value = UInt8(String(decoding: input.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                input = input.dropFirst(2)
            } else {
                bytes.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
