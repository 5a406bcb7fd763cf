import Basics
import DropGate
import POSIX
import Spool

/// What respond(1) does: checks that this user may answer at all, drops the answer into the spool's
/// drop box (DroppedAnswer), through the gate unless this user is root or the spool's owner, and
/// waits for flowspoold's verdict on it.
public struct Responding {
    public let spool: Spool
    /// Where the gate is looked for: the runners' directories (RunnerPath).
    public let gatePath: [String]

    public init(spool: Spool, gatePath: [String] = RunnerPath.default()) {
        self.spool = spool
        self.gatePath = gatePath
    }

    /// How an answer fared, and respond's exit code for it.
    public enum Outcome: Equatable, Sendable {
        case taken
        /// Kept until the execution asks: what respond says.
        case held(String)
        /// Refused, or never dropped: the reason, for the operator.
        case refused(String)
        /// This user has no way into the spool's drop box: why, for the operator.
        case notPermitted(String)
        /// No verdict within the wait: why, for the operator.
        case noVerdict(String)

        /// What is said on standard error: empty when the answer was taken.
        public var reason: String {
            switch self {
            case .taken: ""
            case .held(let why), .refused(let why), .notPermitted(let why), .noVerdict(let why): why
            }
        }

        public var exitCode: Int32 {
            switch self {
            case .taken, .held: ProgramExit.success
            case .refused: ProgramExit.failure
            case .notPermitted: ProgramExit.permissionDenied
            case .noVerdict: ProgramExit.noVerdict
            }
        }
    }

    /// Answers execution `id` with `value` and waits up to `wait` seconds for the verdict. With
    /// `onBehalfOf`, the owner's program answers for someone else (DroppedAnswer).
    public func answer(_ id: String, with value: [UInt8], wait: Double, onBehalfOf: (name: String, via: String)? = nil) -> Outcome {
        if let refusal = refusal(answering: id) { return refusal }
        guard value.count <= DroppedAnswer.maximumSize else {
            return .refused("the answer is \(value.count) bytes; answers are limited to \(DroppedAnswer.maximumSize >> 20) MiB")
        }
        // Watched before the answer is dropped, so that a quick verdict is not missed.
        let watcher = try? Inotify()
        _ = try? watcher?.watch(spool.verdicts, for: [.movedIn, .created])
        let answer: DroppedAnswer
        switch drop(value, for: id, onBehalfOf: onBehalfOf) {
        case .success(let dropped): answer = dropped
        case .failure(let refusal): return refusal.outcome
        }
        switch awaitVerdict(on: answer, watcher: watcher, seconds: wait) {
        case .taken?:
            return .taken
        case .held?:
            return .held("held until \(id) asks: the answer is judged when the request is published (follow it with: flowspool wait \(id))")
        case .refused(let reason)?:
            return .refused(reason)
        case nil where wait == 0:
            return .noVerdict("the answer to \(id) waits in \(spool.answers) for flowspoold to judge it (--wait 0)")
        case nil:
            let why = switch spool.supervisorPresence {
            case .running: "flowspoold is busy"
            case .absent: "no flowspoold supervises \(spool.root)"
            case .unknown: "flowspoold is busy or not running"
            }
            return .noVerdict("no verdict on the answer to \(id) within \(Clock.describeDuration(wait)) (\(why)). The answer waits in \(spool.answers) and is judged when flowspoold reads it; 'flowspool inputs' shows whether the request is still open")
        }
    }

    /// An outcome as an error, for `drop`.
    struct Refusal: Error { let outcome: Outcome }

    /// Drops the answer: root and the spool's owner write into answers/ themselves, anyone else
    /// through the gate, which checks who they are.
    func drop(_ value: [UInt8], for id: String, onBehalfOf: (name: String, via: String)?) -> Result<DroppedAnswer, Refusal> {
        let owner = ((try? FileSystem.status(spool.root)) ?? nil)?.owner
        if User.effective == User.root || User.effective == owner || onBehalfOf != nil {
            do {
                return .success(try spool.dropAnswer(value, for: id, onBehalfOf: onBehalfOf))
            } catch {
                let why = RespondError.failed(id, "cannot write into \(spool.answers): \(error)").description
                return .failure(Refusal(outcome: PermissionDenial(error) == nil ? .refused(why) : .notPermitted(why)))
            }
        }
        guard let gate = DropGate.installed(in: gatePath) else {
            return .failure(Refusal(outcome: .refused(RespondError.failed(id, DropGate.notInstalled(in: gatePath)).description)))
        }
        Signal.brokenPipe.ignore()  // a gate that refuses before reading the whole answer
        let result: (status: ExitStatus, output: [UInt8])
        do {
            result = try Spawn.capture(gate, arguments: [spool.path, "answer", id], input: value, withErrors: true, timeout: Self.gateTimeout)
        } catch {
            return .failure(Refusal(outcome: .refused(RespondError.failed(id, "cannot run \(gate): \(error)").description)))
        }
        var text = String(decoding: result.output, as: UTF8.self)
        while text.hasSuffix("\n") { text.removeLast() }
        switch result.status {
        case .exited(ProgramExit.success):
            guard let dropped = DroppedAnswer(fileName: id + "." + text) else {
                return .failure(Refusal(outcome: .refused(RespondError.failed(id, "\(gate) answered '\(text.escapingControlCharacters())', not a token").description)))
            }
            return .success(dropped)
        case .exited(ProgramExit.permissionDenied):
            return .failure(Refusal(outcome: .notPermitted(RespondError.notPermitted(id, Self.withoutProgramName(text)).description)))
        default:
            return .failure(Refusal(outcome: .refused(RespondError.failed(id, Self.withoutProgramName(text)).description)))
        }
    }

    /// How long the gate may take: it syncs the file system, which a busy disk can make slow.
    static let gateTimeout = 600.0

    static func withoutProgramName(_ text: String) -> String {
        text.hasPrefix(DropGate.program + ": ") ? String(text.dropFirst(DropGate.program.utf8.count + 2)) : text
    }

    /// Why this user cannot answer `id`, said plainly before anything is read or written: not an
    /// execution id, no spool, or no way into it (outside the responders' group, which is
    /// `notPermitted`); nil when nothing stands in the way. The gate checks the group itself.
    public func refusal(answering id: String) -> Outcome? {
        guard ExecutionID.isValid(id) else { return .refused(RespondError.notAnID(id).description) }
        guard FileSystem.exists(spool.root) else {
            return .refused("\(spool.root) is not a flowspool spool (give --spool or $FLOWSPOOL_SPOOL)")
        }
        do {
            try FileSystem.checkAccess(spool.verdicts, for: [.read, .execute])
            return nil
        } catch where error.errno == .noSuchFileOrDirectory {
            return .refused("\(spool.root) has no verdicts/ for answers: it is not a flowspool spool, or its flowspoold has not started since an upgrade")
        } catch where error.errno == .permissionDenied || error.errno == .notPermitted {
            let blocked = FileSystem.mayEnter(spool.root) ? spool.verdicts : spool.root
            return .notPermitted(RespondError.notPermitted(id, "permission denied: \(blocked)\(FileSystem.ownershipNote(blocked)); answering takes membership of the spool's responders' group (see respond(1))").description)
        } catch {
            return .refused(RespondError.failed(id, "\(error)").description)
        }
    }

    /// Waits for flowspoold's verdict, woken by inotify on verdicts/; nil when none came in time.
    func awaitVerdict(on answer: DroppedAnswer, watcher: Inotify?, seconds: Double) -> AnswerVerdict? {
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

    /// An answer from standard input, without the newline that ends it; nil when it cannot be read
    /// or is too long.
    public static func readStandardInput() -> [UInt8]? {
        guard var bytes = try? FileDescriptor.standardInput.readAll(limit: DroppedAnswer.maximumSize + 1) else { return nil }
        if bytes.last == 0x0a { bytes.removeLast() }
        return bytes
    }
}
