import ArgumentParser
import Cluster
import JSON
import POSIX
import Spool

/// What `submit` and `run` share: the job from the command line.
struct JobArguments: ParsableArguments {
    @Argument(help: "The task type: REST, or any TYPE with a flowspool-task-TYPE runner.")
    var task: String

    @Argument(help: "Inputs: key=value is a string, key:=json raw JSON (expected_status_code:=[200]), key@file a file's text, key:=@file a file's JSON.")
    var inputs: [String] = []

    @Option(name: .customLong("inputs"), help: ArgumentHelp("Read the inputs from a JSON file, or from standard input with '-'; key=value arguments override them.", valueName: "file"))
    var inputsFile: String?

    @Option(help: "The execution id to use instead of a generated one.")
    var id: String?

    @Option(help: "A name for the execution, shown by list and show.")
    var name: String?

    @Option(help: "The overall task timeout in seconds (default: flowspoold's --task-timeout).")
    var timeout: Double?

    @Flag(help: "Inside a flow: let this job go on when the flow ends (its other children are cancelled).")
    var detach = false

    @Flag(help: "With --cluster: should the host running it be lost, run it again on another (default: it ends fault).")
    var retryOnHostLoss = false

    func job() throws -> Job {
        var values = try inputsFile.map(readInputsFile) ?? JSONObject()
        for argument in inputs {
            let input = try InputArgument(argument)
            values[input.key] = input.value
        }
        if let timeout, !Seconds.isPositive(timeout) { throw CommandFailure("--timeout must be \(Seconds.positiveRange), not \(timeout)", exitCode: ProgramExit.usage) }
        guard TaskType.isValid(task) else {
            throw CommandFailure("'\(task)' is not a task type name (letters, digits, '_' and '-')", exitCode: ProgramExit.usage)
        }
        if task == "FLOW", case .string(let script)? = values["script"] { values["script"] = .string(absoluteIfFile(script)) }
        return Job(
            task: task, inputs: values, parent: Environment.value(RunnerContract.executionVariable), name: name, timeout: timeout,
            detached: detach)
    }

    /// A FLOW script named by a relative path is found from here, not from the execution directory
    /// the runner starts in.
    func absoluteIfFile(_ script: String) -> String {
        guard !script.hasPrefix("/"), !script.contains("\n"), FileSystem.exists(script) else { return script }
        return FileSystem.currentDirectory() + "/" + script
    }

    func readInputsFile(_ path: String) throws -> JSONObject {
        let document = try readJSON(path)
        guard let object = document.objectValue else {
            throw CommandFailure("inputs must be a JSON dictionary, not \(document.kindDescription)", exitCode: ProgramExit.usage)
        }
        return object
    }

    /// Submits the job; `warn`s at once when no supervisor runs (`run` waits a grace period first).
    func submit(to spool: Spool, unique: String? = nil, warn: Bool = true) throws -> String {
        do {
            var job = try job()
            job.unique = unique
            let id = try spool.submit(job, id: id)
            if warn, !spool.hasSupervisor {
                printError("warning: no flowspoold supervises \(spool.root); the job waits in incoming/ until one starts")
            }
            return id
        } catch let error as SpoolError {
            throw CommandFailure(error)
        }
    }
}

struct Submit: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "submit", abstract: "Submit a job and print its execution id.")

    @OptionGroup var spoolOption: SpoolOption
    @OptionGroup var job: JobArguments

    func run() throws {
        try reportingFailures {
            if let cluster = try ClusterClient.store() {
                printLine(try ClusterClient.submit(try job.job(), id: job.id, retryOnHostLoss: job.retryOnHostLoss, to: cluster))
                return
            }
            printLine(try job.submit(to: try spoolOption.open()))
        }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Submit a job, wait for it to end, and print its outputs as JSON.",
        discussion: """
            Prints the execution id on standard error when the job is submitted, and says once when an \
            INPUT request of it waits for an answer. Ctrl-C detaches: the execution goes on. Exits 0 \
            when it ends success, 1 otherwise (the status and message on standard error), 75 when \
            --unique skipped it, 124 when --timeout passed, 130 when interrupted.
            """)

    @OptionGroup var spoolOption: SpoolOption
    @OptionGroup var job: JobArguments

    @Flag(help: "Print nothing on success or when --unique skips; only the status and message on stderr when it fails.")
    var quiet = false

    @Option(help: "Skip this run (exit 75) while another execution submitted with the same KEY is still going.")
    var unique: String?

    @Flag(help: "On Ctrl-C, cancel the execution instead of leaving it to go on.")
    var cancelOnInterrupt = false

    func run() throws {
        try reportingFailures {
            if let cluster = try ClusterClient.store() { return try run(in: cluster) }
            let spool = try spoolOption.open()
            // Blocked before the job exists, so that Ctrl-C never leaves it unaccounted for.
            let interrupt = try? SignalDescriptor([.interrupt])
            let id: String
            if let unique {
                guard let submitted = try submitUnlessGoing(unique, to: spool) else {
                    throw ExitCode(ProgramExit.skipped)
                }
                id = submitted
            } else {
                id = try job.submit(to: spool, warn: false)
            }
            if !quiet { printError("execution \(id)") }
            let waiting = RunWaiting(spool: spool, id: id)
            switch try waiting.wait(timeout: job.timeout, interrupt: interrupt, announce: !quiet) {
            case .ended(let state):
                try report(state, of: spool.execution(id), quiet: quiet)
            case .interrupted:
                try waiting.detach(cancel: cancelOnInterrupt)
            case .timedOut:
                try waiting.giveUp(after: job.timeout ?? 0)
            }
        }
    }
}

extension Run {
    /// `run` against a cluster: submitted to its queue, waited for through its record.
    func run(in cluster: ClusterStore) throws {
        let id = try ClusterClient.submit(try job.job(), id: job.id, retryOnHostLoss: job.retryOnHostLoss, to: cluster)
        if !quiet { printError("execution \(id)") }
        guard let record = try ClusterClient.awaitEnd(of: id, in: cluster, timeout: job.timeout) else {
            throw CommandFailure("\(id) has not ended after \(Clock.describeDuration(job.timeout ?? 0))", exitCode: ProgramExit.timedOut)
        }
        try reportEnd(of: id, record.status ?? "?", outputs: record.outputs ?? [:], message: record.message ?? "", quiet: quiet)
    }

    /// Submits the job unless an execution with the same unique key has not ended yet; returns nil
    /// (and says so on stderr unless --quiet) when it skips. A lock on incoming/ keeps two such
    /// runs from both deciding that they are alone.
    func submitUnlessGoing(_ key: String, to spool: Spool) throws -> String? {
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
        return try job.submit(to: spool, unique: key, warn: false)
    }
}

/// Prints how a job ended: outputs (and any end message, on stderr) on success, else the status
/// and message on stderr and exit 1.
func report(_ state: JobState, of execution: Execution, quiet: Bool) throws {
    switch state {
    case .pending:
        throw CommandFailure("\(execution.id) has not ended")
    case .rejected(let why):
        throw CommandFailure("job \(execution.id) was not admitted: \(why)")
    case .vanished:
        throw CommandFailure(JobState.vanishedMessage(execution.id))
    case .ended(let status):
        let outputs = execution.outputs() ?? [:]
        let inputs = (try? execution.job().inputs) ?? [:]
        try reportEnd(
            of: execution.id, status.rawValue, outputs: Protection.maskedOutputs(outputs, inputs: inputs),
            message: (execution.message() ?? "").trimming("\n"), quiet: quiet)
    }
}

/// How `run` reports an end, of a local execution or of a cluster's: on success the outputs, and
/// the message on stderr; otherwise any outputs, then the status and message on stderr and exit 1.
func reportEnd(of id: String, _ status: String, outputs: JSONObject, message: String, quiet: Bool) throws {
    if status == ExecutionStatus.success.rawValue {
        guard !quiet else { return }
        printLine(JSON.object(outputs).prettyText)
        if !message.isEmpty { printError(message) }
        return
    }
    if !outputs.isEmpty && !quiet { printLine(JSON.object(outputs).prettyText) }
    throw CommandFailure("\(id) ended \(status)" + (message.isEmpty ? "" : ": " + message))
}

