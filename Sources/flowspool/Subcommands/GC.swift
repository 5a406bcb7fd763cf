import ArgumentParser
import Basics
import Commands
import JSON
import POSIX
import Spool

/// `flowspool gc`: removes ended executions older than a cutoff, a flow with everything it started,
/// optionally archived first as one tar.gz a day (SpoolGC).
struct GC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove ended executions older than a cutoff, optionally archiving them first.",
        discussion: """
            Only executions that have ended go, and a flow's children only with the flow, once all \
            of them have ended. Prints one line per flow or lone execution removed. With --cluster, \
            the cluster's ended records go, and the hosts silent since the cutoff that hold nothing.
            """)

    @OptionGroup(title: "Spool or cluster") var place: BackendOptions

    @Option(help: ArgumentHelp("Remove what ended longer ago than this: 7d, 12h, 30m, 90s, or seconds.", valueName: "age"))
    var olderThan: String

    @Option(help: "Only executions (flows: their root) that ended with this status; may be given several times.")
    var status: [String] = []

    @Option(help: ArgumentHelp("Archive them first, one DIR/flowspool-YYYY-MM-DD.tar.gz per day of their end (mode 0600).", valueName: "dir"))
    var archive: String?

    @Flag(help: "Only say what would be removed.")
    var dryRun = false

    func validate() throws {
        guard SpoolGC.seconds(inAge: olderThan) != nil else {
            throw ValidationError("--older-than takes an age such as 7d, 12h, 30m, 90s or a number of seconds, not '\(olderThan)'")
        }
        for status in status where ExecutionStatus(rawValue: status)?.isFinal != true {
            throw ValidationError("'\(status)' is not a final status (success, error, fault, cancelled)")
        }
    }

    func run() throws {
        try reportingFailures {
            let request = GCRequest(cutoff: Clock.now() - SpoolGC.seconds(inAge: olderThan)!, statuses: Set(status), archive: archive, dryRun: dryRun)
            try place.backend(refusing: request.options).gc(request)
        }
    }
}
