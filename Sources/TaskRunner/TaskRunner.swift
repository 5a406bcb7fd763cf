import JSON
import POSIX
import Spool

/// The part every runner shares: find the execution, read its inputs, run the task, and end the
/// execution with outputs, message and status (flowspool-spool(5), "The runner contract").
public enum TaskRunner {
    /// Runs `task` on the execution in the current directory and exits. The supervisor starts runners
    /// there with FLOWSPOOL_SPOOL and FLOWSPOOL_EXECUTION set and the execution's lock on descriptor 3.
    ///
    /// A runner started on standby (FLOWSPOOL_STANDBY=1) first runs `prepare`, then waits for its
    /// execution on standard input; see `Standby`.
    public static func main(
        taskType: String, prepare: () -> Void = {},
        _ task: (inout TaskInputs, TaskContext) throws(TaskFailure) -> TaskResult
    ) -> Never {
        // A peer that went away is an error to report, not a reason to die (programs a runner starts
        // get the default back).
        Signal.brokenPipe.ignore()
        CurrentProcess.openStandardDescriptors()
        if Environment.value(RunnerContract.standbyVariable) == "1" {
            prepare()
            Standby.awaitExecution(taskType: taskType)
        }
        do {
            try RunnerContract.declareBegun()
        } catch {
            // Nothing was done: after a restart the execution is run, not ended (flowspool-spool(5)).
            RunnerLog().line("cannot declare the run begun (the lock on descriptor 3): \(error)")
            CurrentProcess.exit(2)
        }
        let execution: Execution
        let job: Job
        do {
            execution = try locateExecution()
            job = try execution.job()
        } catch {
            RunnerLog().line("\(error)")
            CurrentProcess.exit(2)
        }
        let log = RunnerLog()
        var inputs = TaskInputs(taskType: taskType, values: job.inputs)
        let status: ExecutionStatus
        let message: String?
        let outputs: JSONObject?
        do {
            let result = try task(&inputs, TaskContext(execution: execution, log: log))
            if let condition = result.parking { park(execution, until: condition, taskType: taskType) }
            (status, message, outputs) = (.success, result.message, result.outputs)
        } catch {
            log.line("error: \(error.message)")
            (status, message, outputs) = (.error, error.message, error.outputs)
        }
        do {
            try execution.end(status, message: message, outputs: outputs ?? [:])
        } catch {
            log.line("cannot end execution \(execution.id): \(error)")
            CurrentProcess.exit(1)
        }
        // So that flowspoold wakes those waiting for it now, not once this process is gone.
        _ = try? execution.spool.sendControl("ended \(execution.id)")
        CurrentProcess.exit(0)
    }

    static func park(_ execution: Execution, until condition: WakeCondition, taskType: String) -> Never {
        do {
            try execution.park(until: condition)
            CurrentProcess.exit(0)
        } catch {
            RunnerLog().line("cannot park execution \(execution.id): \(error)")
            CurrentProcess.exit(1)
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
        return Spool(root: spoolRoot).execution(id)
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

    public func line(_ text: String) {
        OperatorLine.write(text, stamped: true)
    }
}

/// Standby: the supervisor starts a runner before its execution exists, so that loading the runner's
/// libraries overlaps with other work. The runner waits on standard input, a Unix socket, for one
/// message: the execution id, with the execution's held lock and its log attached. It then stands
/// exactly where a runner started for that execution stands: lock on descriptor 3, log on 1 and 2,
/// in the execution directory, FLOWSPOOL_EXECUTION set. When the supervisor closes the socket instead,
/// the runner exits quietly. A standby runner still runs one execution and then exits.
public enum Standby {
    static func awaitExecution(taskType: String) {
        let received: (message: [UInt8], descriptors: [FileDescriptor])
        do {
            received = try FileDescriptor.standardInput.receiveWithDescriptors(upTo: 256)
        } catch {
            CurrentProcess.exit(0)
        }
        let id = String(decoding: received.message, as: UTF8.self)
        guard !id.isEmpty, ExecutionID.isValid(id), received.descriptors.count == 2,
              let spoolRoot = Environment.value(RunnerContract.spoolVariable) else { CurrentProcess.exit(0) }
        let (lock, log) = (received.descriptors[0], received.descriptors[1])
        do {
            try lock.duplicate(onto: RunnerContract.lockDescriptor)
            try log.duplicate(onto: 1)
            try log.duplicate(onto: 2)
            try FileSystem.changeDirectory(to: Spool(root: spoolRoot).execution(id).directory)
        } catch {
            RunnerLog().line("cannot take over execution \(id): \(error)")
            CurrentProcess.exit(2)
        }
        // The received descriptors may already sit at the numbers they were moved to.
        if lock.rawValue != RunnerContract.lockDescriptor { try? lock.close() }
        if log.rawValue > 2 { try? log.close() }
        if let null = try? FileDescriptor.open("/dev/null", .readOnly) {
            try? null.duplicate(onto: 0)
            try? null.close()
        }
        Environment.set(RunnerContract.executionVariable, id)
        Environment.set(RunnerContract.standbyVariable, "0")
    }
}

