import ArgumentParser
import Basics
import Commands
import JSON
import POSIX
import Spool

/// `flowspool inputs`: the INPUT requests waiting for an answer, as flowspoold publishes them in
/// requests/, which the spool's owner and its responders' group may read.
struct Inputs: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inputs",
        abstract: "List the INPUT requests waiting for an answer (answer them with respond ID VALUE).")

    @OptionGroup(title: "Spool or cluster") var place: BackendOptions
    @Flag(help: "Print a JSON list.") var json = false
    @Flag(name: .shortAndLong, help: "Keep listing new requests as they come.") var follow = false

    func run() throws {
        try reportingFailures {
            let spool = try place.localSpool(for: "inputs")
            guard follow else {
                let pending = try requests(in: spool)
                if json {
                    printLine(JSON.array(pending.map(\.json)).prettyText)
                } else {
                    printTable(header: ["ID", "AGE", "LEFT", "REFERENCE", "REQUEST"], rows: pending.map(row))
                }
                return
            }
            do {
                try followRequests(in: spool)
            } catch {
                throw CommandFailure("cannot follow the requests in \(spool.root)", cause: error)
            }
        }
    }

    func requests(in spool: Spool) throws -> [InputRequest] {
        do {
            return try spool.pendingInputs()
        } catch where error.errno == .permissionDenied || error.errno == .notPermitted {
            throw CommandFailure.permissionDenied(spool.requests, "listing requests takes membership of the spool's responders' group (see respond(1))")
        } catch {
            throw CommandFailure("cannot list the requests in \(spool.requests)", cause: error)
        }
    }

    func row(_ request: InputRequest) -> [String] {
        let now = Clock.now()
        return [
            request.id, Clock.describeDuration(now - request.asked),
            request.deadline.map { Clock.describeDuration(max(0, $0 - now)) } ?? "-",
            request.reference.escapingControlCharacters(), request.request.firstLine,
        ]
    }

    /// Prints each new request once, as one line (or one JSON document a line).
    func followRequests(in spool: Spool) throws {
        try spool.followInputs { request in
            printLine(json ? request.json.compactText : row(request).joined(separator: "  "))
        }
    }
}
