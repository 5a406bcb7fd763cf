import ArgumentParser
import JSON
import POSIX
import Spool

/// What `submit` and `run` share: the job from the command line.
struct JobArguments: ParsableArguments {
    @Argument(help: "The task type: REST, or any TYPE with a flowspool-task-TYPE runner.")
    var task: String

    @Argument(help: "Inputs as key=value. A value that parses as JSON is taken as JSON (expected_status_code=[200]), else as a string.")
    var inputs: [String] = []

    @Option(name: .customLong("inputs"), help: ArgumentHelp("Read the inputs from a JSON file, or from standard input with '-'; key=value arguments override them.", valueName: "file"))
    var inputsFile: String?

    @Option(help: "The execution id to use instead of a generated one.")
    var id: String?

    @Option(help: "A name for the execution, shown by list and show.")
    var name: String?

    @Option(help: "The overall task timeout in seconds (default: flowspoold's --task-timeout).")
    var timeout: Double?

    func job() throws -> Job {
        var values = try inputsFile.map(readInputsFile) ?? JSONObject()
        for argument in inputs {
            guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else {
                throw CommandFailure("input '\(argument)' is not of the form key=value", exitCode: 2)
            }
            let key = String(argument[..<equals])
            let text = String(argument[argument.index(after: equals)...])
            values[key] = (try? JSON(parsing: text)) ?? .string(text)
        }
        if let timeout, timeout <= 0 { throw CommandFailure("--timeout must be a positive number of seconds", exitCode: 2) }
        guard TaskType.isValid(task) else {
            throw CommandFailure("'\(task)' is not a task type name (letters, digits, '_' and '-')", exitCode: 2)
        }
        return Job(task: task, inputs: values, parent: Environment.value(RunnerContract.executionVariable), name: name, timeout: timeout)
    }

    func readInputsFile(_ path: String) throws -> JSONObject {
        let bytes: [UInt8]
        do {
            bytes = path == "-" ? try FileDescriptor.standardInput.readAll(limit: Job.maximumSize) : try FileSystem.readFile(path)
        } catch {
            throw CommandFailure("cannot read inputs from \(path == "-" ? "standard input" : path): \(error)", exitCode: 2)
        }
        let document: JSON
        do {
            document = try JSON(parsing: bytes)
        } catch {
            throw CommandFailure("inputs in \(path == "-" ? "standard input" : path) are not JSON: \(error)", exitCode: 2)
        }
        guard let object = document.objectValue else {
            throw CommandFailure("inputs must be a JSON dictionary, not \(document.kindDescription)", exitCode: 2)
        }
        return object
    }

    func submit(to spool: Spool) throws -> String {
        do {
            let id = try spool.submit(try job(), id: id)
            if !spool.hasSupervisor {
                printError("warning: no flowspoold supervises \(spool.root); the job waits in incoming/ until one starts")
            }
            return id
        } catch let error as SubmissionError {
            throw CommandFailure(error.description)
        }
    }
}

struct Submit: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Submit a job and print its execution id.")

    @OptionGroup var spoolOption: SpoolOption
    @OptionGroup var job: JobArguments

    func run() throws {
        try reportingFailures {
            printLine(try job.submit(to: try spoolOption.open()))
        }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Submit a job, wait for it to end, and print its outputs as JSON.",
        discussion: "Exits 0 when the execution ends success; otherwise 1, with the status and message on standard error.")

    @OptionGroup var spoolOption: SpoolOption
    @OptionGroup var job: JobArguments

    @Flag(help: "Print nothing on success.")
    var quiet = false

    func run() throws {
        try reportingFailures {
            let spool = try spoolOption.open()
            let id = try job.submit(to: spool)
            let state = try awaitEnd(of: id, in: spool, timeout: nil)
            try report(state, of: spool.execution(id), quiet: quiet)
        }
    }
}

/// Prints how a job ended: outputs on success, else the status and message on stderr and exit 1.
func report(_ state: JobState, of execution: Execution, quiet: Bool) throws {
    switch state {
    case .pending:
        throw CommandFailure("\(execution.id) has not ended")
    case .rejected(let why):
        throw CommandFailure("job \(execution.id) was not admitted: \(why)")
    case .ended(let status):
        let outputs = execution.outputs() ?? [:]
        let inputs = (try? execution.job().inputs) ?? [:]
        let shown = Protection.maskedOutputs(outputs, inputs: inputs)
        if status == .success {
            if !quiet { printLine(JSON.object(shown).prettyText) }
            return
        }
        if !shown.isEmpty && !quiet { printLine(JSON.object(shown).prettyText) }
        let message = execution.message() ?? ""
        throw CommandFailure("\(execution.id) ended \(status.rawValue)" + (message.isEmpty ? "" : ": " + message.trimming("\n")))
    }
}

