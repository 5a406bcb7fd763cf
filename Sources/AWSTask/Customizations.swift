import Basics
import Curl
import JSON
import OpenSSL
import Spool
import TaskRunner
import Zlib

/// What botocore's handlers (handlers.py) and flexible checksums do to a call by themselves, so
/// that a call given as boto3 takes it does what boto3's does:
///
/// | botocore                                   | here                                                  |
/// |--------------------------------------------|-------------------------------------------------------|
/// | generate_idempotent_uuid                   | done: tokens left out are made                        |
/// | flexible checksums (httpchecksum.py)       | done: CRC32 (or SHA1, SHA256) on uploads and where    |
/// |                                            | a checksum is required; validation asked on downloads |
/// | conditionally_calculate_md5 (Content-MD5)  | as today's botocore: CRC32 where a checksum is        |
/// |                                            | required, Content-MD5 never added                     |
/// | set_list_objects_encoding_type_url, decode | done                                                  |
/// | base64_encode_user_data                    | done: ec2 RunInstances, autoscaling                   |
/// |                                            | CreateLaunchConfiguration                             |
/// | handle_copy_source_param                   | done: CopySource as a dict or a string, quoted        |
/// | fix_route53_ids                            | done: /hostedzone/, /change/, /delegationset/ dropped |
/// | inject_account_id, add_glacier_version,    | done: accountId "-", the API version header, the      |
/// | add_glacier_checksums                      | SHA-256 and tree hash of uploads                      |
/// | sse_md5, copy_source_sse_md5               | done: SSE-C keys base64-encoded, their MD5 added      |
/// | validate_bucket_name, validate_ascii_meta. | done, in botocore's words                             |
/// | escape_xml_payload                         | done: DeleteObjects, PutBucketLifecycleConfiguration  |
/// | add_accept_header                          | done: apigateway                                      |
/// | json_decode_policies                       | done: IAM's policy documents as dictionaries          |
/// | decode_console_output                      | done: ec2 GetConsoleOutput's text decoded             |
/// | json_decode_template_body                  | done: cloudformation GetTemplate's JSON read          |
/// | parse_get_bucket_location, _handle_200_err | done                                                  |
/// | handle_expires_header                      | done: ExpiresString beside Expires                    |
/// | inject_presigned_url_ec2 / _rds            | left: CopySnapshot's and RDS's cross-region copies    |
/// |                                            | need the PresignedUrl given (the source region's      |
/// |                                            | signature, which the task does not make)              |
/// | disable_signing (cognito-identity, STS     | left: those calls are signed; AWS takes them signed   |
/// | AssumeRoleWithSAML/WebIdentity)            | too                                                   |
/// | add_expect_header, retry and recursion     | left: HTTP details that change no result              |
/// | headers, change_get_to_post, the aliases   |                                                       |
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

    /// The parameters as botocore's before-parameter-build handlers leave them, before they are
    /// validated: what boto3 fills in when the caller leaves it out, and the values it rewrites.
    /// Its own refusals (a bucket name, metadata, a CopySource) are botocore's
    /// ParamValidationError.
    mutating func parameters(_ given: JSONObject, masksValues: Bool = false) throws(TaskFailure) -> JSONObject {
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
        switch (model.client, operation.name) {
        case ("s3", let name):
            try S3Parameters.customize(&parameters, operation: name, masksValues: masksValues)
            if Self.listings[name] != nil, parameters["EncodingType"] == nil {
                parameters["EncodingType"] = "url"
                decodesListing = true
            }
        case ("ec2", "RunInstances"), ("autoscaling", "CreateLaunchConfiguration"):
            Self.encodeUserData(&parameters)
        case ("route53", _):
            Self.shortenRoute53IDs(&parameters, members: members)
        case ("glacier", _):
            if parameters["accountId"] == nil || parameters["accountId"] == .null { parameters["accountId"] = "-" }
        default:
            break
        }
        return parameters
    }

    /// botocore's base64_encode_user_data: the script as EC2 wants it, base64 of its UTF-8 (or of
    /// the bytes given as {"base64": ...}).
    static func encodeUserData(_ parameters: inout JSONObject) {
        guard let value = parameters["UserData"], let bytes = Blob.bytes(value) else { return }
        parameters["UserData"] = .string(Base64.encode(bytes))
    }

    /// botocore's fix_route53_ids: an id as another call gave it (/hostedzone/Z1, /change/C2,
    /// /delegationset/N3) stands for its last part, in the members whose shape is one of these.
    static func shortenRoute53IDs(_ parameters: inout JSONObject, members: JSONObject) {
        for (name, member) in members where ["ResourceId", "DelegationSetId", "ChangeId"].contains(member["shape"]?.stringValue ?? "") {
            guard let id = parameters[name]?.stringValue else { continue }
            parameters[name] = .string(String(id.split(separator: "/", omittingEmptySubsequences: false).last ?? ""))
        }
    }

    /// The request as botocore's before-call handlers and checksums finish it: glacier's version
    /// header and hashes, apigateway's Accept, S3's line breaks kept through XML, then the body's
    /// checksum.
    func request(_ request: inout SignedRequest, parameters: JSONObject) throws(TaskFailure) {
        switch (model.client, operation.name) {
        case ("glacier", let name):
            request.setHeaderUnlessGiven("x-amz-glacier-version", model.apiVersion)
            if name == "UploadArchive" || name == "UploadMultipartPart" {
                request.setHeaderUnlessGiven("x-amz-content-sha256", Digest.hex(Digest.sha256(request.body)))
                request.setHeaderUnlessGiven("x-amz-sha256-tree-hash", Self.treeHash(request.body))
            }
        case ("apigateway", _):
            request.setHeaderUnlessGiven("Accept", "application/json")
        case ("s3", "DeleteObjects"), ("s3", "PutBucketLifecycleConfiguration"):
            request.body = Self.escapingLineBreaks(request.body)
        default:
            break
        }
        try addChecksum(&request, parameters: parameters)
    }

    /// botocore's escape_xml_payload: CR and LF in an XML body as character references, so that the
    /// server's XML parser keeps them (a key holding a line break is deleted, not another).
    static func escapingLineBreaks(_ body: [UInt8]) -> [UInt8] {
        body.flatMap { byte -> [UInt8] in
            switch byte {
            case UInt8(ascii: "\r"): Array("&#xD;".utf8)
            case UInt8(ascii: "\n"): Array("&#xA;".utf8)
            default: [byte]
            }
        }
    }

    /// Glacier's SHA-256 tree hash (botocore's calculate_tree_hash): the hashes of each MiB, hashed
    /// in pairs until one is left, in hexadecimal.
    static func treeHash(_ body: [UInt8]) -> String {
        let chunk = 1 << 20
        var level = stride(from: 0, to: max(body.count, 1), by: chunk).map { Digest.sha256(body[$0..<min($0 + chunk, body.count)]) }
        while level.count > 1 {
            level = stride(from: 0, to: level.count, by: 2).map { $0 + 1 < level.count ? Digest.sha256(level[$0] + level[$0 + 1]) : level[$0] }
        }
        return Digest.hex(level[0])
    }

    /// The checksum of the body, by the algorithm the call names (CRC32 unless the caller chose
    /// another), or CRC32 where the operation requires one and names no algorithm member; none when
    /// the caller gave a checksum header itself (botocore's resolve_request_checksum_algorithm).
    func addChecksum(_ request: inout SignedRequest, parameters: JSONObject) throws(TaskFailure) {
        let checksum = operation.definition["httpChecksum"]?.objectValue ?? [:]
        let required = operation.definition["httpChecksumRequired"] == true || checksum["requestChecksumRequired"] == true
        let named = checksum["requestAlgorithmMember"]?.stringValue.flatMap { parameters[$0]?.stringValue?.uppercased() }
        guard let algorithm = named ?? (required ? "CRC32" : nil),
              !request.headers.contains(where: { $0.0.lowercased().hasPrefix("x-amz-checksum-") }) else { return }
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
        request.headers.append(("x-amz-checksum-" + algorithm.lowercased(), Base64.encode(digest)))
    }

    /// The result as botocore's after-call handlers leave it: S3's URL-encoded listing decoded when
    /// the task asked for the encoding; GetBucketLocation's answer, which is the text of the root
    /// element itself (parse_get_bucket_location; us-east-1 answers it empty); then the handlers
    /// of `AfterCall`, each once.
    func result(_ result: JSON, body: [UInt8], headers: [(name: String, value: String)]) -> JSON {
        guard var object = result.objectValue else { return result }
        if model.client == "s3", operation.name == "GetBucketLocation", let root = try? XMLParser.parse(body) {
            object["LocationConstraint"] = root.text.isEmpty ? .null : .string(root.text)
        }
        if decodesListing, object["EncodingType"] == "url", let fields = Self.listings[operation.name] {
            for field in fields { if let text = object[field]?.stringValue { object[field] = .string(PercentEncoding.decodedString(text, plusIsSpace: true)) } }
            for (list, field) in [("Contents", "Key"), ("CommonPrefixes", "Prefix"), ("Versions", "Key"), ("DeleteMarkers", "Key")] {
                guard let items = object[list]?.arrayValue else { continue }
                object[list] = .array(items.map { item in
                    guard var entry = item.objectValue, let text = entry[field]?.stringValue else { return item }
                    entry[field] = .string(PercentEncoding.decodedString(text, plusIsSpace: true))
                    return .object(entry)
                })
            }
        }
        return AfterCall.apply(.object(object), headers: headers, model: model, operation: operation)
    }

    /// S3 answers some calls (CopyObject, CompleteMultipartUpload, UploadPartCopy) 200 with an
    /// <Error> body when they fail late (botocore's _handle_200_error).
    static func isErrorDespite200(_ response: CurlEasy.Response, operation: Operation, model: ServiceModel) -> Bool {
        guard model.client == "s3", ["CopyObject", "CompleteMultipartUpload", "UploadPartCopy"].contains(operation.name) else { return false }
        return (try? XMLParser.parse(response.body))?.name == "Error" || response.body.isEmpty
    }
}
