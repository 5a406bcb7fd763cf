import ArgumentParser
import Commands
import Spool

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Print an execution's status word.")

    @OptionGroup(title: "Spool or cluster") var place: BackendOptions
    @Argument(help: "The execution id.") var id: String

    func run() throws {
        try reportingFailures {
            printLine(try place.backend().status(of: id))
        }
    }
}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show an execution: task, status, times, message, inputs and outputs (protected values masked).")

    @OptionGroup(title: "Spool or cluster") var place: BackendOptions
    @Argument(help: "The execution id.") var id: String
    @Flag(help: "Print one JSON document.") var json = false

    func run() throws {
        try reportingFailures {
            try place.backend().show(id, json: json)
        }
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List executions, oldest first; with --all, the jobs in incoming/ and failed/ too.")

    @OptionGroup(title: "Spool or cluster") var place: BackendOptions
    @Option(help: "Only executions with this status; may be given several times (with --all: incoming, rejected too).")
    var status: [String] = []
    @Option(help: "Only executions of this task type.") var task: String?
    @Option(help: "Only the children of this execution (the executions a flow started).") var parent: String?
    @Option(help: "Only the N most recent, still oldest first.") var limit: Int?
    @Flag(help: "Also the jobs waiting in incoming/ (status incoming) and those set aside in failed/ (status rejected).")
    var all = false
    @Flag(help: "Print a JSON list.") var json = false

    func validate() throws {
        let known = ExecutionStatus.allCases.map(\.rawValue) + JobSummary.statuses
        for status in status where !known.contains(status) {
            throw ValidationError("'\(status)' is not a status (\(known.joined(separator: ", ")))")
        }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        try reportingFailures {
            let query = ListQuery(statuses: Set(status), task: task, parent: parent, limit: limit, all: all, json: json)
            try place.backend(refusing: query.options).list(query)
        }
    }
}
