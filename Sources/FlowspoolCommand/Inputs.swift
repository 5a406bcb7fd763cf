#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import JSON
import POSIX
import Spool

/// `flowspool inputs`: the INPUT requests waiting for an answer.
struct Inputs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the INPUT requests waiting for an answer (answer them with respond ID VALUE).")

    @OptionGroup var spoolOption: SpoolOption
    @Flag(help: "Print a JSON list.") var json = false
    @Flag(name: .shortAndLong, help: "Keep listing new requests as they come.") var follow = false

    func run() throws {
        try reportingFailures {
            let spool = try spoolOption.open()
            guard follow else {
                let pending = spool.pendingInputs()
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
                throw CommandFailure("cannot follow the requests in \(spool.root): \(error)")
            }
        }
    }

    func row(_ request: InputRequest) -> [String] {
        let now = Clock.now()
        return [
            request.id, Clock.describeDuration(now - request.asked),
            request.deadline.map { Clock.describeDuration(max(0, $0 - now)) } ?? "-",
            request.reference, request.request.firstLine,
        ]
    }

    /// Prints each new request once, as one line (or one JSON document a line), woken by inotify on
    /// executions/ and on the directories of INPUT executions that may start waiting.
    func followRequests(in spool: Spool) throws(SystemError) {
        let inotify = try Inotify()
        try inotify.watch(spool.executions, for: Int32(IN_MOVED_TO | IN_CREATE))
        var watched: Set<String> = []
        var shown: Set<String> = []
        while true {
            for id in ((try? FileSystem.listDirectory(spool.executions)) ?? []) where !watched.contains(id) && ExecutionID.isValid(id) {
                let status = spool.execution(id).status()
                guard status?.isFinal == false else { continue }
                _ = try? inotify.watch(spool.execution(id).directory, for: Int32(IN_MOVED_TO | IN_CLOSE_WRITE))
                watched.insert(id)
            }
            for request in spool.pendingInputs() where shown.insert(request.id).inserted {
                printLine(json ? request.json.compactText : row(request).joined(separator: "  "))
            }
            _ = try Poll.readable([inotify.descriptor], timeout: nil)
            inotify.drain()
        }
    }
}
