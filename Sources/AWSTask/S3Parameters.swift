import Basics
import Curl
import JSON
import OpenSSL
import Spool
import TaskRunner

/// botocore's before-parameter-build handlers for S3: the bucket name and metadata checked, the
/// CopySource quoted, SSE-C keys encoded with their MD5 (handlers.py).
enum S3Parameters {
    /// With `masksValues` (protect_inputs names `parameters`), a message shows a value as ****.
    static func customize(_ parameters: inout JSONObject, operation: String, masksValues: Bool = false) throws(TaskFailure) {
        if ["CopyObject", "UploadPartCopy"].contains(operation) {
            try quoteCopySource(&parameters)
            encodeCustomerKey(&parameters, prefix: "CopySourceSSECustomer")
        }
        if ["CopyObject", "PutObject", "CreateMultipartUpload"].contains(operation) {
            try checkMetadataIsASCII(parameters, masksValues: masksValues)
        }
        if ["HeadObject", "GetObject", "PutObject", "CopyObject", "CreateMultipartUpload", "UploadPart", "UploadPartCopy",
            "CompleteMultipartUpload", "SelectObjectContent"].contains(operation) {
            encodeCustomerKey(&parameters, prefix: "SSECustomer")
        }
        try checkBucketName(parameters, masksValues: masksValues)
    }

    static let bucketPattern = #"^[a-zA-Z0-9.\-_]{1,255}$"#
    static let arnPattern = #"^arn:(aws).*:(s3|s3-object-lambda):[a-z\-0-9]*:[0-9]{12}:accesspoint[/:][a-zA-Z0-9\-.]{1,63}$"#
        + #"|^arn:(aws).*:s3-outposts:[a-z\-0-9]+:[0-9]{12}:outpost[/:][a-zA-Z0-9\-]{1,63}[/:]accesspoint[/:][a-zA-Z0-9\-]{1,63}$"#

    /// The patterns are literals: one that does not compile is a programming error, not a pass.
    static func isARN(_ text: String) -> Bool {
        text.firstMatch(of: try! Regex(arnPattern)) != nil
    }

    static func isBucketName(_ text: String) -> Bool {
        text.firstMatch(of: try! Regex(bucketPattern)) != nil || isARN(text)
    }

    /// botocore's validate_bucket_name: "a/../b" must not name another path.
    static func checkBucketName(_ parameters: JSONObject, masksValues: Bool = false) throws(TaskFailure) {
        guard let bucket = parameters["Bucket"]?.stringValue, !isBucketName(bucket) else { return }
        throw ParameterValidator.failure([
            "Invalid bucket name \"\(masksValues ? Protection.mask.stringValue ?? "" : bucket)\": Bucket name must match the regex \"\(bucketPattern)\" or be an ARN matching the regex \"\(arnPattern)\"",
        ])
    }

    /// botocore's validate_ascii_metadata: S3 keeps metadata in US-ASCII alone.
    static func checkMetadataIsASCII(_ parameters: JSONObject, masksValues: Bool = false) throws(TaskFailure) {
        for (key, value) in parameters["Metadata"]?.objectValue ?? [:] {
            guard let text = value.stringValue, !(key + text).unicodeScalars.allSatisfy(\.isASCII) else { continue }
            throw ParameterValidator.failure([
                "Non ascii characters found in S3 metadata for key \"\(key)\", value: \"\(masksValues ? Protection.mask.stringValue ?? "" : text)\".  \nS3 metadata can only contain ASCII characters. ",
            ])
        }
    }

    /// botocore's handle_copy_source_param: a dictionary {Bucket, Key, VersionId} made the string
    /// S3 wants, or a string given quoted, each as Python's quote(safe="/-._~") quotes it, but a
    /// ?versionId= at the end of the string.
    static func quoteCopySource(_ parameters: inout JSONObject) throws(TaskFailure) {
        switch parameters["CopySource"] {
        case .string(let text)?:
            if let suffix = text.firstMatch(of: #/\?versionId=[^\s]+$/#) {
                parameters["CopySource"] = .string(PercentEncoding.quoted(String(text[..<suffix.range.lowerBound]), safe: "/") + suffix.output)
            } else {
                parameters["CopySource"] = .string(PercentEncoding.quoted(text, safe: "/"))
            }
        case .object(let source)?:
            guard let bucket = source["Bucket"] else { throw ParameterValidator.failure(["Missing required parameter: 'Bucket'"]) }
            guard let key = source["Key"] else { throw ParameterValidator.failure(["Missing required parameter: 'Key'"]) }
            let bucketName = PythonText.str(bucket)
            let path = isARN(bucketName) ? "\(bucketName)/object/\(PythonText.str(key))" : "\(bucketName)/\(PythonText.str(key))"
            let version = source["VersionId"].flatMap { $0 == .null ? nil : "?versionId=" + PythonText.str($0) } ?? ""
            parameters["CopySource"] = .string(PercentEncoding.quoted(path, safe: "/") + version)
        default:
            break
        }
    }

    /// botocore's sse_md5: a customer key given as text (or bytes) goes base64-encoded, with the
    /// base64 of its MD5, unless the caller gave the MD5.
    static func encodeCustomerKey(_ parameters: inout JSONObject, prefix: String) {
        guard let key = parameters[prefix + "Key"], key != .null, parameters[prefix + "KeyMD5"] == nil,
              let bytes = Blob.bytes(key) else { return }
        parameters[prefix + "Key"] = .string(Base64.encode(bytes))
        parameters[prefix + "KeyMD5"] = .string(Base64.encode(Digest.md5(bytes)))
    }
}
