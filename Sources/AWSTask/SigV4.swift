import Curl
import OpenSSL
import POSIX

/// AWS credentials: an access key, its secret, and for temporary ones a session token.
struct Credentials {
    var accessKeyID: String
    var secretAccessKey: String
    var sessionToken: String?
}

/// An HTTP request as AWS signs it.
struct SignedRequest {
    var method: String
    /// Scheme and host, with a port when it is not the scheme's own: https://sts.amazonaws.com
    var endpoint: String
    /// The path, percent-encoded as it goes on the wire.
    var path: String
    /// Query parameters, not yet encoded.
    var query: [(String, String)]
    var headers: [(String, String)]
    var body: [UInt8]

    /// Adds a header unless one of that name (in any case) is there already: given by the caller.
    mutating func setHeaderUnlessGiven(_ name: String, _ value: String) {
        guard !headers.contains(where: { $0.0.lowercased() == name.lowercased() }) else { return }
        headers.append((name, value))
    }

    var url: String {
        endpoint + path + (query.isEmpty ? "" : "?" + SigV4.canonicalQuery(query))
    }
}

/// AWS Signature Version 4 (docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html),
/// with OpenSSL's SHA-256 and HMAC-SHA256.
enum SigV4 {
    /// Adds the Authorization, X-Amz-Date (and X-Amz-Security-Token) headers. S3 signs an
    /// x-amz-content-sha256 header of its own and its path as sent; other services take the
    /// payload's hash unsent and encode the path once more for the signature.
    static func sign(_ request: inout SignedRequest, credentials: Credentials, region: String, service: String,
                     at time: Double = Clock.now()) {
        let isS3 = service == "s3"
        let stamp = amzDate(time)
        let day = String(stamp.prefix(8))
        let host = request.endpoint.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: true).dropFirst().first.map(String.init) ?? ""
        let payloadHash = Digest.hex(Digest.sha256(request.body))
        request.headers.removeAll { ["authorization", "x-amz-date", "x-amz-security-token", "host"].contains($0.0.lowercased()) }
        request.headers.append(("X-Amz-Date", stamp))
        if let token = credentials.sessionToken { request.headers.append(("X-Amz-Security-Token", token)) }
        if isS3 { request.headers.append(("x-amz-content-sha256", payloadHash)) }

        // Names lower-cased, values with runs of spaces made one, a name sent twice signed once with
        // its values comma-joined (botocore's canonical_headers).
        var merged: [(String, String)] = []
        for (name, value) in request.headers + [("host", host)] {
            let clean = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
            if let index = merged.firstIndex(where: { $0.0 == name.lowercased() }) {
                merged[index].1 += "," + clean
            } else {
                merged.append((name.lowercased(), clean))
            }
        }
        let signed = merged.sorted { $0.0 < $1.0 }
        let signedNames = signed.map(\.0).joined(separator: ";")
        let canonical = [
            request.method, isS3 ? request.path : PercentEncoding.quoted(normalized(request.path), safe: "/"), canonicalQuery(request.query),
            signed.map { "\($0.0):\($0.1)\n" }.joined(), signedNames, payloadHash,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let toSign = "AWS4-HMAC-SHA256\n\(stamp)\n\(scope)\n\(Digest.hex(Digest.sha256(Array(canonical.utf8))))"
        var key = Digest.hmacSHA256(key: Array(("AWS4" + credentials.secretAccessKey).utf8), Array(day.utf8))
        for part in [region, service, "aws4_request"] { key = Digest.hmacSHA256(key: key, Array(part.utf8)) }
        let signature = Digest.hex(Digest.hmacSHA256(key: key, Array(toSign.utf8)))
        request.headers.append((
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedNames), Signature=\(signature)"
        ))
    }

    /// A path without empty, "." and ".." segments, as every service but S3 signs it
    /// (botocore's normalize_url_path).
    static func normalized(_ path: String) -> String {
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." { _ = segments.popLast(); continue }
            segments.append(segment)
        }
        return "/" + segments.joined(separator: "/") + (path.hasSuffix("/") && !segments.isEmpty ? "/" : "")
    }

    /// 20261129T055600Z
    static func amzDate(_ time: Double) -> String {
        let iso = Clock.iso8601(time)  // 2026-11-29T05:56:00.123Z
        return iso.prefix(19).filter { $0 != "-" && $0 != ":" } + "Z"
    }

    /// Query parameters sorted and encoded as SigV4 wants them (and as they are sent).
    static func canonicalQuery(_ parameters: [(String, String)]) -> String {
        parameters.map { (PercentEncoding.quoted($0.0), PercentEncoding.quoted($0.1)) }
            .sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }
}
