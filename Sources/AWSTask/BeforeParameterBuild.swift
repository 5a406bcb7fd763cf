import JSON
import TaskRunner

/// botocore's before-parameter-build handlers that refuse a call's parameters before anything is
/// sent (handlers.py), in its words: S3's bucket names, which go into the request's path
/// (validate_bucket_name: "a/../b" must not name another path), and S3's user metadata, which
/// travels in headers and must be ASCII (validate_ascii_metadata). Checked for every call, as
/// botocore's handlers run for each, the pages' and the waiters' calls too.
enum BeforeParameterBuild {
    static func check(_ parameters: JSONObject, model: ServiceModel, operation: Operation) throws(TaskFailure) {
        guard model.client == "s3" else { return }
        if let bucket = parameters["Bucket"]?.stringValue, !isBucketName(bucket) {
            throw invalid("Invalid bucket name \"\(bucket)\": Bucket name must match the regex \"\(bucketPattern)\" or be an ARN matching the regex \"\(arnPattern)\"")
        }
        guard ["PutObject", "CopyObject", "CreateMultipartUpload"].contains(operation.name) else { return }
        for (key, value) in parameters["Metadata"]?.objectValue ?? [:] {
            guard let text = value.stringValue, !(key + text).unicodeScalars.allSatisfy(\.isASCII) else { continue }
            throw invalid("Non ascii characters found in S3 metadata for key \"\(key)\", value: \"\(text)\".  \nS3 metadata can only contain ASCII characters. ")
        }
    }

    /// botocore's VALID_BUCKET and VALID_S3_ARN (access points, outposts' access points).
    static let bucketPattern = #"^[a-zA-Z0-9.\-_]{1,255}$"#
    static let arnPattern = #"^arn:(aws).*:(s3|s3-object-lambda):[a-z\-0-9]*:[0-9]{12}:accesspoint[/:][a-zA-Z0-9\-.]{1,63}$|^arn:(aws).*:s3-outposts:[a-z\-0-9]+:[0-9]{12}:outpost[/:][a-zA-Z0-9\-]{1,63}[/:]accesspoint[/:][a-zA-Z0-9\-]{1,63}$"#

    static func isBucketName(_ bucket: String) -> Bool {
        [bucketPattern, arnPattern].contains { pattern in (try? Regex(pattern)).map { bucket.firstMatch(of: $0) != nil } ?? false }
    }

    /// botocore's ParamValidationError.
    private static func invalid(_ report: String) -> TaskFailure {
        TaskFailure("Parameter validation failed:\n" + report)
    }
}
