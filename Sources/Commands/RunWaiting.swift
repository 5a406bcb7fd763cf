import Basics
import POSIX
import Spool

/// How `flowspool run` waits for its execution: woken by flowspoold, it says once when an INPUT
/// request of the execution or of one of its children waits for an answer; Ctrl-C and --timeout
/// end the wait, and the run then says what became of the execution.
final class RunWaiting {
    let spool: Spool
    let id: String
    /// The requests already announced.
    var announced: Set<String> = []

    enum Outcome {
        case ended(JobState)
        case interrupted
        case timedOut
    }

    init(spool: Spool, id: String) {
        self.spool = spool
        self.id = id
    }

    func wait(timeout: Double?, interrupt: SignalDescriptor?, announce: Bool) throws -> Outcome {
        let watcher = try makeWatcher(for: id, in: spool)
        watcher.interruption = interrupt?.descriptor
        if announce { watcher.onWake = { [unowned self] in announceRequests() } }
        let state: JobState
        do {
            state = try watcher.wait(for: [id], until: .all, timeout: timeout)[id] ?? .pending
        } catch {
            throw CommandFailure("cannot wait for \(id)", cause: error)
        }
        if state != .pending { return .ended(state) }
        return watcher.interrupted ? .interrupted : .timedOut
    }

    /// Says once of each open INPUT request in the execution's tree what it asks and how to answer.
    func announceRequests() {
        guard let requests = try? spool.pendingInputs() else { return }
        for request in requests where !announced.contains(request.id) && isInTree(request) {
            announced.insert(request.id)
            printError("\(request.id) asks: \(request.request.firstLine.escapingControlCharacters()); answer with: \(respondCommand(request.id)) VALUE")
        }
    }

    /// Whether the request is the execution's or one of its descendants', by its lineage.
    func isInTree(_ request: InputRequest) -> Bool {
        request.id == id || request.ancestors(in: spool).contains(id)
    }

    func respondCommand(_ request: String) -> String {
        spool.root == Spool.locate(nil).root ? "respond \(request)" : "respond --spool \(spool.root) \(request)"
    }

    /// After Ctrl-C: the execution goes on, and the run says how to follow or cancel it; with
    /// --cancel-on-interrupt it is cancelled first. Exits 130 either way.
    func detach(cancel: Bool) throws -> Never {
        if cancel {
            printError(try cancelOrWithdraw(because: "flowspool run --cancel-on-interrupt was interrupted"))
        } else {
            printError("\(id) goes on; follow it with: flowspool wait \(id), or stop it with: flowspool cancel \(id)")
        }
        throw CommandFailure.exit(ProgramExit.detached)
    }

    /// After --timeout: the execution is cancelled (or the job, not admitted yet, withdrawn to
    /// failed/), as timeout(1) ends its command. Exits 124.
    func giveUp(after seconds: Double) throws -> Never {
        let what = try cancelOrWithdraw(because: "flowspool run --timeout \(Clock.describeDuration(seconds))")
        throw CommandFailure("\(id) has not ended after \(Clock.describeDuration(seconds)): \(what)", exitCode: ProgramExit.timedOut)
    }

    /// Withdraws the job if no supervisor has admitted it, else asks flowspoold to cancel the
    /// execution, naming the cause, and waits a little for it to end; says which.
    func cancelOrWithdraw(because cause: String) throws -> String {
        if (try? spool.withdraw(id, because: "withdrawn before it was admitted (\(cause))")) == true {
            return "the job was withdrawn to failed/\(id).json" + (spool.hasSupervisor ? "" : " (no flowspoold supervises \(spool.root))")
        }
        guard (try? spool.sendControl("cancel \(id) \(cause)")) == true else {
            return "no flowspoold supervises \(spool.root) to cancel it; cancel it later with: flowspool cancel \(id)"
        }
        if case .ended(let status) = try awaitEnd(of: id, in: spool, timeout: 10) {
            return "it ended \(status.rawValue)"
        }
        return "it is being cancelled"
    }
}
