import CCurl
import Curl
import JSON
import POSIX
import Spool
import TaskRunner

/// The REST task: one HTTP request with libcurl, TLS always verified.
public enum RESTTask {
    public static let taskType = "REST"
    /// Bodies larger than this end the execution in error rather than filling the spool.
    static let bodyLimit = 64 << 20

    /// Work a standby runner does before its execution arrives.
    public static func prepare() {
        CurlEasy.initializeLibrary()
    }

    public static func run(_ inputs: inout TaskInputs, context: TaskContext) throws(TaskFailure) -> TaskResult {
        let log = context.log
        let request = try RESTRequest(&inputs)
        if request.passUserToken {
            log.line("pass_user_token: flowspool has no platform users or tokens; no token is sent")
        }
        let shownURL = Protection.redactingUserInfo(request.url)
        let response: CurlEasy.Response
        do {
            response = try perform(request)
        } catch {
            throw TaskFailure(describe(error, request: request, shownURL: shownURL))
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

    static func perform(_ request: RESTRequest) throws(CurlError) -> CurlEasy.Response {
        let easy = try CurlEasy()
        try easy.setTransfer(url: request.url, protocols: "http,https", timeout: request.timeout, connectTimeout: min(request.timeout, 30))
        try easy.set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        try easy.set(CURLOPT_FOLLOWLOCATION, 1)
        try easy.set(CURLOPT_MAXREDIRS, 30)
        try easy.set(CURLOPT_ACCEPT_ENCODING, "")
        try easy.set(CURLOPT_USERAGENT, "flowspool")
        easy.bodyLimit = bodyLimit
        switch request.method {
        case "GET" where request.body == nil: break
        case "HEAD": try easy.set(CURLOPT_NOBODY, 1)
        case "POST": break
        default: try easy.set(CURLOPT_CUSTOMREQUEST, request.method)
        }
        if let body = request.body {
            try easy.setBody(body)
        } else if request.method == "POST" {
            try easy.setBody([])
        }
        try easy.set(CURLOPT_HTTPHEADER, list: request.headers.map { $0.1.isEmpty ? "\($0.0):" : "\($0.0): \($0.1)" })
        try addCookies(request, to: easy)
        if let certificates = request.trustedCertificates {
            try easy.set(CURLOPT_CAINFO_BLOB, blob: certificates)
        }
        return try easy.perform()
    }

    /// The `cookies` input, bound to the host the request is addressed to (`cookieHost`), so that
    /// a redirect to another host does not carry them (python requests sends them there too).
    static func addCookies(_ request: RESTRequest, to easy: CurlEasy) throws(CurlError) {
        guard let host = request.cookieHost else { return }
        let secure = request.url.hasPrefix("https://")
        for (name, value) in request.cookies {
            // Only __Secure- and __Host- cookies are marked secure: libcurl drops them otherwise.
            try easy.addCookie(name: name, value: value, host: host, secure: secure && RESTRequest.isSecurePrefixed(name))
        }
    }

    static func describe(_ error: CurlError, request: RESTRequest, shownURL: String) -> String {
        let target = "\(request.method) \(shownURL)"
        if error.isTimeout {
            return "\(target) timed out after \(Clock.describeDuration(request.timeout)) (the timeout input): \(error.detail)"
        }
        if error.isConnectFailure { return "\(target) could not connect: \(error.detail)" }
        if error.isTLSFailure {
            let hint = request.caCertificate == nil
                ? " (is the server's certificate signed by a CA the system trusts? give its CA in the cacert input)"
                : " (the cacert input does not vouch for the server's certificate)"
            return "\(target) failed TLS verification: \(error.detail)\(hint)"
        }
        if error.isTooLarge { return "\(target): the response body is larger than \(bodyLimit >> 20) MiB" }
        return "\(target) failed: \(error)"
    }
}
