import JSON
import TaskRunner

/// The REST task's inputs, read and checked before anything goes on the wire.
struct RESTRequest {
    var url: String
    var method: String
    var body: [UInt8]?
    var headers: [(String, String)]
    var cookies: [(String, String)]
    var caCertificate: String?
    var expectedStatusCodes: [Int]
    var passUserToken: Bool
    var timeout: Double

    static let defaultExpectedStatusCodes = [200, 201, 202, 204]
    static let defaultTimeout = 60.0

    init(_ inputs: inout TaskInputs) throws(TaskFailure) {
        url = try inputs.requiredString("url")
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw TaskFailure("input 'url' must start with http:// or https://, not '\(Self.redactingUserInfo(url))'")
        }
        method = try Self.method(inputs.string("method") ?? "get")
        headers = try inputs.stringDictionary("headers") ?? []
        cookies = try inputs.stringDictionary("cookies") ?? []
        body = try Self.body(inputs.value("data"), headers: &headers)
        caCertificate = try inputs.string("cacert")
        expectedStatusCodes = try Self.statusCodes(inputs.value("expected_status_code"))
        passUserToken = try inputs.bool("pass_user_token") ?? false
        timeout = try inputs.number("timeout") ?? Self.defaultTimeout
        guard timeout > 0 else { throw TaskFailure("input 'timeout' must be a positive number of seconds, not \(timeout)") }
        try inputs.rejectUnknown()
    }

    /// Any HTTP method (a token of RFC 9110), in upper case as servers expect it.
    static func method(_ text: String) throws(TaskFailure) -> String {
        let tokenCharacters = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        guard !text.isEmpty, text.allSatisfy({ tokenCharacters.contains($0) }) else {
            throw TaskFailure("input 'method' is not an HTTP method: '\(text)'")
        }
        return text.uppercased()
    }

    /// `data`: a string is sent as it is; a dictionary or list as JSON, with a JSON content type
    /// unless the headers name one.
    static func body(_ data: JSON?, headers: inout [(String, String)]) throws(TaskFailure) -> [UInt8]? {
        switch data {
        case nil: return nil
        case .string(let text)?: return Array(text.utf8)
        case let value?:
            if !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                headers.append(("Content-Type", "application/json"))
            }
            return Array(value.compactText.utf8)
        }
    }

    static func statusCodes(_ value: JSON?) throws(TaskFailure) -> [Int] {
        guard let value else { return defaultExpectedStatusCodes }
        if let single = value.intValue { return [single] }
        guard let list = value.arrayValue else {
            throw TaskFailure("input 'expected_status_code' must be a list of status codes, not \(value.kindDescription)")
        }
        return try list.map { (element) throws(TaskFailure) -> Int in
            guard let code = element.intValue, (100...999).contains(code) else {
                throw TaskFailure("input 'expected_status_code' must hold status codes (100 to 999), not \(element.compactText)")
            }
            return code
        }
    }

    /// The URL without user and password, for logs and messages.
    static func redactingUserInfo(_ url: String) -> String {
        let parts = url.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[0].hasSuffix(":"), parts[1].isEmpty,
              let at = parts[2].lastIndex(of: "@") else { return url }
        var redacted = parts
        redacted[2] = "****@" + parts[2][parts[2].index(after: at)...]
        return redacted.joined(separator: "/")
    }
}
