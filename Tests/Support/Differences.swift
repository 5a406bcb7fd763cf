/// The closed list of differences between flowspool's task types and the reference clients their
/// users know, kept on purpose. Each is named, word for word, in flowspool-tasks(7) under its task
/// type's "Differences from" list; the differential suite (Tests/*TaskTests/*DifferentialTests.swift)
/// fails for a mismatch not explained here and for an entry here that none of its cases meets.
public enum Differences {
    public static let all: [DocumentedDifference] = aws + redis + rest + smtp + ssh

    // MARK: AWS, against boto3

    static let aws: [DocumentedDifference] = [
    ]

    // MARK: REDIS, against redis-cli and redis-py

    static let redis: [DocumentedDifference] = [
    ]

    // MARK: REST, against python requests

    static let rest: [DocumentedDifference] = [
    ]

    // MARK: SMTP, against smtplib

    static let smtp: [DocumentedDifference] = [
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
