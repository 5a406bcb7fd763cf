import CCurl
import Curl
import JSON
import POSIX
import Spool
import TaskRunner

/// The REST task: an HTTP request with libcurl, TLS always verified, redirects followed and
/// retries made as python-requests users know them.
public enum RESTTask {
    public static let taskType = "REST"
    /// Bodies larger than this end the execution in error rather than filling the spool.
    static let bodyLimit = 64 << 20

    /// Work a runner started to be reused does before its first execution arrives.
    public static func prepare() {
        CurlEasy.initializeLibrary()
    }

    public static func run(_ inputs: inout TaskInputs, context: TaskContext) throws(TaskFailure) -> TaskResult {
        let log = context.log
        let request = try RESTRequest(&inputs)
        if request.passUserToken {
            log.line("pass_user_token: flowspool has no platform users or tokens; no token is sent")
        }
        let shownURL = request.shownURL
        let response: CurlEasy.Response
        do throws(RESTError) {
            response = try Transfer(request: request, log: log).response()
        } catch {
            throw TaskFailure(error.message(request: request, shownURL: shownURL))
        }
        log.line("\(request.method) \(shownURL) -> \(response.statusCode), \(response.body.count) bytes in \(Clock.describeDuration(response.totalTime))")
        let outputs = RESTResponse(response: response).outputs
        guard request.expectedStatusCodes.contains(response.statusCode) else {
            let expected = request.expectedStatusCodes.map(String.init).joined(separator: ", ")
            // The start of the body helps, unless the flow protects the body's outputs.
            let bodyIsProtected = !inputs.protectedOutputs.isDisjoint(with: ["json", "text"])
            let body = bodyIsProtected ? "" : ": " + String(decoding: response.body.prefix(1000), as: UTF8.self)
            throw TaskFailure(
                "unexpected status code \(response.statusCode) from \(request.method) \(shownURL) (expected \(expected))\(body)",
                outputs: outputs)
        }
        return TaskResult(outputs: outputs)
    }
}

/// Why a request got no answer to hand over.
enum RESTError: Error {
    case curl(CurlError)
    /// A try's `timeout` ran out between two requests of a chain of redirects.
    case timedOut
    /// More redirects than `max_redirects` allows.
    case tooManyRedirects
    /// A redirect whose Location is no URL, as shown (its user and password masked).
    case badLocation(shown: String)
    /// A redirect to a URL that is not http:// or https://, as shown.
    case notHTTP(shown: String)

    /// The message for the execution: what failed, for which request, and the input that set the
    /// limit that was reached.
    func message(request: RESTRequest, shownURL: String) -> String {
        let target = "\(request.method) \(shownURL)"
        let limit = "timed out after \(Clock.describeDuration(request.timeout)) (the timeout input)"
        switch self {
        case .timedOut: return "\(target) \(limit)"
        // requests' words, so that a flow matching them keeps working.
        case .tooManyRedirects: return "\(target): Exceeded \(request.maxRedirects) redirects. (the max_redirects input)"
        case .badLocation(let shown): return "\(target): a redirect pointed to a Location that is no URL: '\(shown)'"
        case .notHTTP(let shown): return "\(target): a redirect pointed to a URL that is not http:// or https://: '\(shown)'"
        case .curl(let error):
            if error.isTimeout {
                if error.isReadTimeout, let read = request.readTimeout {
                    return "\(target) read timed out: no data for \(Clock.describeDuration(read.rounded(.up))) (the read_timeout input): \(error.detail)"
                }
                if error.isConnectTimeout && request.connectTimeout < request.timeout {
                    return "\(target) could not connect: timed out after \(Clock.describeDuration(request.connectTimeout)) (the connect_timeout input): \(error.detail)"
                }
                return "\(target) \(limit): \(error.detail)"
            }
            if error.isConnectFailure { return "\(target) could not connect: \(error.detail)" }
            if error.isTLSFailure {
                let hint = request.caCertificate == nil
                    ? " (is the server's certificate signed by a CA the system trusts? give its CA in the cacert input)"
                    : " (the cacert input does not vouch for the server's certificate)"
                return "\(target) failed TLS verification: \(error.detail)\(hint)"
            }
            if error.isTooLarge { return "\(target): the response body is larger than \(RESTTask.bodyLimit >> 20) MiB" }
            return "\(target) failed: \(error)"
        }
    }

    /// Whether another try may get an answer: nothing reached the server, or it closed the
    /// connection without answering. A timeout while waiting for the answer is not retried.
    var isRetryable: Bool {
        guard case .curl(let error) = self else { return false }
        return error.isConnectFailure || error.isConnectTimeout
            || [CURLE_GOT_NOTHING, CURLE_SEND_ERROR, CURLE_RECV_ERROR].contains(error.code)
    }
}

extension CurlError {
    /// libcurl's low-speed limit, which `read_timeout` sets, ended the transfer.
    var isReadTimeout: Bool { isTimeout && detail.contains("too slow") }
    /// The time to connect (or resolve the host) ran out. libcurl says so in more than one way:
    /// "Failed to connect to ... Timeout was reached", "Connection timeout after ...", "Connection
    /// timed out after ...", "Resolving timed out after ...".
    var isConnectTimeout: Bool {
        let text = detail.lowercased()
        return isTimeout && (text.contains("connect") || text.contains("resolving"))
    }
}

/// One execution's requests: tries of the request (more than one with `retry_backoff`), each
/// following its redirects, on one libcurl handle whose cookie engine carries the cookies the
/// answers set from one request to the next, as a requests session does.
struct Transfer {
    let request: RESTRequest
    let log: RunnerLog
    let easy: CurlEasy

    init(request: RESTRequest, log: RunnerLog) throws(RESTError) {
        self.request = request
        self.log = log
        do {
            easy = try CurlEasy()
            try configure()
        } catch {
            throw .curl(error)
        }
    }

    /// What stays the same for every request of the execution.
    private func configure() throws(CurlError) {
        try easy.setTransfer(url: request.url, protocols: "http,https", timeout: request.timeout)
        // Redirects are followed here, one request at a time (Redirects), never by libcurl.
        try easy.set(CURLOPT_FOLLOWLOCATION, 0)
        // What requests asks for and decodes.
        try easy.set(CURLOPT_ACCEPT_ENCODING, "gzip, deflate")
        try easy.set(CURLOPT_USERAGENT, "flowspool")
        // The cookie engine, on with no file: cookies an answer sets go along with later requests.
        try easy.set(CURLOPT_COOKIEFILE, "")
        if let read = request.readTimeout {
            // No byte for that many seconds: libcurl's low-speed limit, in whole seconds.
            try easy.set(CURLOPT_LOW_SPEED_LIMIT, 1)
            try easy.set(CURLOPT_LOW_SPEED_TIME, Int(read.rounded(.up)))
        }
        easy.bodyLimit = RESTTask.bodyLimit
        try addCookies()
        if let certificates = request.trustedCertificates {
            try easy.set(CURLOPT_CAINFO_BLOB, blob: certificates)
        }
    }

    /// The `cookies` input, bound to the host the request is addressed to (`cookieHost`), so that
    /// a redirect to another host does not carry them (python requests sends them there too).
    private func addCookies() throws(CurlError) {
        guard let host = request.cookieHost else { return }
        let secure = request.url.hasPrefix("https://")
        for (name, value) in request.cookies {
            // Only __Secure- and __Host- cookies are marked secure: libcurl drops them otherwise.
            try easy.addCookie(name: name, value: value, host: host, secure: secure && RESTRequest.isSecurePrefixed(name))
        }
    }

    /// The answer of the last try: tries go on while `retry_backoff` allows and the last one failed
    /// to connect or got a 5xx or 429 answer the job does not expect.
    func response() throws(RESTError) -> CurlEasy.Response {
        let started = Clock.monotonic()
        var retries = 0
        while true {
            let outcome: Result<CurlEasy.Response, RESTError>
            do { outcome = .success(try followingRedirects()) } catch { outcome = .failure(error) }
            guard let backoff = request.retryBackoff, let (delay, why) = retryDelay(after: outcome, backoff: backoff, retries: retries),
                  Clock.monotonic() + delay <= started + backoff.deadline else {
                return try outcome.get()
            }
            log.line("\(why); trying again in \(Clock.describeDuration(delay)) (retry_backoff, retry \(retries + 1))")
            Clock.sleep(delay)
            retries += 1
        }
    }

    /// How long to wait before retry number `retries` after `outcome`, and why; nil when the
    /// outcome is not worth another try. Never less than `RetryBackoff.shortestWait`.
    private func retryDelay(after outcome: Result<CurlEasy.Response, RESTError>, backoff: RetryBackoff, retries: Int) -> (Double, String)? {
        wantedDelay(after: outcome, backoff: backoff, retries: retries).map { (max($0.0, RetryBackoff.shortestWait), $0.1) }
    }

    /// The wait `retry_backoff` or the answer's `Retry-After` asks for, and why.
    private func wantedDelay(after outcome: Result<CurlEasy.Response, RESTError>, backoff: RetryBackoff, retries: Int) -> (Double, String)? {
        switch outcome {
        case .failure(let error):
            guard error.isRetryable else { return nil }
            return (backoff.delay(beforeRetry: retries), error.message(request: request, shownURL: request.shownURL))
        case .success(let response):
            guard RetryBackoff.isRetryable(status: response.statusCode, expected: request.expectedStatusCodes) else { return nil }
            let header = response.headers.last { $0.name.lowercased() == "retry-after" }?.value
            let asked = header.flatMap { RetryBackoff.retryAfter($0, now: Clock.now()) }
            return (asked ?? backoff.delay(beforeRetry: retries), "status \(response.statusCode)" + (asked == nil ? "" : ", Retry-After: \(header!)"))
        }
    }

    /// One try: the request, then each redirect it leads to while `allow_redirects` holds, within
    /// `timeout` for them all.
    private func followingRedirects() throws(RESTError) -> CurlEasy.Response {
        let deadline = Clock.monotonic() + request.timeout
        var hop = request.firstHop
        var redirects = 0
        while true {
            let left = deadline - Clock.monotonic()
            guard left > 0 else { throw .timedOut }
            let response: CurlEasy.Response
            do { response = try send(hop, timeLeft: left) } catch { throw .curl(error) }
            guard request.allowRedirects, let location = Redirects.target(of: response) else { return response }
            guard redirects < request.maxRedirects else { throw .tooManyRedirects }
            hop = try Redirects.next(after: hop, status: response.statusCode, location: location)
            redirects += 1
        }
    }

    /// One request: its URL, method, body and headers on the handle, then the answer.
    private func send(_ hop: Hop, timeLeft: Double) throws(CurlError) -> CurlEasy.Response {
        try easy.set(CURLOPT_URL, hop.url)
        try easy.set(CURLOPT_TIMEOUT_MS, max(1, Int(timeLeft * 1000)))
        try easy.set(CURLOPT_CONNECTTIMEOUT_MS, max(1, Int(min(request.connectTimeout, timeLeft) * 1000)))
        // From a clean GET: the previous request of the chain may have been a HEAD or had a body.
        try easy.set(CURLOPT_NOBODY, 0)
        try easy.set(CURLOPT_HTTPGET, 1)
        if hop.method == "HEAD" { try easy.set(CURLOPT_NOBODY, 1) }
        if let body = hop.body { try easy.setBody(body) }
        try easy.set(CURLOPT_CUSTOMREQUEST, hop.method)
        try easy.set(CURLOPT_HTTPHEADER, list: Self.headerLines(hop))
        return try easy.perform()
    }

    /// The header lines for libcurl: the hop's headers ("Name:" removes a header libcurl would add),
    /// no `Expect: 100-continue`, which requests never sends, and no content type for a body
    /// without one (libcurl would say it is a form).
    static func headerLines(_ hop: Hop) -> [String] {
        var headers = hop.headers
        if hop.body != nil && !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
            headers.append(("Content-Type", ""))
        }
        if !headers.contains(where: { $0.0.lowercased() == "expect" }) { headers.append(("Expect", "")) }
        return headers.map { $0.1.isEmpty ? "\($0.0):" : "\($0.0): \($0.1)" }
    }
}
