import Basics
import Curl
import JSON
import POSIX
import Spool
import TaskRunner

/// The REST task's inputs, read and checked before anything goes on the wire.
struct RESTRequest {
    /// The URL as it goes out: percent-encoded as requests sends it, `params` added to its query,
    /// without the user and password, which go in `headers` as an Authorization header.
    var url: String
    /// The URL for the log and messages: as it goes out, its user and password shown as `****`,
    /// and its `params` too when they are protected; only `scheme://host:port/****` when `url`
    /// itself is protected.
    var shownURL: String
    var method: String
    var body: RESTBody?
    var headers: [(String, String)]
    var cookies: [(String, String)]
    /// The host the cookies are sent to, when there are cookies.
    var cookieHost: String?
    var caCertificate: String?
    /// The system's trusted CAs with `cacert` added, when it is given.
    var trustedCertificates: [UInt8]?
    var expectedStatusCodes: [Int]
    var passUserToken: Bool
    /// Seconds for one try: the request and the redirects it follows.
    var timeout: Double
    var connectTimeout: Double
    /// Seconds without a byte received, when given.
    var readTimeout: Double?
    var allowRedirects: Bool
    var maxRedirects: Int
    var retryBackoff: RetryBackoff?

    static let defaultExpectedStatusCodes = [200, 201, 202, 204]
    static let defaultTimeout = 60.0
    static let defaultConnectTimeout = 30.0
    /// requests' `Session.max_redirects`.
    static let defaultMaxRedirects = 30
    /// About 24 days: what libcurl's millisecond timeouts hold.
    static let longestTimeout = 2_000_000.0

    init(_ inputs: inout TaskInputs) throws(TaskFailure) {
        let given = try inputs.requiredString("url")
        // Protected inputs stay out of the log and messages, as they do everywhere.
        let protected = Protection.protectedInputs(["protect_inputs": inputs.value("protect_inputs") ?? .null])
        let urlProtected = protected.contains("url")
        guard given.hasPrefix("http://") || given.hasPrefix("https://") else {
            let shown = urlProtected ? "" : ", not '\(Protection.redactingUserInfo(given))'"
            throw TaskFailure("input 'url' must start with http:// or https://\(shown)")
        }
        // Refused, not encoded: a line break in a URL is an injection more often than a typo.
        try Self.refuseLineBreaks(given, input: "url")
        let requoted = Self.requoted(given)
        let params = try Self.encoded(params: inputs.dictionary("params"))
        let full = Self.appending(query: params, to: requoted)
        if urlProtected {
            shownURL = Self.protectedShown(full)
        } else {
            shownURL = Protection.redactingUserInfo(protected.contains("params") && !params.isEmpty ? Self.appending(query: "****", to: requoted) : full)
        }
        let credentials: String?
        (url, credentials) = Self.withoutUserInfo(full)
        method = try Self.method(inputs.string("method") ?? "get")
        headers = try inputs.stringDictionary("headers") ?? []
        for (name, value) in headers {
            guard Self.isToken(name) else {
                throw TaskFailure("input 'headers' has a header name that is not an HTTP token: '\(name.escapingControlCharacters())'; nothing was sent")
            }
            try Self.refuseLineBreaks(value, input: "headers", item: name)
        }
        if let credentials {
            // As requests does, the URL's user and password win over an Authorization header.
            headers.removeAll { $0.0.lowercased() == "authorization" }
            headers.append(("Authorization", credentials))
        }
        cookies = try inputs.stringDictionary("cookies") ?? []
        for (name, value) in cookies {
            try Self.checkCookie(name: name, value: value, overHTTPS: url.hasPrefix("https://"))
        }
        if !cookies.isEmpty {
            guard let host = Self.cookieHost(url: url, headers: headers) else {
                throw TaskFailure("input 'url' has no host name to send the cookies to: '\(shownURL.escapingControlCharacters())'; nothing was sent")
            }
            cookieHost = host
        }
        body = try RESTBody.from(&inputs, headers: headers)
        if let type = body?.contentType, !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
            headers.append(("Content-Type", type))
        }
        caCertificate = try inputs.string("cacert")
        trustedCertificates = try caCertificate.map(Self.trustedCertificates(adding:))
        expectedStatusCodes = try Self.statusCodes(inputs.value("expected_status_code"))
        passUserToken = try inputs.bool("pass_user_token") ?? false
        timeout = try Self.seconds(inputs.number("timeout"), "timeout") ?? Self.defaultTimeout
        connectTimeout = try Self.seconds(inputs.number("connect_timeout"), "connect_timeout") ?? Self.defaultConnectTimeout
        readTimeout = try Self.seconds(inputs.number("read_timeout"), "read_timeout")
        allowRedirects = try inputs.bool("allow_redirects") ?? true
        maxRedirects = try inputs.integer("max_redirects") ?? Self.defaultMaxRedirects
        guard maxRedirects >= 0 else {
            throw TaskFailure("input 'max_redirects' must be 0 or more, not \(maxRedirects)")
        }
        retryBackoff = try inputs.dictionary("retry_backoff").map(RetryBackoff.init)
        try inputs.rejectUnknown()
    }

    /// A protected URL as the log and messages show it: `scheme://host:port/****`, the port the
    /// scheme's default when the URL writes none; `scheme://****` when libcurl cannot parse it.
    static func protectedShown(_ url: String) -> String {
        guard let parsed = try? CurlURL(parsing: url), let scheme = try? parsed.scheme(), let host = try? parsed.host(),
              let port = try? parsed.port() else {
            return (url.hasPrefix("https://") ? "https" : "http") + "://****"
        }
        return "\(scheme)://\(host):\(port)/****"
    }

    /// The first request of a try. A method other than GET and HEAD without a body sends an empty
    /// one (`Content-Length: 0`), as requests does.
    var firstHop: Hop {
        Hop(url: url, method: method, body: body?.bytes ?? (["GET", "HEAD"].contains(method) ? nil : []), headers: headers)
    }

    /// A timeout input: a positive number of seconds up to `longestTimeout`.
    static func seconds(_ value: Double?, _ input: String) throws(TaskFailure) -> Double? {
        guard let value else { return nil }
        guard value > 0 && value <= longestTimeout else {
            throw TaskFailure("input '\(input)' must be a positive number of seconds up to \(Int(longestTimeout)), not \(value)")
        }
        return value
    }

    /// `params` urlencoded as requests encodes them; empty when there are none.
    static func encoded(params: JSONObject?) throws(TaskFailure) -> String {
        guard let params else { return "" }
        return PercentEncoding.formEncoded(try RESTBody.pairs(params, input: "params"))
    }

    /// `query` (urlencoded `params`) added to the URL's query as requests adds it: after a `&`
    /// when the URL has a query, before the fragment.
    static func appending(query: String, to url: String) -> String {
        guard !query.isEmpty else { return url }
        let hash = url.firstIndex(of: "#") ?? url.endIndex
        let beforeFragment = String(url[..<hash])
        let separator = beforeFragment.contains("?") ? (beforeFragment.hasSuffix("?") ? "" : "&") : "?"
        return beforeFragment + separator + query + url[hash...]
    }

    /// The URL without its user and password, and the Authorization header they make (Basic, of
    /// the percent-decoded user and password, as requests and libcurl send them); nil when the URL
    /// has none.
    static func withoutUserInfo(_ url: String) -> (url: String, authorization: String?) {
        guard let scheme = url.firstRange(of: "://") else { return (url, nil) }
        let authorityEnd = url[scheme.upperBound...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? url.endIndex
        guard let at = url[scheme.upperBound..<authorityEnd].lastIndex(of: "@") else { return (url, nil) }
        let userInfo = PercentEncoding.decode(url[scheme.upperBound..<at])
        let bare = String(url[..<scheme.upperBound]) + url[url.index(after: at)...]
        return (bare, "Basic " + Base64.encode(userInfo.contains(UInt8(ascii: ":")) ? userInfo : userInfo + [UInt8(ascii: ":")]))
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

    /// Refuses a cookie that would not go out as given: a `;` or `,` would end it and add cookies
    /// of the sender's choosing, a CR, LF or NUL would start a header line, a tab or another control
    /// character would make libcurl's cookie engine drop the cookie silently, and a name that is
    /// empty or holds `=` or a space would be read as another name. Python requests sends all of
    /// these as written. The value is never shown: it may be a secret.
    static func checkCookie(name: String, value: String, overHTTPS: Bool) throws(TaskFailure) {
        let shown = name.escapingControlCharacters()
        guard !name.isEmpty, !name.utf8.contains(where: { cookieNameForbids($0) }) else {
            throw TaskFailure("input 'cookies' has a cookie name that cannot be sent: '\(shown)' (a name may not be empty or hold '=', ';', ',', spaces or control characters such as CR, LF or NUL); nothing was sent")
        }
        guard !value.utf8.contains(where: { cookieValueForbids($0) }) else {
            throw TaskFailure("input 'cookies' ('\(shown)'): the value holds ';', ',' or a control character such as CR, LF or NUL, which would add cookies or header lines; refused, nothing was sent")
        }
        if isSecurePrefixed(name) && !overHTTPS {
            throw TaskFailure("input 'cookies' ('\(shown)'): a cookie named __Secure-... or __Host-... is sent over https only, and the url is http; nothing was sent")
        }
    }

    /// The host a request is addressed to, which its cookies are bound to: the Host header's
    /// without its port when `headers` name one (libcurl matches cookies against it then), else
    /// the URL's.
    static func cookieHost(url: String, headers: [(String, String)]) -> String? {
        let header = headers.last { $0.0.lowercased() == "host" }?.1.trimming(" \t") ?? ""
        return CurlEasy.host(of: header.isEmpty ? url : "http://" + header)
    }

    /// `__Secure-` and `__Host-` cookies, which libcurl keeps only when they are marked secure.
    static func isSecurePrefixed(_ name: String) -> Bool {
        let lowered = name.lowercased()
        return lowered.hasPrefix("__secure-") || lowered.hasPrefix("__host-")
    }

    static func cookieValueForbids(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == 0x7f || byte == UInt8(ascii: ";") || byte == UInt8(ascii: ",")
    }

    static func cookieNameForbids(_ byte: UInt8) -> Bool {
        cookieValueForbids(byte) || byte == UInt8(ascii: "=") || byte == UInt8(ascii: " ")
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
