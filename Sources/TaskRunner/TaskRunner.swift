#if canImport(Glibc)
import Glibc
#endif
import JSON
import POSIX
import Spool

/// The part every runner shares: find the execution, read its inputs, run the task, and end the
/// execution with outputs, message and status (flowspool-spool(5), "The runner contract").
public enum TaskRunner {
    /// Runs `task` on the execution in the current directory and exits. The supervisor starts runners
    /// there with FLOWSPOOL_SPOOL and FLOWSPOOL_EXECUTION set and the execution's lock on descriptor 3.
    public static func main(
        taskType: String, _ task: (inout TaskInputs, RunnerLog) throws(TaskFailure) -> JSONObject
    ) -> Never {
        let execution: Execution
        let job: Job
        do {
            execution = try locateExecution()
            job = try execution.job()
        } catch {
            RunnerLog().line("flowspool-task-\(taskType): \(error)")
            exit(2)
        }
        let log = RunnerLog()
        var inputs = TaskInputs(taskType: taskType, values: job.inputs)
        let status: ExecutionStatus
        let message: String?
        let outputs: JSONObject?
        do {
            outputs = try task(&inputs, log)
            status = .success
            message = nil
        } catch {
            log.line("error: \(error.message)")
            (status, message, outputs) = (.error, error.message, error.outputs)
        }
        do {
            try execution.end(status, message: message, outputs: outputs ?? [:])
        } catch {
            log.line("flowspool-task-\(taskType): cannot end execution \(execution.id): \(error)")
            exit(1)
        }
        exit(0)
    }

    static func locateExecution() throws(ExecutionError) -> Execution {
        let cwd = FileSystem.currentDirectory()
        let id = Environment.value("FLOWSPOOL_EXECUTION") ?? String(cwd.split(separator: "/").last ?? "")
        let spoolRoot = Environment.value("FLOWSPOOL_SPOOL")
            ?? String(cwd.split(separator: "/").dropLast(2).joined(separator: "/")).withLeadingSlash
        guard ExecutionID.isValid(id) else {
            throw ExecutionError("'\(id)' is not an execution id; run a runner in its execution directory")
        }
        return Spool(root: spoolRoot).execution(id)
    }
}

extension String {
    fileprivate var withLeadingSlash: String { hasPrefix("/") ? self : "/" + self }
}

/// The runner's log: its standard error, which the supervisor points at the execution's `log` file.
/// Each line is one write(2), stamped with the time.
public struct RunnerLog: Sendable {
    public init() {}

    public func line(_ text: String) {
        try? FileDescriptor.standardError.write(Clock.iso8601(Clock.now()) + " " + text + "\n")
    }
}
