import ArgumentParser
import Basics
import Commands
import JSON
import POSIX
import Spool

/// `flowspool --cluster URL nodes`: the hosts of a cluster and when each was last heard of.
struct Nodes: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodes", abstract: "With --cluster: the cluster's hosts, when each was last seen, and what each holds.")

    @OptionGroup(title: "Spool or cluster") var place: BackendOptions
    @Flag(help: "Print a JSON dictionary.") var json = false

    func run() throws {
        try reportingFailures {
            let nodes = try place.cluster(for: "nodes").nodes().sorted { $0.key < $1.key }
            if json {
                printLine(JSON.object(JSONObject(nodes.map { ($0.key, $0.value) })).prettyText)
                return
            }
            let now = Clock.now()
            printTable(header: ["NODE", "LAST SEEN", "HOLDS", "SLOTS", "EXECUTIONS"], rows: nodes.map { name, state in
                [name.escapingControlCharacters(), state["seen"]?.doubleValue.map { Clock.describeDuration(max(0, now - $0)) + " ago" } ?? "-",
                 state["held"].map(\.compactText) ?? "-", state["slots"].map(\.compactText) ?? "-",
                 (state["executions"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: " ").escapingControlCharacters()]
            })
        }
    }
}
