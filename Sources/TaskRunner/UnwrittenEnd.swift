import JSON
import POSIX
import Spool

/// A result the runner holds but could not write: the task is done (the request made, the answer in
/// hand) and the disk refused the end for a cause time may mend (full, over quota, no descriptors or
/// memory left). Making the task again could do its work twice, so the result stays in memory and
/// the end is tried again with a growing delay (`Backoff`), for what is left of the task timeout and
/// flowspoold's --end-grace (flowspool-spool(5), "The runner contract").
///
/// So that the result outlives whatever happens next (the supervisor stopping the runner, a crash),
/// it is written to the log at once, protected outputs masked, in one line that says the end is
/// tried again: once, not once a try. With the line in the log, the runner tells the supervisor
/// (`ending ID`), which then gives it the grace past its timeout. When the time is up the runner exits
/// `RunnerContract.unwrittenEndStatus`, and the supervisor ends the execution `fault`, saying that the
/// result is in the log.
struct UnwrittenEnd {
    let execution: Execution
    let status: ExecutionStatus
    let message: String?
    let outputs: JSONObject
    /// The job's inputs, which name the outputs that are never shown (`protect_outputs`).
    let inputs: JSONObject
    let log: RunnerLog

    /// When a runner that began at `began` stops trying an end first refused at `now` (monotonic
    /// seconds): what is left of its task timeout, and the grace. A runner past its timeout already
    /// (a flow that waited for its children, whose waits the timeout does not count) has the grace.
    static func giveUpTime(began: Double, timeout: Double, grace: Double, now: Double) -> Double {
        max(now, began + timeout) + grace
    }

    /// Tries the end again until it is written or `giveUpAt` (monotonic seconds) has passed, and says
    /// how the execution went.
    func retry(after firstError: SystemError, until giveUpAt: Double) -> TaskRunner.Outcome {
        let firstRefused = Clock.monotonic()
        var backoff = Backoff()
        var (tries, lastError, inLog) = (1, firstError, false)
        while true {
            if !inLog { inLog = logResult(refusedBy: lastError, until: giveUpAt) }
            let now = Clock.monotonic()
            guard now < giveUpAt else { break }
            backoff.fail(at: now)
            Clock.sleep(min(backoff.nextTry, giveUpAt) - now)
            tries += 1
            do {
                try attempt()
                log.line("ended execution \(execution.id) (\(status.rawValue)) at try \(tries), \(Clock.describeDuration(Clock.monotonic() - firstRefused)) after the disk first refused it")
                return .ended(execution)
            } catch where error.isShortOfResources {
                lastError = error
            } catch {
                log.line("cannot end execution \(execution.id): \(error)" + (inLog ? "; its result is in this log, above" : ""))
                return .abandoned(exitStatus: 1)
            }
        }
        return giveUp(after: tries, refusedBy: lastError, resultInLog: inLog)
    }

    /// One more try. An earlier one may have written the final status and failed after it (the
    /// history line, the directory's sync): as only the lock's holder writes the status, a final one
    /// is this runner's own, and the end is done.
    func attempt() throws(SystemError) {
        if let current = try execution.readStatus(), current.isFinal {
            _ = try? execution.recordHistory(current)
            return
        }
        try execution.end(status, message: message, outputs: outputs)
    }

    /// Writes the result to the log, in one line that says the end is tried again, and tells the
    /// supervisor; false when the log could not take the line either (tried again with the end).
    func logResult(refusedBy error: SystemError, until giveUpAt: Double) -> Bool {
        let left = Clock.describeDuration(giveUpAt - Clock.monotonic())
        guard log.line("cannot end execution \(execution.id) now (\(error)); the task is done and is not made again: its result is kept and the end tried again with a growing delay, for \(left) at most (what is left of its task timeout, and flowspoold --end-grace). The result: \(describeResult())") else {
            return false
        }
        _ = try? execution.spool.sendControl("ending \(execution.id)")
        return true
    }

    /// "status success, outputs {...}" and the message if any, protected outputs masked as
    /// `flowspool show` masks them.
    func describeResult() -> String {
        let shown = JSON.object(Protection.maskedOutputs(outputs, inputs: inputs)).compactText
        return "status \(status.rawValue)" + (message.map { ", message \(JSON.string($0).compactText)" } ?? "") + ", outputs \(shown)"
    }

    func giveUp(after tries: Int, refusedBy error: SystemError, resultInLog: Bool) -> TaskRunner.Outcome {
        let said = resultInLog ? "its result is in this log, above; flowspoold ends it fault" : "the log refused its result too, which is lost"
        log.line("gives up ending execution \(execution.id) after \(tries) tries (its task timeout and flowspoold --end-grace have passed): \(error); \(said)")
        return .abandoned(exitStatus: resultInLog ? RunnerContract.unwrittenEndStatus : 1)
    }
}
