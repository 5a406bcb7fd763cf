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
    ]
}
