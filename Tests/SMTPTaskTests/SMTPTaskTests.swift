import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// The SMTP task end to end: jobs go through flowspoold to the SMTP runner and the aiosmtpd servers
/// bin/test starts on loopback, which parse each message with Python's email package and record it.
@Suite("SMTP task")
struct SMTPTaskTests {
    let test: TestSpool
    /// A mailbox of this test's own, so that it finds its message among those of tests running at once.
    let me = "rcpt-" + Spool.randomToken() + "@example.com"

    init() throws {
        test = try TestSpool()
        try test.startSupervisor()
    }

    /// Sends through the plain server unless `inputs` says otherwise.
    func send(_ inputs: JSONObject) throws -> Ended {
        var all: JSONObject = [
            "from": "flowspool@example.com", "to": .string(me), "subject": "a test", "body": "hello",
            "smtp_host": "127.0.0.1", "smtp_port": .int(TestEnvironment.plainSMTPPort),
        ]
        for (name, value) in inputs { all[name] = value }
        return try test.run("SMTP", all)
    }

    /// The message the servers received for `recipient`, as they recorded it.
    func received(by recipient: String) throws -> JSON {
        var found: JSON?
        try waitUntil("a message for \(recipient)", timeout: 10, watching: [TestEnvironment.mailDirectory]) {
            found = ((try? FileSystem.listDirectory(TestEnvironment.mailDirectory)) ?? []).filter { $0.hasSuffix(".json") }.lazy
                .compactMap { try? JSON(parsing: FileSystem.readFile(TestEnvironment.mailDirectory + "/" + $0)) }
                .first { $0["rcpt_tos"]?.arrayValue?.contains(.string(recipient)) == true }
            return found != nil
        }
        return found!
    }

    func messages(to recipient: String) -> Int {
        ((try? FileSystem.listDirectory(TestEnvironment.mailDirectory)) ?? []).filter {
            ((try? FileSystem.readText(TestEnvironment.mailDirectory + "/" + $0)) ?? nil)?.contains(recipient) == true
        }.count
    }

    func header(_ message: JSON, _ name: String) -> [String] {
        (message["headers"]?.arrayValue ?? []).compactMap { pair in
            pair.arrayValue?.first?.stringValue?.lowercased() == name.lowercased() ? pair.arrayValue?.last?.stringValue : nil
        }
    }

    @Test("the body arrives as smtplib sends it with Python's email package: one final line break, never one more", arguments: [
        "hello", "hello\n", "two\nlines\n", "ends with a blank line\n\n", "caf\u{E9}\n",
    ])
    func bodyAsSmtplibSendsIt(body: String) throws {
        #expect(try send(["body": .string(body)]).status == .success)
        let ours = try received(by: me)
        let other = "rcpt-" + Spool.randomToken() + "@example.com"
        let sent = try runProgram("/usr/bin/env", ["python3", "-c", """
            import smtplib, sys
            from email.message import EmailMessage
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = "flowspool@example.com", sys.argv[2], "a test"
            message.set_content(sys.argv[3])
            with smtplib.SMTP("127.0.0.1", int(sys.argv[1])) as client:
                client.send_message(message)
            """, String(TestEnvironment.plainSMTPPort), other, body])
        #expect(sent.exitCode == 0, "\(sent.standardError)")
        let reference = try received(by: other)
        #expect(ours["text"] == reference["text"], "smtplib's body: \(reference["text"] ?? .null)")
    }

    @Test("a plain message: every header RFC 5322 and MIME ask for, the body, the envelope")
    func plainMessage() throws {
        let ended = try send(["subject": "nightly report", "body": "All 42 jobs ended success.\nSee you tomorrow."])
        #expect(ended.status == .success, "\(ended.message)")
        #expect(ended.outputs.isEmpty)
        let message = try received(by: me)
        #expect(message["mail_from"] == "flowspool@example.com")
        #expect(header(message, "From") == ["flowspool@example.com"])
        #expect(header(message, "To") == [me])
        #expect(header(message, "Subject") == ["nightly report"])
        #expect(header(message, "MIME-Version") == ["1.0"])
        #expect(header(message, "Content-Type") == ["text/plain; charset=\"utf-8\""])
        #expect(header(message, "Content-Transfer-Encoding") == ["7bit"])
        #expect(header(message, "Date").count == 1)
        #expect(header(message, "Message-ID").first?.hasSuffix("@example.com>") == true)
        #expect(message["text"] == "All 42 jobs ended success.\nSee you tomorrow.\n")
        #expect(message["tls"] == false)
    }

    @Test("flowspool run SMTP sends from the shell, from= and all")
    func commandLine() throws {
        let result = try runProgram(TestEnvironment.program("flowspool"), [
            "--spool", test.root, "run", "SMTP", "from=cron@example.com", "to=\(me)", "subject=disk almost full",
            "body=/var is 91% full", "smtp_host=127.0.0.1", "smtp_port:=\(TestEnvironment.plainSMTPPort)",
        ])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let message = try received(by: me)
        #expect(header(message, "Subject") == ["disk almost full"])
        #expect(message["text"] == "/var is 91% full\n")
    }

    @Test("a subject and body that are not ASCII arrive as written: encoded words, quoted-printable")
    func nonASCII() throws {
        let subject = "Größe ✓ — 日本語のテキストがとても長い件名になっています。さらに続きます。"
        let body = "Grüße aus Zürich: ½ € ✓\n日本語"
        #expect(try send(["subject": .string(subject), "body": .string(body), "from": "Jörg Müller <joerg@example.com>"]).status == .success)
        let message = try received(by: me)
        #expect(header(message, "Subject") == [subject])
        #expect(header(message, "From") == ["Jörg Müller <joerg@example.com>"])
        #expect(message["text"] == .string(body + "\n"))
        #expect(message["text_encoding"] == "quoted-printable")
        let raw = try #require(message["raw"]?.stringValue)
        #expect(raw.contains("Subject: =?UTF-8?B?"))
        #expect(raw.split(separator: "\r\n").allSatisfy { $0.utf8.count <= 78 }, "no line longer than RFC 5322 recommends")
    }

    @Test("several recipients in a string and a list, cc and bcc: bcc is in the envelope only")
    func recipients() throws {
        let other = "other-" + me, copy = "copy-" + me, hidden = "hidden-" + me
        let ended = try send([
            "to": .array([.string("Some One <\(me)>"), .string("\"Doe, Jane\" <\(other)>")]),
            "cc": .string(copy), "bcc": .string(hidden), "reply_to": "replies@example.com",
        ])
        #expect(ended.status == .success, "\(ended.message)")
        let message = try received(by: me)
        #expect(message["rcpt_tos"] == .array([me, other, copy, hidden].map(JSON.string)))
        #expect(header(message, "To") == ["Some One <\(me)>, \"Doe, Jane\" <\(other)>"])
        #expect(header(message, "Cc") == [copy])
        #expect(header(message, "Reply-To") == ["replies@example.com"])
        #expect(header(message, "Bcc").isEmpty)
        #expect(message["raw"]?.stringValue?.contains(hidden) == false)
        #expect(try send(["to": .string("\(me), \(other)")]).status == .success)
    }

    @Test("a line longer than 998 characters and lines starting with dots arrive unchanged")
    func longLinesAndDots() throws {
        let body = String(repeating: "0123456789", count: 200) + "\n.\n..two dots\n. after a dot\nend"
        #expect(try send(["body": .string(body)]).status == .success)
        let message = try received(by: me)
        #expect(message["text"] == .string(body + "\n"))
        #expect(message["raw"]?.stringValue?.split(separator: "\r\n").allSatisfy { $0.utf8.count <= 998 } == true)
    }

    @Test("html makes a multipart/alternative with the body as its plain part, each part ending in a line break, as the email package sends them")
    func html() throws {
        #expect(try send(["body": "plain words", "html": "<p>rich <b>words</b></p>"]).status == .success)
        let message = try received(by: me)
        #expect(message["content_type"] == "multipart/alternative")
        #expect(message["text"] == "plain words\n")
        #expect(message["html"] == "<p>rich <b>words</b></p>\n")
    }

    @Test("use_tls with STARTTLS, a private CA and a login; a wrong password fails and shows nowhere")
    func startTLSAndLogin() throws {
        let secure: JSONObject = [
            "smtp_port": .int(TestEnvironment.smtpPort), "use_tls": true, "cacert": .string(TestEnvironment.caCertificate),
            "login": .string(TestEnvironment.smtpUser), "password": .string(TestEnvironment.smtpPassword),
        ]
        #expect(try send(secure).status == .success)
        let message = try received(by: me)
        #expect(message["tls"] == true)
        #expect(message["login"] == .string(TestEnvironment.smtpUser))

        var wrong = secure
        wrong["password"] = "not-the-password-at-all"
        let refused = try send(wrong)
        #expect(refused.status == .error)
        #expect(refused.message.hasPrefix("authentication as \(TestEnvironment.smtpUser) at 127.0.0.1 port \(TestEnvironment.smtpPort) failed: the server said \"535"), "\(refused.message)")
        let log = try FileSystem.readText(test.execution(refused.id).path(.log)) ?? ""
        #expect(!refused.message.contains("not-the-password") && !log.contains("not-the-password"))
    }

    @Test("use_tls against a server without STARTTLS fails before anything is sent; an unknown CA fails verification")
    func tlsRequired() throws {
        let ended = try send(["use_tls": true])
        #expect(ended.status == .error)
        #expect(ended.message.hasPrefix("127.0.0.1 port \(TestEnvironment.plainSMTPPort) does not offer STARTTLS, which use_tls requires; nothing was sent"))
        let untrusted = try send(["smtp_port": .int(TestEnvironment.smtpPort), "use_tls": true])
        #expect(untrusted.status == .error)
        #expect(untrusted.message.hasPrefix("failed TLS verification of 127.0.0.1 port \(TestEnvironment.smtpPort)"), "\(untrusted.message)")
        #expect(messages(to: me) == 0)
    }

    @Test("port 465 is TLS from the first byte")
    func implicitTLS() throws {
        let ended = try send(["smtp_host": .string(TestEnvironment.smtpsHost), "smtp_port": 465, "cacert": .string(TestEnvironment.caCertificate)])
        #expect(ended.status == .success, "\(ended.message)")
        #expect(try received(by: me)["tls"] == true)
    }

    @Test("use_ssl is TLS from the first byte on any port, as smtplib.SMTP_SSL; with use_tls it is refused")
    func implicitTLSOnAnyPort() throws {
        let ended = try send(["smtp_port": .int(TestEnvironment.smtpsPort), "use_ssl": true, "cacert": .string(TestEnvironment.caCertificate)])
        #expect(ended.status == .success, "\(ended.message)")
        #expect(try received(by: me)["tls"] == true)
        let both = try send(["smtp_port": .int(TestEnvironment.smtpsPort), "use_ssl": true, "use_tls": true])
        #expect(both.message.hasPrefix("inputs 'use_tls' (STARTTLS) and 'use_ssl' (TLS from the first byte) exclude each other"))
    }

    @Test("CR or LF in the subject or an address is refused before anything is sent")
    func headerInjection() throws {
        for inputs: JSONObject in [["subject": "hi\r\nBcc: victim@example.com"], ["to": .string(me + "\nBcc: victim@example.com")], ["from": "a@example.com\r\n"]] {
            let ended = try send(inputs)
            #expect(ended.status == .error)
            #expect(ended.message.contains("contains a line break or NUL, which would start a header or command of its own; nothing was sent"))
        }
        #expect(messages(to: me) == 0)
        #expect(try send(["to": "not an address"]).message.hasPrefix("input 'to' has 'not an address', which is not a mail address"))
        let clear = try send(["login": "someone", "password": "never-in-clear"])
        #expect(clear.message == "input 'login' without TLS would send the password in clear: set use_tls (STARTTLS) or use_ssl (TLS from the first byte, as on port 465); nothing was sent\n")
    }

    @Test("a refused recipient or sender ends error with the server's reply")
    func refusals() throws {
        let recipient = try send(["to": "refused@example.com"])
        #expect(recipient.status == .error)
        #expect(recipient.message.contains("550 5.1.1 <refused@example.com>: Recipient address rejected"), "\(recipient.message)")
        let sender = try send(["from": "blocked@example.com"])
        #expect(sender.status == .error)
        #expect(sender.message.contains("553 5.7.1 <blocked@example.com>: Sender address rejected"), "\(sender.message)")
    }

    @Test("the example flow of flowspool-tasks(7) runs unchanged but for where it points")
    func exampleFlow() throws {
        let example = try ManPageExample.display(after: "A flow that mails a report", in: "flowspool-tasks.7")
        let script = test.directory.path + "/smtp-example.py"
        try FileSystem.writeFile(script, Array(example
            .replacing("'smtp_port': 25", with: "'smtp_port': \(TestEnvironment.plainSMTPPort)")
            .replacing("ops@example.com", with: me).utf8))
        let ended = try test.run("FLOW", ["script": .string(script)])
        #expect(ended.status == .success, "\(ended.message)")
        let message = try received(by: me)
        #expect(header(message, "Subject") == ["nightly report"])
        #expect(message["text"] == "All jobs ended success.\n")
    }
}
