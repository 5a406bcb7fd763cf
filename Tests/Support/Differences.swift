import JSON

/// The closed list of differences between flowspool's task types and the reference clients their
/// users know, kept on purpose. Each is named, word for word, in flowspool-tasks(7) under its task
/// type's "Differences from" list; the differential suite (Tests/*TaskTests/*DifferentialTests.swift)
/// fails for a mismatch not explained here and for an entry here that none of its cases meets.
public enum Differences {
    public static let all: [DocumentedDifference] = aws + redis + rest + smtp + ssh

    // MARK: AWS, against boto3

    static let aws: [DocumentedDifference] = [
        // boto3's waiter.wait() returns None; the task's result is what the waiter's last call gave.
        DocumentedDifference("AWS", "Waiters give their last response") { _, mismatch in
            mismatch.path == "result" && mismatch.reference == .null && mismatch.ours?.objectValue != nil
        },
        // botocore's validator repeats every value; a sensitive one (a password, an SSE-C key) would
        // stay in the execution's message in the spool.
        DocumentedDifference("AWS", "Sensitive values are masked in messages") { _, mismatch in
            mismatch.field == "message" && mismatch.ours?.stringValue?.contains("value: ****, ") == true
                && mismatch.reference?.stringValue?.contains("value: ****, ") == false
        },
        // boto3's NoRegionError says only "You must specify a region."; the message says what to set.
        DocumentedDifference("AWS", "No region says where to give one") { _, mismatch in
            mismatch.field == "message" && mismatch.reference == "You must specify a region."
                && mismatch.ours?.stringValue?.hasPrefix("You must specify a region. (") == true
        },
    ]

    // MARK: REDIS, against redis-cli and redis-py

    static let redis: [DocumentedDifference] = [
        DocumentedDifference("REDIS", "a command that cannot be split into words says why") { _, mismatch in
            mismatch.reference == "Invalid argument(s)"
                && mismatch.ours?.stringValue?.hasPrefix("input 'command' cannot be split into words: ") == true
        },
    ]

    // MARK: REST, against python requests

    static let rest: [DocumentedDifference] = [
        // flowspool names itself, and leaves out a header HTTP/1.1 does not need: the echo of the
        // request headers shows both.
        DocumentedDifference("REST", "REST sends User-Agent flowspool and no Connection header") { _, mismatch in
            (mismatch.path.hasSuffix(".json.headers.User-Agent") && mismatch.ours == "flowspool"
                && mismatch.reference?.stringValue?.hasPrefix("python-requests/") == true)
                || (mismatch.path.hasSuffix(".json.headers.Connection") && mismatch.ours == nil && mismatch.reference == "keep-alive")
        },
        // requests sends the cookies input on to any host a redirect leads to.
        DocumentedDifference("REST", "REST cookies stay on their host") { caseName, mismatch in
            caseName.contains("another host") && mismatch.ours == nil
                && (mismatch.path.hasSuffix(".json.headers.Cookie") || mismatch.path.contains(".json.cookies."))
        },
        // requests sends a value holding ';' as it is, adding cookies of the value's choosing.
        DocumentedDifference("REST", "REST cookies refuse ';'") { _, mismatch in
            mismatch.path == "result.refused" && mismatch.ours == "cookies"
        },
        // requests sends data and drops json (or files) without a word.
        DocumentedDifference("REST", "REST refuses two body inputs") { _, mismatch in
            mismatch.path == "result.refused" && mismatch.ours?.stringValue?.contains(" and ") == true
        },
        // requests guesses a charset (charset_normalizer) for a body whose response names none.
        DocumentedDifference("REST", "REST reads a body without a charset as UTF-8") { caseName, mismatch in
            caseName.contains("without a content type") && mismatch.path == "result.outputs.text"
                && mismatch.ours?.stringValue?.contains("\u{FFFD}") == true
        },
    ]

    // MARK: SMTP, against smtplib

    static let smtp: [DocumentedDifference] = [
        DocumentedDifference("SMTP", "text that is not ASCII is sent quoted-printable") { _, mismatch in
            ["text_encoding", "content-transfer-encoding"].contains(mismatch.field)
                && mismatch.ours == "quoted-printable" && mismatch.reference == "8bit"
        },
    ]

    // MARK: SSH, against the ssh command

    static let ssh: [DocumentedDifference] = [
        DocumentedDifference("SSH", "SSH report without carriage returns") { _, mismatch in
            guard mismatch.field == "report", case .string(let ours)? = mismatch.ours, case .string(let theirs)? = mismatch.reference else { return false }
            return ours == String(String.UnicodeScalarView(theirs.unicodeScalars.filter { $0 != "\r" }))
        },
        DocumentedDifference("SSH", "SSH report without ANSI escape sequences") { _, mismatch in
            guard mismatch.field == "report", case .string(let ours)? = mismatch.ours, case .string(let theirs)? = mismatch.reference else { return false }
            return ours == withoutEscapeSequences(theirs)
        },
        DocumentedDifference("SSH", "SSH report bytes that are not UTF-8 become U+FFFD") { _, mismatch in
            guard mismatch.field == "report", case .string(let ours)? = mismatch.ours, case .array(let bytes)? = mismatch.reference else { return false }
            return ours == String(decoding: bytes.compactMap { $0.intValue.flatMap(UInt8.init(exactly:)) }, as: UTF8.self)
        },
        DocumentedDifference("SSH", "SSH retcode null after script-timeout") { _, mismatch in
            mismatch.path == "result.retcode" && mismatch.ours == .null && mismatch.reference == .int(124)  // timeout(1)'s
        },
        DocumentedDifference("SSH", "SSH var from #OUTPUT_VAR lines") { _, mismatch in
            mismatch.path == "result.var" && mismatch.ours?.objectValue != nil && mismatch.reference == nil
        },
    ]

    /// `text` without ECMA-48's escape sequences, as a regular expression finds them (apart from
    /// flowspool's own scanner): control sequences (ESC [ or U+009B, parameters, intermediates, a
    /// final byte), control strings up to BEL or ST (ESC ], P, X, ^, _), escape sequences with
    /// intermediates, and the two-byte ones.
    static func withoutEscapeSequences(_ text: String) -> String {
        let sequence = #/(?:\x1B\[|\x{9B})[\x30-\x3F]*[\x20-\x2F]*[\x40-\x7E]|\x1B[\]PX^_](?:[^\x07\x1B\x{9C}]|\x1B(?!\\))*(?:\x07|\x1B\\|\x{9C})|\x1B[\x20-\x2F]+[\x30-\x7E]|\x1B[\x30-\x7E]/#
        return text.replacing(sequence.matchingSemantics(.unicodeScalar), with: "")
    }
}
