import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// The SMTP task beside smtplib, its users' reference client: each case's inputs are sent through
/// flowspool and, as a Python user writes it with smtplib and the email package, through
/// Tests/servers/smtplib_cases.py, to the same loopback server, which parses and records each
/// message. The outcomes and the messages as received (envelope, headers, MIME type, decoded text
/// and HTML, TLS, login) must agree field by field, but for the documented differences of
/// `Differences.smtp`.
@Suite("SMTP task beside smtplib")
struct SMTPDifferentialTests {
    enum Server {
        case plain, startTLS, startTLSWithLogin, implicitTLS
    }

    struct Case {
        let name: String
        /// The task's inputs but the server's; `${t}` in an address is a token of the side and case.
        let inputs: JSONObject
        let server: Server

        init(_ name: String, _ inputs: JSONObject, server: Server = .plain) {
            self.name = name
            self.inputs = inputs
            self.server = server
        }
    }

    static let cases: [Case] = [
        Case("a plain message", ["from": "ops@example.com", "to": "alice-${t}@example.com", "subject": "nightly", "body": "All jobs ended success.\n"]),
        Case("a body without its final line break", ["from": "ops@example.com", "to": "alice-${t}@example.com", "subject": "s", "body": "no break"]),
        Case("a body ending in blank lines", ["from": "ops@example.com", "to": "alice-${t}@example.com", "subject": "s", "body": "text\n\n\n"]),
        Case("an empty subject and body", ["from": "ops@example.com", "to": "alice-${t}@example.com"]),
        Case("a subject and body that are not ASCII", [
            "from": "ops@example.com", "to": "alice-${t}@example.com", "subject": "Grüße, 東京 ✓", "body": "Café crème à 5 €\nzweite Zeile\n",
        ]),
        Case("a sender with a display name", ["from": "Ops Team <ops@example.com>", "to": "alice-${t}@example.com", "subject": "s", "body": "b"]),
        Case("a display name that is not ASCII", ["from": "Zoë Ops <ops@example.com>", "to": "Ålice <alice-${t}@example.com>", "subject": "s", "body": "b"]),
        Case("two recipients in one string", ["from": "ops@example.com", "to": "alice-${t}@example.com, Bob <bob-${t}@example.com>", "subject": "s", "body": "b"]),
        Case("recipients as a list", ["from": "ops@example.com", "to": ["alice-${t}@example.com", "bob-${t}@example.com"], "subject": "s", "body": "b"]),
        Case("cc, and bcc in the envelope only", [
            "from": "ops@example.com", "to": "alice-${t}@example.com", "cc": "carol-${t}@example.com",
            "bcc": ["dave-${t}@example.com", "eve-${t}@example.com"], "subject": "s", "body": "b",
        ]),
        Case("reply_to", ["from": "ops@example.com", "to": "alice-${t}@example.com", "reply_to": "desk@example.com", "subject": "s", "body": "b"]),
        Case("html beside the text", [
            "from": "ops@example.com", "to": "alice-${t}@example.com", "subject": "report", "body": "All fine.\n", "html": "<p>All <b>fine</b>.</p>\n",
        ]),
        Case("html that is not ASCII", [
            "from": "ops@example.com", "to": "alice-${t}@example.com", "subject": "s", "body": "Grüße\n", "html": "<p>Grüße</p>",
        ]),
        Case("a line longer than 998 characters", [
            "from": "ops@example.com", "to": "alice-${t}@example.com", "subject": "s", "body": .string(String(repeating: "0123456789", count: 120) + "\n"),
        ]),
        Case("lines that start with dots", ["from": "ops@example.com", "to": "alice-${t}@example.com", "subject": "s", "body": ".\n..\n.hidden\nend\n"]),
        Case("a long subject, folded", [
            "from": "ops@example.com", "to": "alice-${t}@example.com", "body": "b",
            "subject": .string(String(repeating: "a rather long subject line ", count: 8)),
        ]),
        Case("text that looks like an encoded word", ["from": "ops@example.com", "to": "alice-${t}@example.com", "subject": "=?utf-8?q?not_one?=", "body": "b"]),
        Case("STARTTLS", ["from": "ops@example.com", "to": "alice-${t}@example.com", "subject": "s", "body": "over TLS"], server: .startTLS),
        Case("STARTTLS and a login", ["from": "ops@example.com", "to": "alice-${t}@example.com", "subject": "s", "body": "b"], server: .startTLSWithLogin),
        Case("TLS from the first byte", ["from": "ops@example.com", "to": "alice-${t}@example.com", "subject": "s", "body": "b"], server: .implicitTLS),
        Case("a refused recipient", ["from": "ops@example.com", "to": "refused@example.com", "subject": "s", "body": "b"]),
        Case("a refused sender", ["from": "blocked@example.com", "to": "alice-${t}@example.com", "subject": "s", "body": "b"]),
        Case("a wrong password", [
            "from": "ops@example.com", "to": "alice-${t}@example.com", "subject": "s", "body": "b", "password": "not-the-password",
        ], server: .startTLSWithLogin),
    ]

    let test: TestSpool

    init() throws {
        test = try TestSpool()
        try test.startSupervisor()
    }

    @Test("every case's outcome and message as received are smtplib's, field by field, but for the documented differences")
    func sameAsSmtplib() throws {
        let token = Spool.randomToken()
        let ours = Self.cases.indices.map { "ours\(token)c\($0)x" }, theirs = Self.cases.indices.map { "ref\(token)c\($0)x" }
        let theirOutcomes = try referenceOutcomes(tokens: theirs)
        try #require(theirOutcomes.count == Self.cases.count)
        let ledger = Differential.Ledger("SMTP")
        for (index, smtpCase) in Self.cases.enumerated() {
            let ourOutcome = try outcome(of: smtpCase, token: ours[index])
            let found = Differential.mismatches(
                try received(outcome: ourOutcome, token: ours[index]), try received(outcome: theirOutcomes[index], token: theirs[index]),
                volatile: { $0.hasSuffix(".headers.date") || $0.hasSuffix(".headers.message-id") })
            ledger.record(smtpCase.name, found)
        }
        ledger.finish()
    }

    /// The case's inputs with the server's and the token in place of `${t}`.
    func inputs(of smtpCase: Case, token: String) -> JSONObject {
        var inputs = JSONObject(smtpCase.inputs.map { ($0.key, substituted($0.value, token)) })
        inputs["smtp_host"] = "127.0.0.1"
        switch smtpCase.server {
        case .plain:
            inputs["smtp_port"] = .int(TestEnvironment.plainSMTPPort)
        case .startTLS, .startTLSWithLogin:
            inputs["smtp_port"] = .int(TestEnvironment.smtpPort)
            inputs["use_tls"] = true
            inputs["cacert"] = .string(TestEnvironment.caCertificate)
        case .implicitTLS:
            inputs["smtp_port"] = .int(TestEnvironment.smtpsPort)
            inputs["use_ssl"] = true
            inputs["cacert"] = .string(TestEnvironment.caCertificate)
        }
        if case .startTLSWithLogin = smtpCase.server {
            inputs["login"] = .string(TestEnvironment.smtpUser)
            if inputs["password"] == nil { inputs["password"] = .string(TestEnvironment.smtpPassword) }
        }
        return inputs
    }

    /// The case through flowspool: "sent", or the server's refusal as {"code", "reply"}, read from
    /// the message's `the server said "N TEXT"`.
    func outcome(of smtpCase: Case, token: String) throws -> JSON {
        let ended = try test.run("SMTP", inputs(of: smtpCase, token: token))
        if ended.status == .success { return "sent" }
        guard let said = ended.message.firstRange(of: "the server said \"")?.upperBound,
              let end = ended.message[said...].lastIndex(of: "\""),
              let code = Int(ended.message[said...].prefix(3)) else {
            return ["message": .string(ended.message)]
        }
        return ["code": .int(code), "reply": .string(String(ended.message[ended.message.index(said, offsetBy: 4)..<end]))]
    }

    /// Every case through smtplib, in one Python process.
    func referenceOutcomes(tokens: [String]) throws -> [JSON] {
        let cases = JSON.array(zip(Self.cases, tokens).map { .object(inputs(of: $0, token: $1)) })
        let result = try runProgram("/usr/bin/env", ["python3", TestEnvironment.packageRoot + "/Tests/servers/smtplib_cases.py"], input: cases.compactText)
        #expect(result.exitCode == 0, "\(result.standardError)")
        return try #require(try JSON(parsing: Array(result.standardOutput.utf8)).arrayValue)
    }

    /// The outcome beside the message the server recorded for the token's recipients, if any, with
    /// the token written `${t}` again, the headers by their lower-case names and MIME boundaries
    /// left out, so that the two sides compare.
    func received(outcome: JSON, token: String) throws -> JSON {
        let records = try FileSystem.listDirectory(TestEnvironment.mailDirectory).filter { $0.hasSuffix(".json") }
            .compactMap { try? JSON(parsing: FileSystem.readFile(TestEnvironment.mailDirectory + "/" + $0)) }
            .filter { $0["rcpt_tos"]?.compactText.contains(token) == true }
        #expect(records.count <= 1, "\(records.count) messages for \(token)")
        guard var message = records.first?.objectValue else { return ["outcome": outcome] }
        message["raw"] = nil
        message["server"] = nil
        message["headers"] = .object(JSONObject((message["headers"]?.arrayValue ?? []).compactMap { pair in
            guard let name = pair.arrayValue?.first?.stringValue, let value = pair.arrayValue?.last?.stringValue else { return nil }
            return (name.lowercased(), .string(withoutBoundary(value)))
        }))
        return substituted(["outcome": outcome, "message": .object(message)], token, back: true)
    }

    func withoutBoundary(_ value: String) -> String {
        guard let start = value.firstRange(of: "boundary=")?.lowerBound else { return value }
        return String(value[..<start]) + "boundary=..."
    }

    /// `${t}` replaced by the token in every string, or the token by `${t}`.
    func substituted(_ value: JSON, _ token: String, back: Bool = false) -> JSON {
        switch value {
        case .string(let text): .string(back ? text.replacing(token, with: "${t}") : text.replacing("${t}", with: token))
        case .array(let items): .array(items.map { substituted($0, token, back: back) })
        case .object(let object): .object(JSONObject(object.map { ($0.key, substituted($0.value, token, back: back)) }))
        default: value
        }
    }
}
