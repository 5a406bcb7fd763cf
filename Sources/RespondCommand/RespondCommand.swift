import POSIX
import Spool

/// `respond [--spool DIR] [--wait SECONDS] ID VALUE`: answers a pending INPUT request (respond(1)).
///
/// The answer goes into the spool's drop box, answers/, and flowspoold decides whether it is taken
/// (DroppedAnswer); respond waits for that verdict and prints it. Exits 0 when the answer was
/// taken, 1 when it was refused (with the reason), 2 on usage errors, 3 when no verdict came in
/// time (the answer stays in the drop box and is judged when flowspoold reads it).
public enum RespondCommand {
    static let usage = "usage: respond [--spool DIR] [--wait SECONDS] ID VALUE   (VALUE '-' reads the answer from standard input)"
    static let defaultWait = 30.0

    public static func main(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Never {
        var spoolOption: String?
        var wait = defaultWait
        var positional: [String] = []
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            let (option, attached) = split(argument)
            switch option {
            case "--spool":
                guard let value = attached ?? rest.popFirst() else { fail(usage, code: 2) }
                spoolOption = value
            case "--wait":
                guard let value = (attached ?? rest.popFirst()).flatMap(Double.init), value >= 0, value <= 86400 else {
                    fail("--wait takes a number of seconds from 0 to 86400\n\(usage)", code: 2)
                }
                wait = value
            case "-h", "--help":
                print(usage)
                CurrentProcess.exit(0)
            case "--":
                positional += rest
                rest = []
            default:
                if argument.hasPrefix("--") { fail("unknown option \(argument)\n\(usage)", code: 2) }
                positional.append(argument)
            }
        }
        guard positional.count == 2 else { fail(usage, code: 2) }
        let (id, given) = (positional[0], positional[1])
        guard ExecutionID.isValid(id) else { fail(RespondError.notAnID(id).description, code: 1) }
        let spool = Spool.locate(spoolOption)
        checkAccess(to: spool, answering: id)
        let value = given == "-" ? readStandardInput() : Array(given.utf8)
        guard value.count <= DroppedAnswer.maximumSize else {
            fail("the answer is \(value.count) bytes; answers are limited to \(DroppedAnswer.maximumSize >> 20) MiB", code: 1)
        }
        // Watched before the answer is dropped, so that a quick verdict is not missed.
        let watcher = try? Inotify()
        _ = try? watcher?.watch(spool.verdicts, for: [.movedIn, .created])
        let answer: DroppedAnswer
        do {
            answer = try spool.dropAnswer(value, for: id)
        } catch {
            fail(RespondError.failed(id, "cannot write into \(spool.answers): \(error)").description, code: 1)
        }
        switch awaitVerdict(on: answer, in: spool, watcher: watcher, seconds: wait) {
        case .taken?:
            CurrentProcess.exit(0)
        case .refused(let reason)?:
            fail(reason, code: 1)
        case nil where wait == 0:
            fail("the answer to \(id) waits in \(spool.answers) for flowspoold to judge it (--wait 0)", code: 3)
        case nil:
            let why = switch spool.supervisorPresence {
            case .running: "flowspoold is busy"
            case .absent: "no flowspoold supervises \(spool.root)"
            case .unknown: "flowspoold is busy or not running"
            }
            fail("no verdict on the answer to \(id) within \(Clock.describeDuration(wait)) (\(why)). The answer waits in \(spool.answers) and is judged when flowspoold reads it; 'flowspool inputs' shows whether the request is still open", code: 3)
        }
    }

    /// `--name=value` as `--name` and its value.
    static func split(_ argument: String) -> (String, String?) {
        guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }

    /// Says plainly why someone cannot answer, before anything is written: no spool, or no way into
    /// its drop box (outside the responders' group).
    static func checkAccess(to spool: Spool, answering id: String) {
        guard FileSystem.exists(spool.root) else {
            fail("\(spool.root) is not a flowspool spool (give --spool or $FLOWSPOOL_SPOOL)", code: 1)
        }
        do {
            try FileSystem.checkAccess(spool.answers, for: [.write, .execute])
        } catch {
            explainNoAccess(to: spool, answering: id, error)
        }
    }

    private static func explainNoAccess(to spool: Spool, answering id: String, _ error: SystemError) -> Never {
        switch error.errno {
        case .noSuchFileOrDirectory:
            fail("\(spool.root) has no drop box for answers (answers/): it is not a flowspool spool, or its flowspoold has not started since an upgrade", code: 1)
        case .permissionDenied, .notPermitted:
            let blocked = FileSystem.mayEnter(spool.root) ? spool.answers : spool.root
            fail(RespondError.notPermitted(id, "permission denied: \(blocked)\(FileSystem.ownershipNote(blocked)); answering takes membership of the spool's responders' group (see respond(1))").description, code: 1)
        default:
            fail(RespondError.failed(id, "\(error)").description, code: 1)
        }
    }

    /// Waits for flowspoold's verdict, woken by inotify on verdicts/; nil when none came in time.
    static func awaitVerdict(on answer: DroppedAnswer, in spool: Spool, watcher: Inotify?, seconds: Double) -> AnswerVerdict? {
        let deadline = Clock.monotonic() + seconds
        while true {
            if let verdict = (try? spool.verdict(on: answer)) ?? nil { return verdict }
            let left = deadline - Clock.monotonic()
            guard left > 0 else { return nil }
            guard let watcher else {
                Clock.sleep(min(left, 0.05))  // no inotify instance to be had: look again shortly
                continue
            }
            try? watcher.awaitEvents(timeout: left)
        }
    }

    /// The answer from standard input, without the newline that ends it.
    static func readStandardInput() -> [UInt8] {
        guard var bytes = try? FileDescriptor.standardInput.readAll(limit: DroppedAnswer.maximumSize + 1) else {
            fail("cannot read the answer from standard input (at most \(DroppedAnswer.maximumSize >> 20) MiB)", code: 1)
        }
        if bytes.last == 0x0a { bytes.removeLast() }
        return bytes
    }

    static func fail(_ message: String, code: Int32) -> Never {
        try? FileDescriptor.standardError.write("respond: \(message.escapingControlCharacters())\n")
        CurrentProcess.exit(code)
    }
}
