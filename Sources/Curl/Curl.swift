import CCurl
import POSIX

/// A libcurl call that failed: its name, libcurl's code, and the detail libcurl wrote for it.
public struct CurlError: Error, CustomStringConvertible {
    public let call: String
    public let code: CURLcode
    public let detail: String

    public var description: String {
        let summary = String(cString: curl_easy_strerror(code))
        return detail.isEmpty || detail == summary ? "\(call): \(summary)" : "\(call): \(detail)"
    }

    public var isTimeout: Bool { code == CURLE_OPERATION_TIMEDOUT }
    public var isConnectFailure: Bool {
        code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_COULDNT_RESOLVE_PROXY
    }
    public var isTLSFailure: Bool {
        [CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CACERT_BADFILE,
         CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH].contains(code)
    }
    public var isTooLarge: Bool { code == CURLE_WRITE_ERROR }
}

/// One libcurl easy handle with typed options. The unsafe pointers stay in here.
public final class CurlEasy {
    private let handle: UnsafeMutableRawPointer
    /// Where libcurl writes the detail of a failure; it must outlive every call on the handle.
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    /// The lists handed to libcurl (headers, recipients), by option; libcurl does not copy them.
    private var lists: [UInt32: UnsafeMutablePointer<curl_slist>?] = [:]
    private let sink = ResponseSink()
    private var upload: UploadSource?

    /// libcurl's global state, set up once before any handle exists.
    private static let globalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_ALL))

    /// Initializes libcurl (and its TLS library) ahead of the first handle.
    public static func initializeLibrary() {
        _ = globalInit
    }

    public init() throws(CurlError) {
        let code = Self.globalInit
        guard code == CURLE_OK else { throw CurlError(call: "curl_global_init", code: code, detail: "") }
        guard let handle = curl_easy_init() else {
            throw CurlError(call: "curl_easy_init", code: CURLE_FAILED_INIT, detail: "")
        }
        self.handle = handle
        errorBuffer[0] = 0
        try setPointer(CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBuffer))
        let context = Unmanaged.passUnretained(sink).toOpaque()
        try check("CURLOPT_WRITEFUNCTION", flowspool_curl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, bodyCallback))
        try setPointer(CURLOPT_WRITEDATA, context)
        try check("CURLOPT_HEADERFUNCTION", flowspool_curl_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, headerCallback))
        try setPointer(CURLOPT_HEADERDATA, context)
    }

    deinit {
        curl_easy_cleanup(handle)
        lists.values.forEach { curl_slist_free_all($0) }
        errorBuffer.deallocate()
    }

    private func check(_ call: String, _ code: CURLcode) throws(CurlError) {
        guard code == CURLE_OK else {
            throw CurlError(call: call, code: code, detail: String(cString: errorBuffer))
        }
    }

    private func setPointer(_ option: CURLoption, _ value: UnsafeMutableRawPointer) throws(CurlError) {
        try check("curl_easy_setopt(\(option.rawValue))", flowspool_curl_setopt_pointer(handle, option, value))
    }

    public func set(_ option: CURLoption, _ value: Int) throws(CurlError) {
        try check("curl_easy_setopt(\(option.rawValue))", flowspool_curl_setopt_long(handle, option, value))
    }

    /// Sets a string option; libcurl copies it.
    public func set(_ option: CURLoption, _ value: String) throws(CurlError) {
        try check("curl_easy_setopt(\(option.rawValue))", flowspool_curl_setopt_string(handle, option, value))
    }

    /// Sets a binary option; libcurl copies the bytes (CURL_BLOB_COPY).
    public func set(_ option: CURLoption, blob: [UInt8]) throws(CurlError) {
        var bytes = blob
        let code = bytes.withUnsafeMutableBytes { raw in
            var value = curl_blob(data: raw.baseAddress, len: raw.count, flags: UInt32(CURL_BLOB_COPY))
            return flowspool_curl_setopt_pointer(handle, option, &value)
        }
        try check("curl_easy_setopt(\(option.rawValue))", code)
    }

    /// Sends `body` as the request body; libcurl copies it.
    public func setBody(_ body: [UInt8]) throws(CurlError) {
        try set(CURLOPT_POSTFIELDSIZE, body.count)
        var bytes = body.isEmpty ? [0] : body
        let code = bytes.withUnsafeMutableBytes { raw in
            flowspool_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, raw.baseAddress!)
        }
        try check("curl_easy_setopt(CURLOPT_COPYPOSTFIELDS)", code)
    }

    /// Sets a list option: CURLOPT_HTTPHEADER ("Name: value" each), CURLOPT_MAIL_RCPT, ...
    public func set(_ option: CURLoption, list items: [String]) throws(CurlError) {
        var list: UnsafeMutablePointer<curl_slist>?
        for item in items { list = curl_slist_append(list, item) }
        try check("curl_easy_setopt(\(option.rawValue))", flowspool_curl_setopt_slist(handle, option, list))
        if let previous = lists.updateValue(list, forKey: option.rawValue) { curl_slist_free_all(previous) }
    }

    /// Sends the cookie `name=value` to `host` alone: a host-only cookie (no domain attribute, path
    /// `/`, ending with the session) in libcurl's cookie engine, which this turns on. Unlike a raw
    /// `Cookie:` header, the engine does not send it to another host a redirect leads to. `secure`
    /// sends it over https only. libcurl drops, silently, a cookie line it cannot parse: the caller
    /// keeps tabs, line breaks and other control characters out of the name and value.
    public func addCookie(name: String, value: String, host: String, secure: Bool = false) throws(CurlError) {
        try set(CURLOPT_COOKIELIST, "\(host)\tFALSE\t/\t\(secure ? "TRUE" : "FALSE")\t0\t\(name)\t\(value)")
    }

    /// The host name of `url` as libcurl connects to it (an international name in punycode, an
    /// IPv6 address without its brackets); nil when libcurl cannot parse the URL or it has no host.
    public static func host(of url: String) -> String? {
        guard let host = try? CurlURL(parsing: url).host(punycode: true) else { return nil }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        return bare.isEmpty ? nil : bare
    }

    /// What every flowspool transfer starts from: the URL, the protocols it may speak, no signals,
    /// the time limit for the whole transfer (and, when given, for connecting), TLS always verified.
    public func setTransfer(url: String, protocols: String, timeout: Double, connectTimeout: Double? = nil) throws(CurlError) {
        try set(CURLOPT_URL, url)
        try set(CURLOPT_PROTOCOLS_STR, protocols)
        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_TIMEOUT_MS, Int(timeout * 1000))
        if let connectTimeout { try set(CURLOPT_CONNECTTIMEOUT_MS, Int(connectTimeout * 1000)) }
        try set(CURLOPT_SSL_VERIFYPEER, 1)
        try set(CURLOPT_SSL_VERIFYHOST, 2)
    }

    /// Uploads `bytes` (an SMTP message, a PUT body) through libcurl's read callback.
    public func setUpload(_ bytes: [UInt8]) throws(CurlError) {
        let source = UploadSource(bytes)
        upload = source
        try check("CURLOPT_READFUNCTION", flowspool_curl_setopt_data_callback(handle, CURLOPT_READFUNCTION, uploadCallback))
        try setPointer(CURLOPT_READDATA, Unmanaged.passUnretained(source).toOpaque())
        try set(CURLOPT_INFILESIZE_LARGE, bytes.count)
        try set(CURLOPT_UPLOAD, 1)
    }

    /// Refuses bodies larger than this many bytes (the transfer fails with a write error).
    public var bodyLimit: Int {
        get { sink.limit }
        set { sink.limit = newValue }
    }

    /// What the server answered: the final response's status line, headers and body.
    public struct Response {
        public let statusCode: Int
        /// Header lines of the final response, in order, as (name, value).
        public let headers: [(name: String, value: String)]
        /// Every line the server sent before the body, as it sent it: for SMTP, its replies.
        public let lines: [String]
        public let body: [UInt8]
        public let totalTime: Double
    }

    public func perform() throws(CurlError) -> Response {
        sink.reset()
        errorBuffer[0] = 0
        try check("curl_easy_perform", curl_easy_perform(handle))
        var status = 0
        try check("CURLINFO_RESPONSE_CODE", flowspool_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status))
        var seconds = 0.0
        _ = flowspool_curl_getinfo_double(handle, CURLINFO_TOTAL_TIME, &seconds)
        return Response(statusCode: status, headers: sink.headers, lines: sink.lines, body: sink.body, totalTime: seconds)
    }

    /// The lines the server sent on the last transfer, failed or not: for SMTP, its replies.
    public var serverLines: [String] { sink.lines }

    /// The system's trusted CAs (libcurl's default bundle) with one more: a PEM text, or the path
    /// of a PEM file. For CURLOPT_CAINFO_BLOB.
    public static func trustedCertificates(adding certificate: String) throws(SystemError) -> [UInt8] {
        var bundle: [UInt8] = []
        if let system = defaultCABundle, let bytes = try? FileSystem.readFile(system) {
            bundle = bytes + [0x0a]
        }
        if certificate.contains("-----BEGIN") {
            return bundle + Array(certificate.utf8) + [0x0a]
        }
        return bundle + (try FileSystem.readFile(certificate, limit: 1 << 20))
    }

    /// The CA bundle libcurl verifies against when given none: the system's trust store.
    public static var defaultCABundle: String? {
        guard let easy = curl_easy_init() else { return nil }
        defer { curl_easy_cleanup(easy) }
        var path: UnsafeMutablePointer<CChar>?
        guard flowspool_curl_getinfo_string(easy, CURLINFO_CAINFO, &path) == CURLE_OK, let path else { return nil }
        return String(cString: path)
    }
}

/// Collects a response as libcurl hands it over. Headers restart with each status line, so that
/// after redirects only the final response's headers remain.
final class ResponseSink {
    var body: [UInt8] = []
    var headers: [(name: String, value: String)] = []
    var lines: [String] = []
    var limit = Int.max

    func reset() {
        body = []
        headers = []
        lines = []
    }

    func appendHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        var end = bytes.count
        while end > 0, bytes[end - 1] == 0x0a || bytes[end - 1] == 0x0d { end -= 1 }
        let line = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<end]), as: UTF8.self)
        lines.append(line)
        if line.hasPrefix("HTTP/") {
            headers = []
        } else if let colon = line.firstIndex(of: ":") {
            let name = String(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingSpaces
            headers.append((name, value))
        }
    }
}

/// The bytes of an upload, handed to libcurl as it asks for them.
final class UploadSource {
    let bytes: [UInt8]
    var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

private func bodyCallback(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    guard let data, let context else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    if sink.body.count + length > sink.limit { return 0 }
    sink.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length))
    return length
}

private func headerCallback(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    guard let data, let context else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
    sink.appendHeaderLine(UnsafeRawBufferPointer(start: data, count: size * count))
    return size * count
}

private func uploadCallback(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    guard let data, let context else { return 0 }
    let source = Unmanaged<UploadSource>.fromOpaque(context).takeUnretainedValue()
    let length = min(size * count, source.bytes.count - source.offset)
    guard length > 0 else { return 0 }
    source.bytes.withUnsafeBytes { raw in
        UnsafeMutableRawPointer(data).copyMemory(from: raw.baseAddress! + source.offset, byteCount: length)
    }
    source.offset += length
    return length
}
