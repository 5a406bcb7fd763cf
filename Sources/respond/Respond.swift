import ArgumentParser
import Basics
import Commands
import POSIX
import Responder
import Spool

/// `respond [--spool DIR] [--wait SECONDS] ID VALUE`: answers a pending INPUT request (respond(1)).
///
/// Exits 0 when the answer was taken, 1 when it was refused (with the reason), 3 when no verdict
/// came in time (the answer stays in the drop box and is judged when flowspoold reads it), 64 on
/// usage errors, 77 when this user has no way into the drop box (ProgramExit).
@main
struct Respond: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "respond",
        abstract: "Answer a pending INPUT request.",
        usage: "respond [--spool <spool>] [--cluster <url>] [--wait <wait>] [--file <file>] <id> [<value>]",
        discussion: """
            The answer goes into the spool's drop box and flowspoold decides whether it is taken; \
            respond waits for that verdict and prints it. Exit status: 0 taken, 1 refused, 3 no \
            verdict in time, 64 usage error, 77 permission denied. See respond(1).
            """,
        version: FlowspoolVersion.line(for: "respond"))

    // Each option takes the word after it as its value, whatever it begins with (--wait -1 is a
    // wrong number, not a missing one).
    @Option(parsing: .unconditional, help: "The spool directory (default: $FLOWSPOOL_SPOOL, else ./spool).")
    var spool: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Answer through the cluster at redis://[USER:PASSWORD@]HOST:PORT[/DB], wherever the request waits (default: $FLOWSPOOL_CLUSTER).", valueName: "url"))
    var cluster: String?

    @Option(parsing: .unconditional, help: "Seconds to wait for flowspoold's verdict, from 0 to 86400.")
    var wait: Double = 30

    @Option(parsing: .unconditional, help: ArgumentHelp("Read the answer from this file, which keeps it out of the process list (as '-' does).", valueName: "file"))
    var file: String?

    @Argument(help: "The execution id of the INPUT request.")
    var id: String

    /// The answer's words as given: an answer may begin with a dash (`respond ID -5`), so what
    /// ArgumentParser does not know as an option is taken here, and `validate` makes one value of it.
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("The answer; '-' reads it from standard input. An answer given here is visible to every user's ps: prefer '-' or --file for anything secret.", valueName: "value"))
    var words: [String] = []

    /// Whether the answer's words came after `--`, where a word may begin with two dashes.
    var afterTerminator: Bool { words.first == "--" }

    /// The words of the answer given on the command line, `--` left out: one, or none.
    var answerWords: ArraySlice<String> { afterTerminator ? words.dropFirst() : words[...] }

    /// The answer given on the command line.
    var value: String? { answerWords.first }

    func validate() throws {
        // The word is not repeated: it may be an answer, and a secret one, that lacks its '--'.
        if !afterTerminator, words.contains(where: { $0.hasPrefix("--") && $0.count > 2 }) {
            throw ValidationError("a word beginning with '--' is no option of respond; an answer that begins with '--' goes after '--': respond ID -- ANSWER")
        }
        let once = "give the answer once: as VALUE, as '-' for standard input, or with --file FILE"
        guard answerWords.count <= 1, (value == nil) != (file == nil) else { throw ValidationError(once) }
        guard wait >= 0, wait <= 86400 else { throw ValidationError("--wait takes a number of seconds from 0 to 86400") }
    }

    func run() throws {
        let backend: any Backend
        if let url = ClusterBackend.url(cluster: cluster, spool: spool) {
            do {
                backend = try ClusterBackend(url: url, spool: spool)
            } catch {
                let failure = CommandFailure(error)
                fail(failure.description, code: failure.exitCode)
            }
        } else {
            backend = LocalSpoolBackend(spool: Spool.locate(spool))
        }
        let outcome = backend.respond(to: id, wait: wait, answer: readAnswer)
        if outcome != .taken { fail(outcome.reason, code: outcome.exitCode) }
    }

    /// The answer: the value, the file's content, or standard input for '-'.
    func readAnswer() -> [UInt8] {
        if let file {
            do {
                var bytes = try FileSystem.readFile(file, limit: DroppedAnswer.maximumSize + 1)
                if bytes.last == 0x0a { bytes.removeLast() }
                return bytes
            } catch where error.errno == .permissionDenied {
                fail("cannot read the answer: \(error)", code: ProgramExit.permissionDenied)
            } catch {
                fail("cannot read the answer: \(error)", code: ProgramExit.failure)
            }
        }
        guard let value, value == "-" else { return Array((value ?? "").utf8) }
        guard let read = Responding.readStandardInput() else {
            fail("cannot read the answer from standard input (at most \(DroppedAnswer.maximumSize >> 20) MiB)", code: ProgramExit.failure)
        }
        return read
    }

    func fail(_ message: String, code: Int32) -> Never {
        OperatorLine.write(message)
        CurrentProcess.exit(code)
    }

    static func main() {
        CurrentProcess.openStandardDescriptors()
        main(nil)
    }
}
