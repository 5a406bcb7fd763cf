import Curl
import JSON

/// A response's headers as botocore reads them through urllib3's HTTPHeaderDict: names in any
/// case, and a header sent more than once is one value, its values joined with ", ".
extension CurlEasy.Response {
    /// The values of the header `name`, joined; nil when it was not sent.
    func joinedHeader(_ name: String) -> String? {
        let values = headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
        return values.isEmpty ? nil : values.joined(separator: ", ")
    }

    /// Every header, as ResponseMetadata.HTTPHeaders holds them: lower-case names in the order they
    /// first came, each with its values joined.
    var joinedHeaders: JSONObject {
        var joined = JSONObject()
        for (name, value) in headers {
            let key = name.lowercased()
            joined[key] = .string(joined[key]?.stringValue.map { $0 + ", " + value } ?? value)
        }
        return joined
    }

    /// The headers whose names start with `prefix` (S3's x-amz-meta-), by the rest of their name as
    /// first sent (botocore's _parse_header_map), with their values joined.
    func joinedHeaders(prefixed prefix: String) -> JSONObject {
        var joined = JSONObject()
        var names: [String: String] = [:]  // lower-cased rest -> the rest as first sent
        for (name, value) in headers where name.lowercased().hasPrefix(prefix.lowercased()) {
            let rest = String(name.dropFirst(prefix.count))
            let key = names[rest.lowercased()] ?? rest
            names[rest.lowercased()] = key
            joined[key] = .string(joined[key]?.stringValue.map { $0 + ", " + value } ?? value)
        }
        return joined
    }
}
