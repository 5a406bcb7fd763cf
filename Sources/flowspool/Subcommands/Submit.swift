import ArgumentParser
import Commands
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

    @Option(help: ArgumentHelp("The job's own timeout: its task is ended after this many seconds (default: flowspoold's --task-timeout).", valueName: "seconds"))
    var jobTimeout: Double?

    @Flag(help: "Inside a flow: let this job go on when the flow ends (its other children are cancelled).")
    var detach = false

    @Flag(help: "With --cluster: should the host running it be lost, run it again on another (default: it ends fault).")
    var retryOnHostLoss = false

    func validate() throws {
        try checkSeconds(jobTimeout, "--job-timeout")
    }

    /// The job and how to submit it.
    func submission(jobTimeout: Double? = nil) throws -> Submission {
        var values = try inputsFile.map(readInputsFile) ?? JSONObject()
        for argument in inputs {
            let input = try InputArgument(argument)
            values[input.key] = input.value
        }
        guard TaskType.isValid(task) else {
            throw CommandFailure.usage("'\(task)' is not a task type name (letters, digits, '_' and '-')")
        }
        if task == "FLOW", case .string(let script)? = values["script"] { values["script"] = .string(absoluteIfFile(script)) }
        let job = Job(
            task: task, inputs: values, parent: Environment.value(RunnerContract.executionVariable), name: name,
            timeout: jobTimeout ?? self.jobTimeout, detached: detach)
        return Submission(job: job, id: id, retryOnHostLoss: retryOnHostLoss)
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
            throw CommandFailure.usage("inputs must be a JSON dictionary, not \(document.kindDescription)")
        }
        return object
    }
}

/// A number of seconds from the command line, checked to be a length of time.
func checkSeconds(_ seconds: Double?, _ option: String) throws {
    if let seconds, !Seconds.isPositive(seconds) { throw ValidationError("\(option) must be \(Seconds.positiveRange), not \(seconds)") }
}

struct Submit: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "submit", abstract: "Submit a job and print its execution id.")

    @OptionGroup(title: "Spool or cluster") var place: BackendOptions
    @OptionGroup var job: JobArguments

    /// The spelling --job-timeout had before it was one; submit has no wait for it to be confused with.
    @Option(name: .customLong("timeout"), help: .hidden) var timeout: Double?

    func validate() throws {
        try checkSeconds(timeout, "--timeout")
        if timeout != nil, job.jobTimeout != nil {
            throw ValidationError("--timeout and --job-timeout are the same option for submit: give one")
        }
    }

    func run() throws {
        try reportingFailures {
            let submission = try job.submission(jobTimeout: timeout)
            printLine(try place.backend(refusing: submission.options).submit(submission))
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

    @OptionGroup(title: "Spool or cluster") var place: BackendOptions
    @OptionGroup var job: JobArguments

    @Flag(help: "Print nothing on success or when --unique skips; only the status and message on stderr when it fails.")
    var quiet = false

    @Option(help: "Skip this run (exit 75) while another execution submitted with the same KEY is still going.")
    var unique: String?

    @Flag(help: "On Ctrl-C, cancel the execution instead of leaving it to go on.")
    var cancelOnInterrupt = false

    @Option(help: ArgumentHelp("Give up waiting after this many seconds: cancel the execution and exit 124 (the job's own timeout is --job-timeout).", valueName: "seconds"))
    var timeout: Double?

    func validate() throws {
        try checkSeconds(timeout, "--timeout")
    }

    func run() throws {
        try reportingFailures {
            let submission = try job.submission()
            let options = RunOptions(quiet: quiet, unique: unique, cancelOnInterrupt: cancelOnInterrupt, timeout: timeout)
            try place.backend(refusing: submission.options + options.options).run(submission, options)
        }
    }
}
