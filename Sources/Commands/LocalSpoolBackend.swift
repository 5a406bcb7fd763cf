import Basics
import JSON
import POSIX
import Responder
import Spool

/// The commands over a local spool that flowspoold supervises (flowspool-spool(5)).
public struct LocalSpoolBackend: Backend {
    public let spool: Spool

    public init(spool: Spool) {
        self.spool = spool
    }

    public static var name: String { "a local spool" }

    public static var lacks: [CommandOption: String] {
        [.retryOnHostLoss: "a local spool has no other host to run the job again on; give --cluster URL"]
    }

    public func submit(_ submission: Submission) throws -> String {
        try submit(submission.job, id: submission.id, warn: true)
    }

    /// Submits the job; `warn`s at once when no supervisor runs (`run` waits a grace period first).
    func submit(_ job: Job, id: String?, warn: Bool) throws -> String {
        do {
            let id = try spool.submit(job, id: id)
            if warn, !spool.hasSupervisor {
                printError("warning: no flowspoold supervises \(spool.root); the job waits in incoming/ until one starts")
            }
            return id
        } catch {
            throw CommandFailure(error)
        }
    }

    public func run(_ submission: Submission, _ options: RunOptions) throws {
        // Blocked before the job exists, so that Ctrl-C never leaves it unaccounted for.
        let interrupt = try? SignalDescriptor([.interrupt])
        let id: String
        if let unique = options.unique {
            var job = submission.job
            job.unique = unique
            guard let submitted = try submitUnlessGoing(Submission(job: job, id: submission.id), key: unique, quiet: options.quiet) else {
                throw CommandFailure.exit(ProgramExit.skipped)
            }
            id = submitted
        } else {
            id = try submit(submission.job, id: submission.id, warn: false)
        }
        if !options.quiet { printError("execution \(id)") }
        let waiting = RunWaiting(spool: spool, id: id)
        switch try waiting.wait(timeout: options.timeout, interrupt: interrupt, announce: !options.quiet) {
        case .ended(let state):
            try report(state, of: spool.execution(id), quiet: options.quiet)
        case .interrupted:
            try waiting.detach(cancel: options.cancelOnInterrupt)
        case .timedOut:
            try waiting.giveUp(after: options.timeout ?? 0)
        }
    }

    /// Submits the job unless an execution with the same unique key has not ended yet; returns nil
    /// (and says so on stderr unless quiet) when it skips. A lock on incoming/ keeps two such
    /// runs from both deciding that they are alone.
    func submitUnlessGoing(_ submission: Submission, key: String, quiet: Bool) throws -> String? {
        let lock: FileDescriptor
        do {
            lock = try FileDescriptor.open(spool.incoming, .readOnly, options: .directory)
            _ = try lock.lockExclusively(wait: true)
        } catch {
            throw CommandFailure("cannot lock \(spool.incoming)", cause: error)
        }
        defer { try? lock.close() }
        if let going = spool.unfinishedJob(withUniqueKey: key) {
            if !quiet { printError("skipped: \(going) with unique key '\(key)' has not ended yet") }
            return nil
        }
        return try submit(submission.job, id: submission.id, warn: false)
    }

    /// Prints how a job ended: outputs (and any end message, on stderr) on success, else the status
    /// and message on stderr and exit 1.
    func report(_ state: JobState, of execution: Execution, quiet: Bool) throws {
        guard case .ended(let status) = state else {
            // Not admitted, or gone: said as wait says it.
            let failure = state == .pending ? nil : Ending(state).verdict(of: execution.id, after: nil).failure
            throw failure ?? CommandFailure("\(execution.id) has not ended")
        }
        let outputs = execution.outputs() ?? [:]
        let inputs = (try? execution.job().inputs) ?? [:]
        try reportEnd(
            of: execution.id, status.rawValue, outputs: Protection.maskedOutputs(outputs, inputs: inputs),
            message: (execution.message() ?? "").trimming("\n"), quiet: quiet)
    }

    public func status(of id: String) throws -> String {
        let execution = try spool.checkedExecution(id)
        guard let status = execution.status() else { throw CommandFailure("execution \(id) has no readable status") }
        return status.rawValue
    }

    public func wait(for id: String, timeout: Double?) throws -> Ending {
        try requireExecutionID(id)
        // Asked first, as a look this user may not take would pass for "no such execution".
        try requireOwnersAccess(to: spool)
        guard spool.knows(id) else { throw CommandFailure("no execution \(id) in \(spool.root)") }
        return Ending(try awaitEnd(of: id, in: spool, timeout: timeout))
    }

    public func cancel(_ id: String) throws {
        if ExecutionID.isValid(id), spool.knows(id), spool.hasSupervisor {
            // A job just submitted may still wait to be admitted: cancel it once it is.
            _ = try? JobWatcher(spool: spool).waitForExecution(id)
        }
        let execution = try spool.checkedExecution(id)
        if let status = execution.status(), status.isFinal {
            throw CommandFailure("\(id) has ended already: \(status.rawValue)")
        }
        let delivered: Bool
        do {
            delivered = try spool.sendControl("cancel \(id)")
        } catch {
            throw CommandFailure("cannot reach flowspoold", cause: error)
        }
        guard delivered else {
            throw CommandFailure("no flowspoold supervises \(spool.root); start it to cancel \(id)")
        }
        let state = try awaitEnd(of: id, in: spool, timeout: 30)
        if state == .vanished { throw CommandFailure(JobState.vanishedMessage(id)) }
        guard case .ended(let status) = state else { throw CommandFailure("\(id) has not ended 30 s after the cancel") }
        printLine(status.rawValue)
        if status != .cancelled { throw CommandFailure.exit(ProgramExit.failure) }
    }

    public func respond(to id: String, wait: Double, answer: () -> [UInt8]) -> Responding.Outcome {
        let responding = Responding(spool: spool)
        // Refused before the answer is read, so that nobody types an answer in vain.
        if let refusal = responding.refusal(answering: id) { return refusal }
        return responding.answer(id, with: answer(), wait: wait)
    }
}
