@testable import AWSTask
import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// The AWS differential suite: every case of differential-cases.json run through flowspool's AWS
/// task and through boto3 against the same servers (moto, moto without IAM checks, the test HTTP
/// server's S3 answers), the results compared field by field. Each side works on resources of its
/// own (named with its own token) and both read those the table's setup made; a mismatch must be
/// one of the documented differences (`Differences.aws`).
@Suite("AWS differential")
struct AWSDifferentialTests {
    @Test("every case of differential-cases.json ends as it does with boto3, field by field, but for the documented differences")
    func againstBoto3() throws {
        let table = try DifferentialTable()
        let run = Self.token("r"), ours = Self.token("f"), theirs = Self.token("b")
        let reference = try ReferenceSide(token: theirs, run: run)
        let flowspool = try FlowspoolSide(token: ours, run: run)
        try reference.awaitSetup()
        let mine = try flowspool.run(table)
        let boto3 = try reference.finish(run: run)
        let ledger = Differential.Ledger("AWS")
        for group in table.groups {
            for item in group.cases {
                let ours = Self.normalized(mine.outcomes[item.name], mine.variables[group.name])
                var reference = Self.normalized(boto3.outcomes[item.name], boto3.variables[group.name])
                #expect(reference["status"]?.stringValue == item.expected,
                        "the table says '\(item.name)' ends \(item.expected), but with boto3 it ends \(reference.compactText.prefix(400))")
                if !group.shared { reference = Self.reconcilingTimes(reference, with: ours) ?? reference }
                ledger.record(item.name, Self.mismatches(ours, reference))
            }
        }
        ledger.finish()
        #expect(table.cases.count >= 80)
    }

    /// A side's token: its letter and nine hexadecimal digits, lower case as S3's bucket names must be.
    static func token(_ letter: String) -> String {
        letter + Spool.randomToken().prefix(9)
    }

    /// Where two outcomes differ: their status, else their results field by field (their messages,
    /// for errors).
    static func mismatches(_ ours: JSON, _ reference: JSON) -> [Mismatch] {
        guard ours["status"] == reference["status"] else {
            return [Mismatch(path: "status", ours: summary(ours), reference: summary(reference))]
        }
        if ours["status"] == "success" {
            return Differential.mismatches(ours["result"], reference["result"], volatile: volatile)
        }
        return Differential.mismatches(ours["message"], reference["message"], at: "message")
    }

    /// How an outcome ended, in a line: "success", or "error: " and its message.
    static func summary(_ outcome: JSON) -> JSON {
        .string((outcome["status"]?.stringValue ?? "?") + (outcome["message"]?.stringValue.map { ": " + $0 } ?? ""))
    }

    /// Values that differ from one call to the next whoever makes it; only their presence is compared.
    static func volatile(_ path: String) -> Bool {
        volatileFields.contains(Mismatch(path: path, ours: nil, reference: nil).field)
    }

    static let volatileFields: Set<String> = [
        // The request's own metadata, and the length and checksum of a body that holds ids.
        "RequestId", "date", "x-amzn-requestid", "content-length", "x-amz-crc32", "x-amz-version-id",
        // Ids the service makes for each call that are not saved (saved ones are named instead).
        "MessageId", "UserId", "GroupId", "RoleId", "PolicyId", "AssumedRoleId", "AccessKeyId", "VolumeId", "AttachmentId",
        "AssociationId", "SecurityGroupRuleId", "KeyPairId", "KeyFingerprint", "MacAddress", "ClientToken", "RevisionId",
        "VersionId", "DeleteMarkerVersionId", "ResourceId", "EventId", "eventId", "deploymentId", "id",
        // Secrets and tokens made for the call, and times as milliseconds since the epoch.
        "SecretAccessKey", "SessionToken", "KeyMaterial", "ReceiptHandle", "NextShardIterator", "ingestionTime", "creationTime",
    ]

    /// Times a side's own calls made (a creation, a modification; ISO 8601, or an HTTP date in a
    /// header) differ from the other side's by the moments they ran: within `timeTolerance` seconds
    /// they count as the same. The shared group's cases read what the setup made, so their times
    /// must be the same to the microsecond.
    static func reconcilingTimes(_ reference: JSON?, with ours: JSON?) -> JSON? {
        switch (reference, ours) {
        case (.object(let theirs)?, .object(let mine)?):
            return .object(JSONObject(theirs.map { ($0.key, reconcilingTimes($0.value, with: mine[$0.key]) ?? .null) }))
        case (.array(let theirs)?, .array(let mine)?):
            return .array(theirs.enumerated().map { index, item in
                reconcilingTimes(item, with: index < mine.count ? mine[index] : nil) ?? .null
            })
        case (.string(let theirs)?, .string(let mine)?):
            guard let a = Timestamp.parse(theirs), let b = Timestamp.parse(mine), abs(a - b) <= timeTolerance else { return reference }
            return ours
        default:
            return reference
        }
    }

    static let timeTolerance = 600.0

    /// An outcome as it is compared: each side's token and saved values written as the names that
    /// stand for them (`${side}`, `${queue}`). Times are compared as written: boto3's isoformat().
    static func normalized(_ outcome: JSON?, _ variables: CaseVariables?) -> JSON {
        normalized(outcome ?? ["status": "missing"], replacing: variables?.normalizations ?? [])
    }

    static func normalized(_ json: JSON, replacing values: [(value: String, name: String)]) -> JSON {
        switch json {
        case .object(let object):
            return .object(JSONObject(object.map { (written($0.key, values), normalized($0.value, replacing: values)) }))
        case .array(let items):
            return .array(items.map { normalized($0, replacing: values) })
        case .string(let text):
            return .string(written(text, values))
        default:
            return json
        }
    }

    private static func written(_ text: String, _ values: [(value: String, name: String)]) -> String {
        values.reduce(text) { $0.contains($1.value) ? $0.replacing($1.value, with: $1.name) : $0 }
    }
}
