import Basics
import CCurl
import Curl
import JSON
import POSIX
import Spool
import TaskRunner

/// The SMTP task: one message sent with libcurl's SMTP, certificates always verified. Nothing
/// outlives the call that runs an execution.
public enum SMTPTask {
    public static let taskType = "SMTP"

    /// Work a runner started to be reused does before its first execution arrives.
    public static func prepare() {
        CurlEasy.initializeLibrary()
    }

    public static func run(_ inputs: inout TaskInputs, context: TaskContext) throws(TaskFailure) -> TaskResult {
        let request = try SMTPRequest(&inputs)
        let started = Clock.monotonic()
        do {
            let response = try send(request)
            context.log.line("sent to \(request.recipients.count) recipient(s) through \(request.host):\(request.port) in \(Clock.describeDuration(Clock.monotonic() - started)): \(response.lines.last ?? "")")
        } catch {
            throw TaskFailure(request.describe(error))
        }
        return TaskResult(outputs: [:])
    }

    static func send(_ request: SMTPRequest) throws(SMTPFailure) -> CurlEasy.Response {
        let easy: CurlEasy
        do {
            easy = try CurlEasy()
            try easy.setTransfer(url: request.url, protocols: "smtp,smtps", timeout: request.timeout, connectTimeout: min(request.timeout, 30))
            if request.useTLS { try easy.set(CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue)) }
            if let certificates = request.trustedCertificates { try easy.set(CURLOPT_CAINFO_BLOB, blob: certificates) }
            if let login = request.login {
                try easy.set(CURLOPT_USERNAME, login)
                try easy.set(CURLOPT_PASSWORD, request.password ?? "")
            }
            try easy.set(CURLOPT_MAIL_FROM, "<\(request.message.from.address)>")
            try easy.set(CURLOPT_MAIL_RCPT, list: request.recipients.map { "<\($0.address)>" })
            try easy.setUpload(request.message.bytes)
        } catch {
            throw SMTPFailure(curl: error, serverSaid: nil)
        }
        do {
            return try easy.perform()
        } catch {
            // The server's last refusal (4xx or 5xx), not its goodbye to QUIT.
            throw SMTPFailure(curl: error, serverSaid: easy.serverLines.last { $0.first == "4" || $0.first == "5" })
        }
    }
}

/// A failed send: what libcurl said, and the server's last reply when there was one.
struct SMTPFailure: Error {
    let curl: CurlError
    let serverSaid: String?
}

/// The SMTP task's inputs, read and checked before anything is sent.
struct SMTPRequest {
    var message: MailMessage
    /// Everyone the message goes to: To, Cc and Bcc, as the envelope names them.
    var recipients: [Mailbox]
    var host: String
    var port: Int
    var useTLS: Bool
    /// TLS from the first byte (SMTPS, RFC 8314), as smtplib.SMTP_SSL speaks it: input use_ssl.
    var implicitTLS: Bool
    var login: String?
    var password: String?
    var trustedCertificates: [UInt8]?
    var timeout: Double

    static let defaultPort = 25
    static let defaultTimeout = 60.0
    /// The port of SMTP with TLS from the first byte (RFC 8314).
    static let implicitTLSPort = 465

    init(_ inputs: inout TaskInputs) throws(TaskFailure) {
        let from = try Self.mailboxes(inputs.requiredString("from"), input: "from")
        guard from.count == 1 else { throw TaskFailure("input 'from' must be one address, not \(from.count)") }
        let to = try Self.mailboxes(inputs.value("to"), input: "to", required: true)
        let cc = try Self.mailboxes(inputs.value("cc"), input: "cc")
        let bcc = try Self.mailboxes(inputs.value("bcc"), input: "bcc")
        let replyTo = try Self.mailboxes(inputs.value("reply_to"), input: "reply_to")
        let subject = try inputs.string("subject") ?? ""
        try Self.refuseLineBreaks(subject, input: "subject")
        message = MailMessage(
            from: from[0], to: to, cc: cc, replyTo: replyTo, subject: subject,
            body: try inputs.string("body") ?? "", html: try inputs.string("html"))
        recipients = to + cc + bcc
        host = try inputs.requiredString("smtp_host")
        try Self.refuseLineBreaks(host, input: "smtp_host")
        port = try inputs.integer("smtp_port") ?? Self.defaultPort
        guard (1...65535).contains(port) else { throw TaskFailure("input 'smtp_port' must be from 1 to 65535, not \(port)") }
        useTLS = try inputs.bool("use_tls") ?? false
        implicitTLS = try inputs.bool("use_ssl") ?? (port == Self.implicitTLSPort)
        if useTLS && implicitTLS {
            throw TaskFailure("inputs 'use_tls' (STARTTLS) and 'use_ssl' (TLS from the first byte) exclude each other: set one; nothing was sent")
        }
        let login = try inputs.string("login") ?? ""
        self.login = login.isEmpty ? nil : login
        if self.login != nil && !useTLS && !implicitTLS {
            throw TaskFailure("input 'login' without TLS would send the password in clear: set use_tls (STARTTLS) or use_ssl (TLS from the first byte, as on port 465); nothing was sent")
        }
        password = try inputs.string("password")
        if let certificate = try inputs.string("cacert") {
            do {
                trustedCertificates = try CurlEasy.trustedCertificates(adding: certificate)
            } catch {
                throw TaskFailure("input 'cacert' is neither a PEM certificate nor a readable file: \(error)")
            }
        }
        timeout = try inputs.duration("timeout")?.value ?? Self.defaultTimeout
        guard timeout > 0, timeout <= 2_000_000 else { throw TaskFailure("input 'timeout' must be more than 0 seconds and at most 2000000") }
        try inputs.rejectUnknown()
    }

    /// smtps://, TLS from the first byte, when `use_ssl` asks for it (by default on port 465);
    /// smtp:// otherwise, with STARTTLS required when `use_tls` asks for it.
    var url: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return (implicitTLS ? "smtps://" : "smtp://") + "\(shownHost):\(port)"
    }

    /// The failure as the operator reads it: what went wrong and what the server said, never the
    /// password.
    func describe(_ failure: SMTPFailure) -> String {
        let said = failure.serverSaid.map { ": the server said \"\($0)\"" } ?? ""
        let code = failure.curl.code
        let endpoint = "\(host) port \(port)"
        switch code {
        case CURLE_USE_SSL_FAILED:
            return "\(endpoint) does not offer STARTTLS, which use_tls requires; nothing was sent\(said)"
        case CURLE_LOGIN_DENIED:
            return "authentication as \(login ?? "") at \(endpoint) failed\(said)"
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST:
            return "could not connect to \(endpoint): \(failure.curl)"
        case CURLE_OPERATION_TIMEDOUT:
            return "timed out after \(Clock.describeDuration(timeout)) (the timeout input) talking to \(endpoint)\(said)"
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CACERT_BADFILE:
            return "failed TLS verification of \(endpoint): \(failure.curl) (for a private CA, give its certificate in cacert)"
        default:
            if failure.curl.detail.hasPrefix("RCPT failed") {
                return "the server refused a recipient\(said)"
            }
            if failure.curl.detail.hasPrefix("MAIL failed") {
                return "the server refused the sender \(message.from.address)\(said)"
            }
            return "sending through \(endpoint) failed: \(failure.curl)\(said)"
        }
    }

    /// Mailboxes from a string (commas between them) or a list of strings; CR, LF or NUL refused.
    static func mailboxes(_ value: JSON?, input: String, required: Bool = false) throws(TaskFailure) -> [Mailbox] {
        let items: [String]
        switch value {
        case nil, .null?:
            if required { throw TaskFailure("input '\(input)' is required") }
            return []
        case .string(let text)?:
            try refuseLineBreaks(text, input: input)
            items = Mailbox.list(text)
        case .array(let elements)?:
            var strings: [String] = []
            for element in elements {
                guard let text = element.stringValue else { throw TaskFailure("input '\(input)' must be a string or a list of strings") }
                try refuseLineBreaks(text, input: input)
                strings += Mailbox.list(text)
            }
            items = strings
        default:
            throw TaskFailure("input '\(input)' must be a string or a list of strings, not \(value!.kindDescription)")
        }
        if required && items.isEmpty { throw TaskFailure("input '\(input)' names no address") }
        var mailboxes: [Mailbox] = []
        for item in items {
            guard let mailbox = Mailbox(item) else {
                throw TaskFailure("input '\(input)' has '\(item.trimming().escapingControlCharacters())', which is not a mail address; nothing was sent")
            }
            mailboxes.append(mailbox)
        }
        return mailboxes
    }

    static func mailboxes(_ text: String, input: String) throws(TaskFailure) -> [Mailbox] {
        try mailboxes(JSON.string(text), input: input, required: true)
    }

    /// A CR, LF or NUL would start a header or an SMTP command of its own: refused before anything
    /// is sent.
    static func refuseLineBreaks(_ text: String, input: String) throws(TaskFailure) {
        if text.hasLineBreakOrNUL {
            throw TaskFailure("input '\(input)' contains a line break or NUL, which would start a header or command of its own; nothing was sent")
        }
    }
}
