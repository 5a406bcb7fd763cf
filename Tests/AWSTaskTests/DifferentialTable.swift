@testable import AWSTask
import FlowspoolTestSupport
import JSON
import POSIX
import Spool

/// Tests/AWSTaskTests/differential-cases.json, the AWS differential suite's table: groups of cases
/// run in order, each one call of the AWS task and of boto3 (its `about` says how it is written).
struct DifferentialTable {
    struct Case {
        let name: String
        let definition: JSONObject
        /// How the case must end on both sides: "success" or "error".
        var expected: String { definition["expect"]?.stringValue ?? "success" }
        /// "open" for the moto without IAM checks, "http-s3" for the test HTTP server's S3 answers;
        /// nil for the moto that checks every signature.
        let endpoint: String?
        /// What to keep of the result, by name: a JMESPath each.
        var saves: [(name: String, path: String)] {
            (definition["save"]?.objectValue ?? [:]).compactMap { name, path in path.stringValue.map { (name, $0) } }
        }
    }

    struct Group {
        let name: String
        /// "debian" for Debian's botocore 1.29 models, pinned on both sides; nil for today's.
        let models: String?
        /// Whether its cases read what the setup made, the same resources on both sides: their
        /// times are compared to the microsecond.
        let shared: Bool
        let cases: [Case]
    }

    static let path = TestEnvironment.packageRoot + "/Tests/AWSTaskTests/differential-cases.json"

    let groups: [Group]

    var cases: [Case] { groups.flatMap(\.cases) }

    init(path: String = Self.path) throws {
        let json = try JSON(parsing: try FileSystem.readFile(path))
        groups = try (json["groups"]?.arrayValue ?? []).map { group in
            guard let name = group["name"]?.stringValue, let cases = group["cases"]?.arrayValue else {
                throw TableError("a group of \(path) without a name or cases: \(group.compactText.prefix(80))")
            }
            return Group(name: name, models: group["models"]?.stringValue, shared: group["shared"] == true, cases: try cases.map { item in
                guard let definition = item.objectValue, let caseName = definition["name"]?.stringValue, definition["client"] != nil else {
                    throw TableError("a case of group \(name) without a name or client: \(item.compactText.prefix(80))")
                }
                let endpoint = definition["endpoint"]?.stringValue ?? group["endpoint"]?.stringValue
                return Case(name: caseName, definition: definition, endpoint: endpoint)
            })
        }
        // Both sides give their outcomes by the case's name.
        var seen: Set<String> = []
        for name in groups.flatMap(\.cases).map(\.name) where !seen.insert(name).inserted {
            throw TableError("two cases of \(path) are named '\(name)'")
        }
    }
}

struct TableError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The values one side's cases of one group see: its token, the run's, and what earlier cases saved.
struct CaseVariables {
    private(set) var values: [String: JSON]

    init(side: String, run: String) {
        values = ["side": .string(side), "run": .string(run)]
    }

    mutating func save(_ value: JSON?, as name: String) {
        values[name] = value ?? .null
    }

    /// `json` with ${NAME} and ${NAME#PREFIX} replaced, in keys and values; a string that is only
    /// ${NAME} becomes the value, whatever its type.
    func substitute(_ json: JSON) throws(TableError) -> JSON {
        switch json {
        case .object(let object):
            var result = JSONObject()
            for (key, value) in object { result[try text(key)] = try substitute(value) }
            return .object(result)
        case .array(let items):
            var result: [JSON] = []
            for item in items { result.append(try substitute(item)) }
            return .array(result)
        case .string(let string):
            if string.hasPrefix("${"), string.hasSuffix("}"), !string.dropFirst(2).contains("$"), !string.contains("#") {
                let name = String(string.dropFirst(2).dropLast())
                guard let value = values[name] else { throw TableError("no value is saved as \(name)") }
                return value
            }
            return .string(try text(string))
        default:
            return json
        }
    }

    /// A string with each ${NAME} written out as text.
    private func text(_ string: String) throws(TableError) -> String {
        var result = "", rest = string[...]
        while let start = rest.firstRange(of: "${") {
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else { break }
            result += rest[..<start.lowerBound]
            let reference = rest[start.upperBound..<end].split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
            guard let value = values[String(reference[0])] else { throw TableError("no value is saved as \(reference[0])") }
            var written = value.stringValue ?? value.compactText
            if reference.count == 2, written.hasPrefix(reference[1]) { written = String(written.dropFirst(reference[1].count)) }
            result += written
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }

    /// The saved strings (and binary values' base64) long enough to stand for themselves, longest
    /// first, with the names that replace them when results are compared: `${side}` for the side's
    /// token, and so on.
    var normalizations: [(value: String, name: String)] {
        values.compactMap { name, value in
            guard let text = value.stringValue ?? value["base64"]?.stringValue, text.count >= 8 else { return nil }
            return (text, "${\(name)}")
        }.sorted { ($0.value.count, $0.name) > ($1.value.count, $1.name) }
    }
}

/// How a case ended on one side, in the form both sides share: {"status": "success", "result": ...}
/// or {"status": "error", "message": ...}.
typealias CaseOutcome = JSON

/// The table run through flowspool: the cases as AWS jobs of one test spool (another, with Debian's
/// models pinned through FLOWSPOOL_AWS_MODELS, for the groups that ask), the groups side by side and
/// the cases of each group one after another.
struct FlowspoolSide {
    let spools: [String: TestSpool]
    let token: String
    let run: String

    static let debianModels = "/usr/lib/python3/dist-packages/botocore/data"

    init(token: String, run: String) throws {
        let today = try TestSpool(), debian = try TestSpool()
        try today.startSupervisor()
        try debian.startSupervisor(environment: [ServiceModel.modelsVariable: Self.debianModels])
        spools = ["": today, "debian": debian]
        self.token = token
        self.run = run
    }

    /// Every case's outcome by name, and each group's variables at the end.
    func run(_ table: DifferentialTable) throws -> (outcomes: [String: CaseOutcome], variables: [String: CaseVariables]) {
        var variables = Dictionary(uniqueKeysWithValues: table.groups.map { ($0.name, CaseVariables(side: token, run: run)) })
        var outcomes: [String: CaseOutcome] = [:]
        // One job of each group in flight; the oldest is waited for, and its group's next dropped.
        var pending: [(group: DifferentialTable.Group, index: Int, id: String)] = []
        for group in table.groups where !group.cases.isEmpty {
            pending.append((group, 0, try submit(group.cases[0], of: group, variables[group.name]!)))
        }
        while !pending.isEmpty {
            let (group, index, id) = pending.removeFirst()
            let spool = spools[group.models ?? ""]!
            let ended = try spool.ended(id, within: 120)
            let this = group.cases[index]
            outcomes[this.name] = Self.outcome(ended)
            for (name, path) in this.saves {
                variables[group.name]!.save(ended.status == .success ? try JMESPath(path).search(ended["result"] ?? .null) : nil, as: name)
            }
            if index + 1 < group.cases.count {
                pending.append((group, index + 1, try submit(group.cases[index + 1], of: group, variables[group.name]!)))
            }
        }
        return (outcomes, variables)
    }

    private func submit(_ this: DifferentialTable.Case, of group: DifferentialTable.Group, _ variables: CaseVariables) throws -> String {
        try spools[group.models ?? ""]!.spool.submit(Job(task: "AWS", inputs: try Self.inputs(this, variables)))
    }

    /// The AWS job of a case: the task's inputs as flowspool-tasks(7) names them.
    static func inputs(_ this: DifferentialTable.Case, _ variables: CaseVariables) throws -> JSONObject {
        let definition = this.definition
        var inputs: JSONObject = [
            "client": definition["client"] ?? .null,
            "parameters": try variables.substitute(definition["parameters"] ?? .object([:])),
            "endpoint_url": .string(endpointURL(this.endpoint)),
            "aws_access_key_id": .string(TestEnvironment.awsKeyID), "aws_secret_access_key": .string(TestEnvironment.awsSecret),
        ]
        if let operation = definition["operation"] { inputs["service"] = operation }
        for name in ["waiter", "waiter_config", "paginate"] { if let value = definition[name] { inputs[name] = value } }
        switch definition["region"] {
        case nil: inputs["region"] = "us-east-1"
        case .null?: break
        case let region?: inputs["region"] = region
        }
        return inputs
    }

    /// Where a case's calls go: moto, moto without IAM checks ("open"), or the test HTTP server's
    /// S3 answers ("http-s3"), for what moto never answers (a wrong checksum, S3's x-amz-id-2).
    static func endpointURL(_ endpoint: String?) -> String {
        switch endpoint {
        case "open"?: TestEnvironment.awsOpenEndpoint
        case "http-s3"?: TestEnvironment.httpURL + "/s3-checksum"
        default: TestEnvironment.awsEndpoint
        }
    }

    static func outcome(_ ended: Ended) -> CaseOutcome {
        guard ended.status == .success else {
            let message = ended.message.hasSuffix("\n") ? String(ended.message.dropLast()) : ended.message
            return ["status": .string(ended.status == .error ? "error" : "\(ended.status)"), "message": .string(message)]
        }
        return ["status": "success", "result": ended["result"] ?? .null]
    }
}

/// The table run through boto3 by Tests/servers/boto3_cases.py, in one python process started
/// before flowspool's side, so that both run at once; its setup calls are made before either side's
/// cases, which read what they make.
final class ReferenceSide {
    private let program: StartedProgram
    let token: String

    init(token: String, run: String) throws {
        self.token = token
        program = try StartedProgram("/usr/bin/env", [
            "python3", TestEnvironment.packageRoot + "/Tests/servers/boto3_cases.py", DifferentialTable.path, token, run,
        ], environment: ["FLOWSPOOL_TEST_DEBIAN_MODELS": FlowspoolSide.debianModels])
    }

    /// Returns once the setup calls are made; throws what the program wrote if it ended before.
    func awaitSetup() throws {
        try waitUntil("boto3_cases.py makes the setup's resources", timeout: 120) {
            program.standardError.contains("setup done") || hasExited(program.pid)
        }
        if !program.standardError.contains("setup done") {
            throw TableError("boto3_cases.py ended before its setup was done: \(program.standardError)")
        }
    }

    /// Every case's outcome by name, and each group's variables at the end (with this side's token).
    func finish(run: String) throws -> (outcomes: [String: CaseOutcome], variables: [String: CaseVariables]) {
        let result = try program.finish(within: 600)
        guard result.exitCode == 0 else { throw TableError("boto3_cases.py failed: \(result.standardError)") }
        let printed = try JSON(parsing: result.standardOutput)
        let outcomes = Dictionary(uniqueKeysWithValues: (printed["cases"]?.objectValue ?? [:]).map { ($0.key, $0.value) })
        var variables: [String: CaseVariables] = [:]
        for (group, saved) in printed["variables"]?.objectValue ?? [:] {
            var values = CaseVariables(side: token, run: run)
            for (name, value) in saved.objectValue ?? [:] { values.save(value, as: name) }
            variables[group] = values
        }
        return (outcomes, variables)
    }
}
