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
        DocumentedDifference("REDIS", "a command that cannot be split into words says why") { _, mismatch in
            mismatch.reference == "Invalid argument(s)"
                && mismatch.ours?.stringValue?.hasPrefix("input 'command' cannot be split into words: ") == true
        },
    ]

    // MARK: REST, against python requests

    static let rest: [DocumentedDifference] = [
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
    ]
}
