import ArgumentParser
import Cluster
import POSIX
import Spool

/// `flowspool`: the user's command line over a spool (flowspool(1)).
public struct FlowspoolCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "flowspool",
        abstract: "Submit, run, inspect and cancel flowspool executions.",
        // --spool is taken by runCommandLine before the command is parsed, so it is shown here: an
        // option of this command would take it from the subcommands when it comes after them.
        usage: "flowspool [--spool <dir> | --cluster <url>] <subcommand> [<arguments>]",
        discussion: """
            Every command works on the spool given by --spool <dir> (before or after the command), \
            else $FLOWSPOOL_SPOOL, else ./spool. With --cluster redis://... (or $FLOWSPOOL_CLUSTER) \
            before it, submit, run, status, wait, show and list work on a cluster's queue, and nodes \
            lists its hosts. See flowspool(1) and flowspool-cluster(7).
            """,
        version: FlowspoolVersion.line(for: "flowspool"),
        subcommands: [
            Submit.self, Run.self, Status.self, Show.self, Wait.self, List.self, Log.self, Cancel.self,
            Inputs.self, Top.self, SettingsCommand.self, GC.self, Doctor.self, Nodes.self,
        ])

    public init() {}

    /// Runs the command line, taking `--spool DIR` before the command too (`flowspool --spool DIR
    /// list`), as people write it; there it stands for all that follows, like $FLOWSPOOL_SPOOL.
    public static func runCommandLine() {
        CurrentProcess.openStandardDescriptors()
        var arguments = Array(CommandLine.arguments.dropFirst())
        // --spool DIR and --cluster URL before the command stand for all that follows.
        var took = true
        while took {
            took = false
            for (option, variable) in [("--spool", RunnerContract.spoolVariable), ("--cluster", ClusterURL.variable)] {
                if arguments.first == option, arguments.count >= 2 {
                    Environment.set(variable, arguments[1])
                    arguments.removeFirst(2)
                    took = true
                } else if let first = arguments.first, first.hasPrefix(option + "=") {
                    Environment.set(variable, String(first.dropFirst(option.count + 1)))
                    arguments.removeFirst()
                    took = true
                }
            }
        }
        main(arguments)
    }
}

/// The option every command takes.
struct SpoolOption: ParsableArguments {
    @Option(name: .long, help: "The spool directory (default: $FLOWSPOOL_SPOOL, else ./spool).")
    var spool: String?

    /// The spool, checked to be one that this user may enter.
    func open() throws -> Spool {
        let spool = Spool.locate(self.spool)
        if FileSystem.exists(spool.root), !FileSystem.mayEnter(spool.root) {
            throw CommandFailure.permissionDenied(spool.root, "only the user flowspoold runs as, root and the spool's responders' group may enter it")
        }
        guard spool.exists else {
            throw CommandFailure("\(spool.root) is not a flowspool spool (it has no incoming/ and executions/); start flowspoold on it, or name another with --spool")
        }
        return spool
    }
}

/// A failure a command reports on standard error before exiting with `exitCode`.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    let exitCode: Int32

    init(_ description: String, exitCode: Int32 = ProgramExit.failure) {
        self.description = description
        self.exitCode = exitCode
    }

    /// "CONTEXT: ERROR", exiting `exitCode`; a permission denial behind `cause` (PermissionDenial)
    /// is said as one and exits 77 instead, as every command's are.
    init(_ context: String, cause: any Error, exitCode: Int32 = ProgramExit.failure) {
        self.init(describing: cause, as: "\(context): \(cause)", exitCode: exitCode)
    }

    /// Any error a command did not catch itself: a SpoolError or SystemError as its description.
    init(_ error: any Error) {
        if let failure = error as? CommandFailure {
            self = failure
        } else {
            self.init(describing: error, as: "\(error)", exitCode: ProgramExit.failure)
        }
    }

    private init(describing cause: any Error, as description: String, exitCode: Int32) {
        if let denial = PermissionDenial(cause) {
            self.init(denial.description + "; " + description, exitCode: ProgramExit.permissionDenied)
        } else {
            self.init(description, exitCode: exitCode)
        }
    }

    /// "permission denied: PATH (owned by flowspool, group responders, mode 710); WHY": a refusal
    /// said as one, never shown as an empty result.
    static func permissionDenied(_ path: String, _ why: String) -> CommandFailure {
        CommandFailure("permission denied: \(path)\(FileSystem.ownershipNote(path)); \(why)", exitCode: ProgramExit.permissionDenied)
    }
}

extension ParsableCommand {
    /// Runs `body`, turning a CommandFailure, or a SpoolError or SystemError it let through, into
    /// its message on stderr and its exit code: 77 for a permission denial, in every command.
    func reportingFailures(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error where error is CommandFailure || error is SystemErrorCarrying {
            let failure = CommandFailure(error)
            OperatorLine.write(failure.description)
            throw ExitCode(failure.exitCode)
        }
    }

    /// An execution id from the command line, checked before it becomes part of a path.
    func checkedID(_ id: String, in spool: Spool) throws -> Execution {
        guard ExecutionID.isValid(id) else { throw CommandFailure("'\(id)' is not an execution id") }
        try requireOwnersAccess(to: spool)
        let execution = spool.execution(id)
        guard execution.exists else {
            if case .rejected(let why) = spool.jobState(id) {
                throw CommandFailure("job \(id) was not admitted (failed/\(id).json): \(why)")
            }
            if FileSystem.exists(spool.incoming + "/" + id + ".json") {
                throw CommandFailure("job \(id) waits in incoming/ to be admitted" + (spool.hasSupervisor ? "" : "; no flowspoold supervises \(spool.root)"))
            }
            throw CommandFailure("no execution \(id) in \(spool.root)")
        }
        return execution
    }
}

/// Executions are the owner's alone (flowspool-spool(5), SECURITY): anyone else is told so, rather
/// than shown nothing.
func requireOwnersAccess(to spool: Spool) throws {
    guard FileSystem.mayEnter(spool.executions) else {
        throw CommandFailure.permissionDenied(spool.executions, "only root and the user flowspoold runs as may read executions; the responders' group may list and answer requests (flowspool inputs, respond)")
    }
}

/// Waits for a job to end, reporting a failure to wait as a CommandFailure.
func awaitEnd(of id: String, in spool: Spool, timeout: Double?) throws -> JobState {
    do {
        return try makeWatcher(for: id, in: spool).wait(for: [id], until: .all, timeout: timeout)[id] ?? .pending
    } catch {
        throw CommandFailure("cannot wait for \(id)", cause: error)
    }
}

/// A watcher to wait for `id` with. Inside a shell flow (FLOWSPOOL_EXECUTION set), the flow holds
/// no runner slot meanwhile, so that what it waits for can run: its registration as a waiter says
/// so to flowspoold. Its status is not touched, as only its runner, which holds its lock, writes that.
func makeWatcher(for id: String, in spool: Spool) throws -> JobWatcher {
    let flowID = Environment.value(RunnerContract.executionVariable).flatMap { $0 != id ? $0 : nil }
    do {
        return try JobWatcher(spool: spool, waiter: flowID)
    } catch {
        throw CommandFailure("cannot wait for \(id)", cause: error)
    }
}

func printLine(_ text: String) {
    try? FileDescriptor.standardOutput.write(text + "\n")
}

func printError(_ text: String) {
    OperatorLine.write(text)
}
