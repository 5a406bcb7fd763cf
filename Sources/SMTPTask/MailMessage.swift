import Basics
import POSIX
import Spool

/// One mailbox: an address, and the name shown with it ("Ops Team <ops@example.com>").
struct Mailbox: Equatable {
    var name: String?
    var address: String

    /// Parses "address", "<address>" or "Name <address>" (the name may be quoted).
    init?(_ text: some StringProtocol) {
        let trimmed = text.trimming()
        if let open = trimmed.lastIndex(of: "<"), trimmed.hasSuffix(">") {
            address = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)]).trimming()
            var shown = String(trimmed[..<open]).trimming()
            if shown.hasPrefix("\""), shown.hasSuffix("\""), shown.count >= 2 {
                shown = String(shown.dropFirst().dropLast()).replacing("\\\"", with: "\"").replacing("\\\\", with: "\\")
            }
            name = shown.isEmpty ? nil : shown
        } else {
            address = trimmed
            name = nil
        }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count >= 2, !parts[0].isEmpty, !parts.last!.isEmpty,
              !address.contains(where: { $0 == " " || $0 == "<" || $0 == ">" || $0 == "," }) else { return nil }
    }

    /// The mailbox as a header shows it: a name that is not plain ASCII as an encoded word, one
    /// with special characters quoted.
    var headerForm: String {
        guard let name else { return address }
        if !name.unicodeScalars.allSatisfy({ $0.isASCII }) { return "\(MailMessage.encodedWords(name)) <\(address)>" }
        let plain = name.allSatisfy { $0.isLetter || $0.isNumber || " !#$%&'*+-/=?^_`{|}~".contains($0) }
        if plain { return "\(name) <\(address)>" }
        return "\"\(name.replacing("\\", with: "\\\\").replacing("\"", with: "\\\""))\" <\(address)>"
    }

    /// A list of mailboxes: one string with commas between them (commas in quotes or angle brackets
    /// do not count), or a list of strings.
    static func list(_ text: String) -> [String] {
        var items: [String] = []
        var current = ""
        var quoted = false, angled = false, escaped = false
        for character in text {
            if escaped { escaped = false; current.append(character); continue }
            switch character {
            case "\\" where quoted: escaped = true
            case "\"": quoted.toggle()
            case "<" where !quoted: angled = true
            case ">" where !quoted: angled = false
            case "," where !quoted && !angled:
                items.append(current)
                current = ""
                continue
            default: break
            }
            current.append(character)
        }
        items.append(current)
        return items.filter { !$0.trimming().isEmpty }
    }
}

/// A message as RFC 5322 and MIME (RFC 2045-2047) want it: headers with non-ASCII text as encoded
/// words, lines ending in CRLF, a body in 7bit when it is short-lined ASCII and quoted-printable
/// otherwise, and with `html` a multipart/alternative of the plain and the HTML text. Bcc is never
/// among the headers. libcurl doubles a dot that starts a line (RFC 5321, 4.5.2).
struct MailMessage {
    var from: Mailbox
    var to: [Mailbox]
    var cc: [Mailbox]
    var replyTo: [Mailbox]
    var subject: String
    var body: String
    var html: String?
    var date: Double = Clock.now()

    var bytes: [UInt8] {
        var headers = [
            ("Date", Clock.rfc5322(date)),
            ("From", from.headerForm),
            ("To", to.map(\.headerForm).joined(separator: ", ")),
        ]
        if !cc.isEmpty { headers.append(("Cc", cc.map(\.headerForm).joined(separator: ", "))) }
        if !replyTo.isEmpty { headers.append(("Reply-To", replyTo.map(\.headerForm).joined(separator: ", "))) }
        headers.append(("Subject", subject.unicodeScalars.allSatisfy(\.isASCII) ? subject : Self.encodedWords(subject)))
        headers.append(("Message-ID", messageID))
        headers.append(("MIME-Version", "1.0"))
        var text = headers.map { Self.folded($0.0, $0.1) }.joined()
        if let html {
            let boundary = "=_flowspool_" + Spool.randomToken()
            text += Self.folded("Content-Type", "multipart/alternative; boundary=\"\(boundary)\"") + "\r\n"
            // The line break before a delimiter is the delimiter's (RFC 2046, 5.1.1), so each part's
            // own final line break is followed by one more, as Python's email package writes it.
            text += "--\(boundary)\r\n" + Self.part(body, type: "text/plain")
            text += "\r\n--\(boundary)\r\n" + Self.part(html, type: "text/html")
            text += "\r\n--\(boundary)--\r\n"
        } else {
            text += Self.part(body, type: "text/plain")
        }
        return Array(text.utf8)
    }

    /// <random.time@the sender's domain>: unique, and saying where it came from.
    var messageID: String {
        let domain = from.address.split(separator: "@").last.map(String.init) ?? "localhost"
        return "<\(Spool.randomToken()).\(Int(date))@\(domain)>"
    }

    /// A text part: its content headers, a blank line and the text in the encoding that fits it,
    /// ending with one line break.
    static func part(_ text: String, type: String) -> String {
        var lines = text.replacing("\r\n", with: "\n").replacing("\r", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        // A text's own final line break is the one its part ends with, not one more: as Python's
        // email package, which adds one only where it is missing.
        if lines.count > 1, lines.last?.isEmpty == true { lines.removeLast() }
        let plain = text.unicodeScalars.allSatisfy(\.isASCII) && lines.allSatisfy { $0.utf8.count <= 998 }
        let encoding = plain ? "7bit" : "quoted-printable"
        let content = plain ? lines.joined(separator: "\r\n") : quotedPrintable(lines)
        return "Content-Type: \(type); charset=utf-8\r\nContent-Transfer-Encoding: \(encoding)\r\n\r\n" + content + "\r\n"
    }

    /// Quoted-printable (RFC 2045, 6.7): lines of at most 76 characters, soft breaks where longer.
    static func quotedPrintable(_ lines: [Substring]) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        return lines.map { line -> String in
            var output: [UInt8] = []
            var width = 0
            let bytes = Array(line.utf8)
            for (index, byte) in bytes.enumerated() {
                let last = index == bytes.count - 1
                let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")) || ((byte == 32 || byte == 9) && !last)
                let piece: [UInt8] = literal ? [byte] : [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
                if width + piece.count > (last ? 76 : 75) {
                    output += Array("=\r\n".utf8)
                    width = 0
                }
                output += piece
                width += piece.count
            }
            return String(decoding: output, as: UTF8.self)
        }.joined(separator: "\r\n")
    }

    /// Text that is not plain ASCII as RFC 2047 encoded words of at most 36 bytes (60 characters, so
    /// that one fits on a header's first line) that never split a character, apart by spaces, where
    /// `folded` breaks the line.
    static func encodedWords(_ text: String) -> String {
        var words: [String] = []
        var chunk: [UInt8] = []
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > 36 && !chunk.isEmpty {
                words.append("=?UTF-8?B?\(Base64.encode(chunk))?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { words.append("=?UTF-8?B?\(Base64.encode(chunk))?=") }
        return words.joined(separator: " ")
    }

    /// "Name: value" and CRLF, folded at spaces so that lines stay within 78 characters where the
    /// value allows it.
    static func folded(_ name: String, _ value: String) -> String {
        var lines: [String] = []
        var line = name + ":"
        for word in value.split(separator: " ", omittingEmptySubsequences: false) {
            // Breaks only before a word, so that no line is white space alone; spaces in a row stay.
            if line.utf8.count + 1 + word.utf8.count > 78, line != name + ":", !word.isEmpty {
                lines.append(line)
                line = ""
            }
            line += " " + word
        }
        lines.append(line)
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
