import CCurl

/// A libcurl URL API call (curl_url_...) that failed: its name and libcurl's code.
public struct CurlURLError: Error, CustomStringConvertible {
    public let call: String
    public let code: CURLUcode

    public var description: String { "\(call): \(String(cString: curl_url_strerror(code)))" }
}

/// A URL as libcurl's URL parser reads it (a CURLU handle), with the parts flowspool needs. The
/// unsafe pointers stay in here.
public final class CurlURL {
    private let handle: OpaquePointer

    /// An absolute URL, parsed.
    public convenience init(parsing url: String) throws(CurlURLError) {
        guard let handle = curl_url() else { throw CurlURLError(call: "curl_url", code: CURLUE_OUT_OF_MEMORY) }
        self.init(handle: handle)
        try set(url, "curl_url_set(CURLUPART_URL)")
    }

    private init(handle: OpaquePointer) {
        self.handle = handle
    }

    deinit {
        curl_url_cleanup(handle)
    }

    private func set(_ url: String, _ call: String) throws(CurlURLError) {
        let code = curl_url_set(handle, CURLUPART_URL, url, 0)
        guard code == CURLUE_OK else { throw CurlURLError(call: call, code: code) }
    }

    /// `location`, a URL or a reference relative to this one, resolved against this one (RFC 3986,
    /// section 5).
    public func resolving(_ location: String) throws(CurlURLError) -> CurlURL {
        guard let copy = curl_url_dup(handle) else { throw CurlURLError(call: "curl_url_dup", code: CURLUE_OUT_OF_MEMORY) }
        let resolved = CurlURL(handle: copy)
        try resolved.set(location, "curl_url_set(CURLUPART_URL, relative)")
        return resolved
    }

    /// The whole URL, as libcurl writes it back.
    public func text() throws(CurlURLError) -> String { try part(CURLUPART_URL, "CURLUPART_URL") }

    /// The scheme, in lower case.
    public func scheme() throws(CurlURLError) -> String { try part(CURLUPART_SCHEME, "CURLUPART_SCHEME") }

    /// The host as written (an IPv6 address in brackets); with `punycode`, an international name
    /// in punycode, as libcurl connects to it.
    public func host(punycode: Bool = false) throws(CurlURLError) -> String {
        try part(CURLUPART_HOST, "CURLUPART_HOST", punycode ? UInt32(CURLU_PUNYCODE) : 0)
    }

    /// The port, the scheme's default when the URL writes none.
    public func port() throws(CurlURLError) -> String {
        try part(CURLUPART_PORT, "CURLUPART_PORT", UInt32(CURLU_DEFAULT_PORT))
    }

    private func part(_ which: CURLUPart, _ name: String, _ flags: UInt32 = 0) throws(CurlURLError) -> String {
        var value: UnsafeMutablePointer<CChar>?
        let code = curl_url_get(handle, which, &value, flags)
        guard code == CURLUE_OK, let value else { throw CurlURLError(call: "curl_url_get(\(name))", code: code) }
        defer { curl_free(value) }
        return String(cString: value)
    }
}
