import Basics
import Curl
import Spool
import TaskRunner

/// One request of a chain of redirects: where it goes, its method, body and headers.
struct Hop {
    var url: String
    var method: String
    var body: [UInt8]?
    var headers: [(String, String)]
}

/// Redirects followed as python-requests follows them (`Session.resolve_redirects`), one request
/// at a time, rather than by libcurl: the method a redirect turns into, the body and headers it
/// drops, and the Authorization header it keeps only on the same host, are requests' rules.
enum Redirects {
    static let statuses: Set<Int> = [301, 302, 303, 307, 308]

    /// The Location a redirect answer points to; nil for any other answer.
    static func target(of response: CurlEasy.Response) -> String? {
        guard statuses.contains(response.statusCode) else { return nil }
        return response.headers.first { $0.name.lowercased() == "location" }?.value
    }

    /// The request that follows `hop` to `location`, which its answer with `status` gave.
    static func next(after hop: Hop, status: Int, location: String) throws(RESTError) -> Hop {
        let url = try resolve(location, against: hop.url)
        var next = Hop(url: url, method: method(after: status, hop.method), body: hop.body, headers: hop.headers)
        if status != 307 && status != 308 {
            next.headers.removeAll { ["content-length", "content-type", "transfer-encoding"].contains($0.0.lowercased()) }
            next.body = sendsEmptyBody(next.method) ? [] : nil
        }
        // Cookies come from the cookie engine, which knows their hosts; a Cookie header does not.
        next.headers.removeAll { $0.0.lowercased() == "cookie" }
        if stripsAuthorization(from: hop.url, to: url) {
            next.headers.removeAll { $0.0.lowercased() == "authorization" }
        }
        return next
    }

    /// requests' `rebuild_method`: 303 and 302 turn any method but HEAD into GET, 301 turns POST
    /// into GET, 307 and 308 keep it.
    static func method(after status: Int, _ method: String) -> String {
        switch status {
        case 302 where method != "HEAD", 303 where method != "HEAD": "GET"
        case 301 where method == "POST": "GET"
        default: method
        }
    }

    /// Whether urllib3 sends `Content-Length: 0` for a method whose body a redirect dropped: for
    /// all but the methods that expect none.
    static func sendsEmptyBody(_ method: String) -> Bool {
        !["GET", "HEAD", "DELETE", "TRACE", "OPTIONS", "CONNECT"].contains(method)
    }

    /// The absolute URL of a Location, percent-encoded as requests sends it: relative to the URL
    /// answered, `//host/...` in that URL's scheme, and without a user and password, which requests
    /// does not send on.
    static func resolve(_ location: String, against base: String) throws(RESTError) -> String {
        let shown = Protection.redactingUserInfo(location).escapingControlCharacters()
        var reference = location
        if reference.hasPrefix("//"), let scheme = URLParts(base)?.scheme { reference = scheme + ":" + reference }
        guard !reference.hasLineBreakOrNUL, let joined = joined(RESTRequest.requoted(reference), base) else {
            throw .badLocation(shown: shown)
        }
        guard joined.hasPrefix("http://") || joined.hasPrefix("https://") else {
            throw .notHTTP(shown: shown)
        }
        return RESTRequest.withoutUserInfo(joined).url
    }

    /// `reference` resolved against `base` (RFC 3986, section 5), by libcurl's URL parser.
    static func joined(_ reference: String, _ base: String) -> String? {
        try? CurlURL(parsing: base).resolving(reference).text()
    }

    /// requests' `should_strip_auth`: the Authorization header goes along only to the same host,
    /// scheme and port (a default port written or not), or from http on port 80 to https on 443.
    static func stripsAuthorization(from old: String, to new: String) -> Bool {
        guard let from = URLParts(old), let to = URLParts(new), from.host == to.host else { return true }
        if from.scheme == "http" && from.port == "80" && to.scheme == "https" && to.port == "443" { return false }
        return from.scheme != to.scheme || from.port != to.port
    }
}

/// The scheme, host and port of a URL, in lower case, the port a scheme's default when not written.
struct URLParts: Equatable {
    var scheme: String
    var host: String
    var port: String

    init?(_ url: String) {
        guard let parsed = try? CurlURL(parsing: url), let scheme = try? parsed.scheme(), let host = try? parsed.host(),
              let port = try? parsed.port() else { return nil }
        self.scheme = scheme.lowercased()
        self.host = host.lowercased()
        self.port = port
    }
}
