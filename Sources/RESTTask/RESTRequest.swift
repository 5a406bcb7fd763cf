import Curl
import JSON
import POSIX
import Spool
import TaskRunner

/// The REST task's inputs, read and checked before anything goes on the wire.
struct RESTRequest {
    var url: String
    var method: String
    var body: [UInt8]?
    var headers: [(String, String)]
    var cookies: [(String, String)]
    var caCertificate: String?
    /// The system's trusted CAs with `cacert` added, when it is given.
    var trustedCertificates: [UInt8]?
    var expectedStatusCodes: [Int]
    var passUserToken: Bool
    var timeout: Double

    static let defaultExpectedStatusCodes = [200, 201, 202, 204]
    static let defaultTimeout = 60.0
    /// About 24 days: what libcurl's millisecond timeouts hold.
    static let longestTimeout = 2_000_000.0

    init(_ inputs: inout TaskInputs) throws(TaskFailure) {
        url = try inputs.requiredString("url")
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw TaskFailure("input 'url' must start with http:// or https://, not '\(Protection.redactingUserInfo(url))'")
        }
        try Self.refuseLineBreaks(url, input: "url")
        method = try Self.method(inputs.string("method") ?? "get")
        headers = try inputs.stringDictionary("headers") ?? []
        for (name, value) in headers {
            guard Self.isToken(name) else {
                throw TaskFailure("input 'headers' has a header name that is not an HTTP token: '\(name.escapingControlCharacters())'; nothing was sent")
            }
            try Self.refuseLineBreaks(value, input: "headers", item: name)
        }
        cookies = try inputs.stringDictionary("cookies") ?? []
        for (name, value) in cookies {
            try Self.refuseLineBreaks(name, input: "cookies", item: name)
            try Self.refuseLineBreaks(value, input: "cookies", item: name)
        }
        body = try Self.body(inputs.value("data"), headers: &headers)
        caCertificate = try inputs.string("cacert")
        trustedCertificates = try caCertificate.map(Self.trustedCertificates(adding:))
        expectedStatusCodes = try Self.statusCodes(inputs.value("expected_status_code"))
        passUserToken = try inputs.bool("pass_user_token") ?? false
        timeout = try inputs.number("timeout") ?? Self.defaultTimeout
        guard timeout > 0 && timeout <= Self.longestTimeout else {
            throw TaskFailure("input 'timeout' must be a positive number of seconds up to \(Int(Self.longestTimeout)), not \(timeout)")
        }
        try inputs.rejectUnknown()
    }

    /// The system's trusted CAs (libcurl's default bundle) with `cacert` added: a PEM text, or the
    /// path of a PEM file.
    static func trustedCertificates(adding certificate: String) throws(TaskFailure) -> [UInt8] {
        do {
            return try CurlEasy.trustedCertificates(adding: certificate)
        } catch {
            throw TaskFailure("input 'cacert' is neither a PEM certificate nor a readable file: \(error)")
        }
    }

    /// Any HTTP method (a token of RFC 9110), in upper case as servers expect it.
    static func method(_ text: String) throws(TaskFailure) -> String {
        guard isToken(text) else {
            throw TaskFailure("input 'method' is not an HTTP method: '\(text.escapingControlCharacters())'; nothing was sent")
        }
        return text.uppercased()
    }

    /// A token of RFC 9110: what methods and header names are made of.
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { tokenBytes.contains($0) }
    }

    static let tokenBytes = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)

    /// Refuses CR, LF and NUL, with which a value would end its header line and start another of
    /// the sender's choosing (header injection).
    static func refuseLineBreaks(_ value: String, input: String, item: String? = nil) throws(TaskFailure) {
        guard value.hasLineBreakOrNUL else { return }
        let which = item.map { " ('\($0.escapingControlCharacters())')" } ?? ""
        throw TaskFailure("input '\(input)'\(which) holds a CR, LF or NUL character, which would start another header line; refused, nothing was sent")
    }

    /// `data`: a string is sent as it is; a dictionary or list as JSON, with a JSON content type
    /// unless the headers name one.
    static func body(_ data: JSON?, headers: inout [(String, String)]) throws(TaskFailure) -> [UInt8]? {
        let namesContentType = headers.contains { $0.0.lowercased() == "content-type" }
        switch data {
        case nil: return nil
        case .string(let text)?:
            // Sent as it is, with no content type unless the headers name one (libcurl would say
            // application/x-www-form-urlencoded; an empty header value removes it).
            if !namesContentType { headers.append(("Content-Type", "")) }
            return Array(text.utf8)
        case let value?:
            if !namesContentType { headers.append(("Content-Type", "application/json")) }
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
}
