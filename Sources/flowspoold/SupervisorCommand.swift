import ArgumentParser
import Basics
import Cluster
import DropGate
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

    @Option(name: .long, help: "Seconds past its task timeout that a runner which has done its task may keep trying to write its end when the disk refuses it (default: 60).")
    var endGrace: Double = RunnerContract.defaultEndGrace

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

    @Option(help: ArgumentHelp("Join the cluster whose queue is at redis://[USER:PASSWORD@]HOST:PORT[/DB] (default: $FLOWSPOOL_CLUSTER, where a password is not shown to ps; see flowspool-cluster(7)).", valueName: "url"))
    var cluster: String?

    @Option(help: "This host's name in the cluster (default: the host name).")
    var node: String?

    @Option(help: "Seconds a host's heartbeat may be silent before the cluster takes its work over (default: 10).")
    var nodeTimeout: Double = 10

    func validate() throws {
        if nodeTimeout < 1 || !Seconds.isPositive(nodeTimeout) { throw ValidationError("--node-timeout must be at least 1 second, up to a hundred years") }
        if let node, !ExecutionID.isValid(node) {
            throw ValidationError("--node must be 1 to 64 letters, digits, '_', '-' or '.', not '\(node)'")
        }
        if let gcOlderThan, SpoolGC.seconds(inAge: gcOlderThan) == nil {
            throw ValidationError("--gc-older-than takes an age such as 7d, 12h, 30m or a number of seconds, not '\(gcOlderThan)'")
        }
        if gcArchive != nil && gcOlderThan == nil { throw ValidationError("--gc-archive goes with --gc-older-than") }
        if let maxRunning, maxRunning < 1 { throw ValidationError("--max-running must be at least 1") }
        if !Seconds.isPositive(taskTimeout) { throw ValidationError("--task-timeout must be \(Seconds.positiveRange)") }
        if Seconds(endGrace) == nil { throw ValidationError("--end-grace must be \(Seconds.range(in: "seconds"))") }
        if !Seconds.isPositive(rescanInterval) { throw ValidationError("--rescan-interval must be \(Seconds.positiveRange)") }
        if runnerMaxUse < 1 { throw ValidationError("--runner-max-use must be at least 1") }
        if !Seconds.isPositive(runnerMaxIdle) { throw ValidationError("--runner-max-idle must be \(Seconds.positiveRange)") }
    }

    /// The gate's group, when the gate is installed on the runner path: responders answer only
    /// through it, so without it `--responders` would promise what no responder could do.
    func answeringGate(on runnerPath: [String]) throws -> GroupID {
        guard let group = Group.id(named: DropGate.group), DropGate.installed(in: runnerPath) != nil else {
            throw ValidationError("--responders: " + DropGate.notInstalled(in: runnerPath))
        }
        return group
    }

    func run() throws {
        CurrentProcess.openStandardDescriptors()
        CurrentProcess.keepInheritedDescriptorsFromChildren()
        ServiceManager.prepare()
        let heldSpool: Spool
        do {
            heldSpool = try Spool.locate(spool).heldOpen()
        } catch {
            OperatorLine.write("cannot supervise \(Spool.locate(spool).path): \(error)")
            throw ExitCode(ProgramExit.failure)
        }
        var options = SupervisorOptions(
            spool: heldSpool,
            maxRunning: maxRunning ?? SupervisorOptions.defaultMaxRunning,
            taskTimeout: taskTimeout,
            runnerPath: runnerPath.map(RunnerPath.parse) ?? RunnerPath.default())
        options.rescanInterval = rescanInterval
        options.endGrace = endGrace
        options.runnerMaxUse = runnerMaxUse
        options.runnerMaxIdle = runnerMaxIdle
        if let gcOlderThan {
            // Made absolute here: the daily gc runs in the spool.
            options.dailyGC = (gcOlderThan, gcArchive.map { $0.hasPrefix("/") ? $0 : FileSystem.currentDirectory() + "/" + $0 })
        }
        if let reuse {
            options.reusableTypes = Set(reuse.split(separator: ",").map(String.init))
        }
        if let responders {
            guard let group = Group.id(named: responders) else {
                throw ValidationError("--responders: there is no group '\(responders)' (create it with groupadd, or name another)")
            }
            options.roles.responders = group
            options.roles.gate = try answeringGate(on: options.runnerPath)
        }
        let supervisor = Supervisor(options: options)
        let fromEnvironment = Environment.nonEmptyValue(ClusterURL.variable)
        // Runners must not see it: a flow's `flowspool run` is for the local spool, and the URL
        // may hold a password.
        Environment.unset(ClusterURL.variable)
        if let text = cluster ?? fromEnvironment {
            let url: ClusterURL
            do {
                url = try ClusterURL(parsing: text)
            } catch {
                throw ValidationError("--cluster: \(error)")
            }
            let gauge = supervisor.slots
            let bridge = ClusterBridge(
                url: url, node: node ?? CurrentProcess.hostName, spool: options.spool, slots: options.maxRunning,
                freeSlots: { gauge.freeSlots }, lostAfter: nodeTimeout)
            // What the cluster gave another host while this one was lost must not run here again.
            do {
                for line in try bridge.fenceLocalWork() { OperatorLine.write("cluster: " + line, stamped: true) }
            } catch {
                OperatorLine.write("cluster: cannot check this host's work with the cluster before starting (\(error)); a job another host took over while this one was lost may run here too", stamped: true)
            }
            do {
                try bridge.start()
            } catch {
                throw ValidationError("--cluster: cannot start the cluster's thread: \(error)")
            }
        }
        do {
            try supervisor.run()
        } catch {
            OperatorLine.write(heldSpool.shown("\(error)"))
            throw ExitCode(ProgramExit.failure)
        }
    }
}
