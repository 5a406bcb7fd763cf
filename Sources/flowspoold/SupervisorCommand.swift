import ArgumentParser
import POSIX
import Spool
import Supervisor

/// flowspoold's command line, over the Supervisor library, which has none of its own.
struct SupervisorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flowspoold",
        abstract: "Supervise a flowspool spool: admit jobs, run task runners, end what they leave unfinished.",
        discussion: "See flowspoold(8) and flowspool-spool(5).",
        version: FlowspoolVersion.line(for: "flowspoold"))

    @Option(name: .long, help: "The spool directory (default: $FLOWSPOOL_SPOOL, else ./spool).")
    var spool: String?

    @Option(name: .long, help: "How many runners may run at once (default: the number of cores times 4).")
    var maxRunning: Int?

    @Option(name: .long, help: "Seconds a task may run unless its job sets 'timeout' (default: 3600).")
    var taskTimeout: Double = SupervisorOptions.defaultTaskTimeout

    @Option(name: .long, help: "Colon-separated directories holding flowspool-task-TYPE runners (default: $FLOWSPOOL_RUNNER_PATH, else flowspoold's own directory).")
    var runnerPath: String?

    @Option(name: .long, help: "Seconds between rescans of incoming/ that back up inotify (default: 30).")
    var rescanInterval: Double = 30

    @Option(help: "The group whose members may list and answer INPUT requests, and do nothing else (default: none; see respond(1)).")
    var responders: String?

    @Option(help: "Comma-separated task types whose runner processes serve one execution after another; only runners built on flowspool's TaskRunner take part (default: all built-in types; '' for none).")
    var reuse: String?

    @Option(help: "How many executions one runner process serves before it exits (default: 100).")
    var runnerMaxUse: Int = 100

    @Option(help: "Seconds a runner process waits idle for its next execution before it exits (default: 100).")
    var runnerMaxIdle: Double = 100

    @Option(help: ArgumentHelp("Once a day, remove the executions that ended longer ago than AGE (7d, 12h...), as flowspool gc does (default: never).", valueName: "age"))
    var gcOlderThan: String?

    @Option(help: ArgumentHelp("With --gc-older-than: archive them first, one tar.gz a day in DIR.", valueName: "dir"))
    var gcArchive: String?

    func validate() throws {
        if let gcOlderThan, Cleanup.seconds(inAge: gcOlderThan) == nil {
            throw ValidationError("--gc-older-than takes an age such as 7d, 12h, 30m or a number of seconds, not '\(gcOlderThan)'")
        }
        if gcArchive != nil && gcOlderThan == nil { throw ValidationError("--gc-archive goes with --gc-older-than") }
        if let maxRunning, maxRunning < 1 { throw ValidationError("--max-running must be at least 1") }
        if taskTimeout <= 0 { throw ValidationError("--task-timeout must be a positive number of seconds") }
        if rescanInterval <= 0 { throw ValidationError("--rescan-interval must be a positive number of seconds") }
        if runnerMaxUse < 1 { throw ValidationError("--runner-max-use must be at least 1") }
        if runnerMaxIdle <= 0 { throw ValidationError("--runner-max-idle must be a positive number of seconds") }
    }

    func run() throws {
        CurrentProcess.openStandardDescriptors()
        CurrentProcess.keepInheritedDescriptorsFromChildren()
        ServiceManager.prepare()
        var options = SupervisorOptions(
            spool: Spool.locate(spool),
            maxRunning: maxRunning ?? SupervisorOptions.defaultMaxRunning,
            taskTimeout: taskTimeout,
            runnerPath: runnerPath.map(RunnerPath.parse) ?? RunnerPath.default())
        options.rescanInterval = rescanInterval
        options.runnerMaxUse = runnerMaxUse
        options.runnerMaxIdle = runnerMaxIdle
        if let gcOlderThan {
            // Made absolute here: the cleanup runs in the spool.
            options.cleanup = (gcOlderThan, gcArchive.map { $0.hasPrefix("/") ? $0 : FileSystem.currentDirectory() + "/" + $0 })
        }
        if let reuse {
            options.reusableTypes = Set(reuse.split(separator: ",").map(String.init))
        }
        if let responders {
            guard let group = Group.id(named: responders) else {
                throw ValidationError("--responders: there is no group '\(responders)' (create it with groupadd, or name another)")
            }
            options.roles.responders = group
        }
        do {
            try Supervisor(options: options).run()
        } catch {
            OperatorLine.write("\(error)")
            throw ExitCode(ProgramExit.failure)
        }
    }
}
