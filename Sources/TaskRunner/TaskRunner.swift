import Basics
import JSON
import POSIX
import Spool

/// The part every runner shares: find the execution, read its inputs, run the task, and end the
/// execution with outputs, message and status (flowspool-spool(5), "The runner contract").
public enum TaskRunner {
    /// Runs `task` on the execution in the current directory and exits. The supervisor starts runners
    /// there with FLOWSPOOL_SPOOL and FLOWSPOOL_EXECUTION set and the execution's lock on descriptor 3.
    ///
    /// A runner started to be reused (FLOWSPOOL_REUSE=1) first runs `prepare`, then serves the
    /// executions handed to it on standard input, one at a time; see `Reuse`.
    /// `versionDetails` are lines --version prints after the version (the AWS runner's models, the
    /// SSH runner's libssh2), which `flowspool doctor` shows; one beginning "warning: " is a warning there.
    public static func main(
        taskType: String, prepare: () -> Void = {}, versionDetails: () -> [String] = { [] },
        _ task: (inout TaskInputs, TaskContext) throws(TaskFailure) -> TaskResult
    ) -> Never {
        // A peer that went away is an error to report, not a reason to die (programs a runner starts
        // get the default back).
        Signal.brokenPipe.ignore()
        CurrentProcess.openStandardDescriptors()
        _ = Spool.handedDownRoot  // taken before anything is started or the environment kept
        if CommandLine.arguments.dropFirst().first == "--version" {
            // What flowspool doctor runs to see that the runner starts, its C libraries found.
            let lines = [FlowspoolVersion.line(for: "flowspool-task-" + taskType)] + versionDetails()
            try? FileDescriptor.standardOutput.write(lines.map { $0 + "\n" }.joined())
            CurrentProcess.exit(0)
        }
        if Environment.value(RunnerContract.reuseVariable) == "1" {
            prepare()
            Reuse.serve { runExecution(taskType: taskType, task) }
        }
        let outcome = runExecution(taskType: taskType, task)
        if case .ended(let execution) = outcome {
            // So that flowspoold wakes those waiting for it now, not once this process is gone.
            _ = try? execution.spool.sendControl("ended \(execution.id)")
        }
        CurrentProcess.exit(outcome.exitStatus)
    }

    /// How one execution went: ended or parked, the runner's part done; or not, and the execution
    /// is left to the supervisor, which learns of it when the runner exits with `exitStatus`.
    enum Outcome {
        case ended(Execution)
        case parked(Execution)
        case abandoned(exitStatus: Int32)

        var exitStatus: Int32 {
            if case .abandoned(let status) = self { return status }
            return 0
        }
    }

    /// Runs the task on the execution this process stands in, and ends or parks the execution.
    static func runExecution(
        taskType: String, _ task: (inout TaskInputs, TaskContext) throws(TaskFailure) -> TaskResult
    ) -> Outcome {
        do {
            try RunnerContract.declareBegun()
        } catch {
            // Nothing was done: after a restart the execution is run, not ended (flowspool-spool(5)).
            RunnerLog().line("cannot declare the run begun (the lock on descriptor 3): \(error)")
            return .abandoned(exitStatus: 2)
        }
        let began = Clock.monotonic()
        let execution: Execution
        let job: Job
        do {
            execution = try locateExecution()
            job = try execution.job()
        } catch {
            RunnerLog().line("\(error)")
            return .abandoned(exitStatus: 2)
        }
        let log = RunnerLog()
        var inputs = TaskInputs(taskType: taskType, values: job.inputs)
        let status: ExecutionStatus
        let message: String?
        let outputs: JSONObject?
        do {
            let result = try task(&inputs, TaskContext(execution: execution, log: log))
            if let condition = result.parking { return park(execution, until: condition) }
            (status, message, outputs) = (.success, result.message, result.outputs)
        } catch {
            log.line("error: \(error.message)")
            (status, message, outputs) = (.error, error.message, error.outputs)
        }
        return end(execution, of: job, began: began, status, message: message, outputs: outputs ?? [:], log: log)
    }

    /// Ends the execution with the task's result. When the disk refuses the end for a cause time
    /// may mend, the task, done, is not made again: the result is kept, and the end tried again
    /// until the task timeout and the grace have passed (UnwrittenEnd).
    static func end(
        _ execution: Execution, of job: Job, began: Double, _ status: ExecutionStatus, message: String?, outputs: JSONObject,
        log: RunnerLog
    ) -> Outcome {
        do {
            try execution.end(status, message: message, outputs: outputs)
            return .ended(execution)
        } catch where error.isShortOfResources {
            let result = UnwrittenEnd(execution: execution, status: status, message: message, outputs: outputs, inputs: job.inputs, log: log)
            let giveUpAt = UnwrittenEnd.giveUpTime(
                began: began, timeout: RunnerContract.taskTimeout(of: job), grace: RunnerContract.endGrace, now: Clock.monotonic())
            return result.retry(after: error, until: giveUpAt)
        } catch {
            log.line("cannot end execution \(execution.id): \(error)")
            return .abandoned(exitStatus: 1)
        }
    }

    static func park(_ execution: Execution, until condition: WakeCondition) -> Outcome {
        do {
            try execution.park(until: condition)
            return .parked(execution)
        } catch {
            RunnerLog().line("cannot park execution \(execution.id): \(error)")
            return .abandoned(exitStatus: 1)
        }
    }

    static func locateExecution() throws(SpoolError) -> Execution {
        let cwd = FileSystem.currentDirectory()
        let id = Environment.value(RunnerContract.executionVariable) ?? String(cwd.split(separator: "/").last ?? "")
        let spoolRoot = Environment.value(RunnerContract.spoolVariable)
            ?? String(cwd.split(separator: "/").dropLast(2).joined(separator: "/")).withLeadingSlash
        guard ExecutionID.isValid(id) else {
            throw SpoolError("'\(id)' is not an execution id; run a runner in its execution directory")
        }
        return Spool.handedDown(path: spoolRoot).execution(id)
    }
}

extension String {
    fileprivate var withLeadingSlash: String { hasPrefix("/") ? self : "/" + self }
}

/// What a task that succeeded leaves: its outputs, and a message if it has one to say. Or, for a
/// task that must wait for something outside, the condition to park its execution on.
public struct TaskResult: Sendable {
    public let outputs: JSONObject
    public let message: String?
    /// What the execution is parked until, for a task that waits for something outside.
    let parking: WakeCondition?

    public init(outputs: JSONObject, message: String? = nil) {
        self.outputs = outputs
        self.message = message
        parking = nil
    }

    /// Parks the execution until `condition` holds; the runner is then started again.
    public static func park(until condition: WakeCondition) -> TaskResult {
        TaskResult(parking: condition)
    }

    private init(parking: WakeCondition) {
        outputs = [:]
        message = nil
        self.parking = parking
    }
}

/// What a task may need besides its inputs: its own execution, and the log.
public struct TaskContext: Sendable {
    public let execution: Execution
    public let log: RunnerLog
}

/// The runner's log: its standard error, which the supervisor points at the execution's `log` file.
/// Each line is one write(2), stamped with the time.
public struct RunnerLog: Sendable {
    public init() {}

    /// Writes one line; false when it could not be written whole (the disk under the log is full).
    @discardableResult
    public func line(_ text: String) -> Bool {
        OperatorLine.write(text, stamped: true)
    }
}

/// Reuse: a runner that serves executions one at a time over a socket, so that one process start
/// (and its libraries' loading) serves many executions, as Postfix's master reuses its delivery
/// agents. The supervisor starts it in the spool directory with standard input a Unix socket. Each
/// hand-over is one message: the execution id, with the execution's held lock and its log attached.
/// The runner then stands exactly where a runner started for that execution stands (lock on
/// descriptor 3, log on 1 and 2, in the execution directory, FLOWSPOOL_EXECUTION set), runs it, and
/// leaves it: the lock released, 1 and 2 back where they were, the working directory and the
/// environment as before the hand-over. Then it answers `done ID` and waits for the next one. When the
/// supervisor closes the socket instead, the runner exits quietly; how many executions a runner serves
/// and how long it may wait idle is the supervisor's decision (flowspoold(8) --runner-max-use and
/// --runner-max-idle).
public enum Reuse {
    static func serve(_ run: () -> TaskRunner.Outcome) -> Never {
        let home = FileSystem.currentDirectory()
        let environment = Environment.current()
        // The socket and the supervisor's standard error move to close-on-exec numbers, so that
        // nothing the tasks start inherits them; standard input becomes /dev/null.
        let socket: FileDescriptor
        let standardError: FileDescriptor
        do {
            socket = try FileDescriptor.standardInput.duplicatePrivately()
            standardError = try FileDescriptor.standardError.duplicatePrivately()
            let null = try FileDescriptor.open("/dev/null", .readOnly)
            try null.duplicate(onto: 0)
            try null.close()
        } catch {
            RunnerLog().line("cannot set up to serve executions: \(error)")
            CurrentProcess.exit(2)
        }
        while let id = awaitExecution(on: socket) {
            let outcome = run()
            if case .abandoned(let status) = outcome { CurrentProcess.exit(status) }
            leaveExecution(home: home, environment: environment, standardError: standardError)
            do {
                try socket.send(Array("done \(id)".utf8), passing: [])
            } catch {
                // The supervisor that handed it over is gone; the next one learns of the end from
                // the control FIFO and the released lock.
                if case .ended(let execution) = outcome { _ = try? execution.spool.sendControl("ended \(execution.id)") }
                CurrentProcess.exit(0)
            }
        }
        CurrentProcess.exit(0)
    }

    /// Waits for the next hand-over and takes the execution over; nil when the socket closed.
    static func awaitExecution(on socket: FileDescriptor) -> String? {
        let received: (message: [UInt8], descriptors: [FileDescriptor])
        do {
            received = try socket.receiveWithDescriptors(upTo: 256)
        } catch {
            return nil
        }
        let id = String(decoding: received.message, as: UTF8.self)
        guard !id.isEmpty, ExecutionID.isValid(id), received.descriptors.count == 2,
              let spoolRoot = Environment.value(RunnerContract.spoolVariable) else { return nil }
        let (lock, log) = (received.descriptors[0], received.descriptors[1])
        do {
            try lock.duplicate(onto: RunnerContract.lockDescriptor)
            try log.duplicate(onto: 1)
            try log.duplicate(onto: 2)
            try FileSystem.changeDirectory(to: Spool.handedDown(path: spoolRoot).execution(id).directory)
        } catch {
            RunnerLog().line("cannot take over execution \(id): \(error)")
            CurrentProcess.exit(2)
        }
        // The received descriptors may already sit at the numbers they were moved to.
        if lock.rawValue != RunnerContract.lockDescriptor { try? lock.close() }
        if log.rawValue > 2 { try? log.close() }
        Environment.set(RunnerContract.executionVariable, id)
        Environment.set(RunnerContract.reuseVariable, "0")
        return id
    }

    /// Carries nothing of the execution into the next: its lock released, its log no longer on 1
    /// and 2, the working directory and the environment as they were before it.
    static func leaveExecution(home: String, environment: [String], standardError: FileDescriptor) {
        do {
            try FileDescriptor(rawValue: RunnerContract.lockDescriptor).close()
            try standardError.duplicate(onto: 2)
            let null = try FileDescriptor.open("/dev/null", .writeOnly)
            try null.duplicate(onto: 1)
            try null.close()
            try FileSystem.changeDirectory(to: home)
        } catch {
            RunnerLog().line("cannot leave the execution behind: \(error)")
            CurrentProcess.exit(2)
        }
        Environment.restore(environment)
    }
}
