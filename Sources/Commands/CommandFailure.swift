import Basics
import POSIX
import Spool

/// A failure a command reports on standard error before exiting with `exitCode`; with an empty
/// description, it only exits (a status already printed says why).
public struct CommandFailure: Error, CustomStringConvertible, Equatable {
    public let description: String
    public let exitCode: Int32

    public init(_ description: String, exitCode: Int32 = ProgramExit.failure) {
        self.description = description
        self.exitCode = exitCode
    }

    /// "CONTEXT: ERROR", exiting `exitCode`; a permission denial behind `cause` (PermissionDenial)
    /// is said as one and exits 77 instead, as every command's are.
    public init(_ context: String, cause: any Error, exitCode: Int32 = ProgramExit.failure) {
        self.init(describing: cause, as: "\(context): \(cause)", exitCode: exitCode)
    }

    /// Any error a command did not catch itself: a SpoolError or SystemError as its description.
    public init(_ error: any Error) {
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

    /// An exit with `code` and nothing more to say.
    public static func exit(_ code: Int32) -> CommandFailure {
        CommandFailure("", exitCode: code)
    }

    /// A usage error (exit 64).
    public static func usage(_ description: String) -> CommandFailure {
        CommandFailure(description, exitCode: ProgramExit.usage)
    }

    /// "permission denied: PATH (owned by flowspool, group responders, mode 710); WHY": a refusal
    /// said as one, never shown as an empty result.
    public static func permissionDenied(_ path: String, _ why: String) -> CommandFailure {
        CommandFailure("permission denied: \(path)\(FileSystem.ownershipNote(path)); \(why)", exitCode: ProgramExit.permissionDenied)
    }
}

/// The spool `path` names (else $FLOWSPOOL_SPOOL, else ./spool), checked to be one that this user
/// may enter.
public func openSpool(_ path: String?) throws -> Spool {
    let spool = Spool.locate(path)
    if FileSystem.exists(spool.root), !FileSystem.mayEnter(spool.root) {
        throw CommandFailure.permissionDenied(spool.root, "only the user flowspoold runs as, root and the spool's responders' group may enter it")
    }
    guard spool.exists else {
        throw CommandFailure("\(spool.root) is not a flowspool spool (it has no incoming/ and executions/); start flowspoold on it, or name another with --spool")
    }
    return spool
}

/// Executions are the owner's alone (flowspool-spool(5), SECURITY): anyone else is told so, rather
/// than shown nothing.
public func requireOwnersAccess(to spool: Spool) throws {
    guard FileSystem.mayEnter(spool.executions) else {
        throw CommandFailure.permissionDenied(spool.executions, "only root and the user flowspoold runs as may read executions; the responders' group may list and answer requests (flowspool inputs, respond)")
    }
}

/// Refuses what is not an execution id, before it becomes part of a path or a key: the one check
/// of an id from the command line, whichever back-end it goes to.
func requireExecutionID(_ id: String) throws {
    guard ExecutionID.isValid(id) else { throw CommandFailure("'\(id)' is not an execution id") }
}

extension Spool {
    /// An execution id from the command line, checked before it becomes part of a path; a job
    /// that is no execution (yet) is said as what it is.
    public func checkedExecution(_ id: String) throws -> Execution {
        try requireExecutionID(id)
        try requireOwnersAccess(to: self)
        let execution = execution(id)
        guard execution.exists else {
            if case .rejected(let why) = jobState(id) {
                throw CommandFailure("job \(id) was not admitted (failed/\(id).json): \(why)")
            }
            if FileSystem.exists(incoming + "/" + id + ".json") {
                throw CommandFailure("job \(id) waits in incoming/ to be admitted" + (hasSupervisor ? "" : "; no flowspoold supervises \(root)"))
            }
            throw CommandFailure("no execution \(id) in \(root)")
        }
        return execution
    }
}

/// Waits for a job to end, reporting a failure to wait as a CommandFailure.
public func awaitEnd(of id: String, in spool: Spool, timeout: Double?) throws -> JobState {
    do {
        return try makeWatcher(for: id, in: spool).wait(for: [id], until: .all, timeout: timeout)[id] ?? .pending
    } catch {
        throw CommandFailure("cannot wait for \(id)", cause: error)
    }
}

/// A watcher to wait for `id` with. Inside a shell flow (FLOWSPOOL_EXECUTION set), the flow holds
/// no runner slot meanwhile, so that what it waits for can run: its registration as a waiter says
/// so to flowspoold. Its status is not touched, as only its runner, which holds its lock, writes that.
public func makeWatcher(for id: String, in spool: Spool) throws -> JobWatcher {
    let flowID = Environment.value(RunnerContract.executionVariable).flatMap { $0 != id ? $0 : nil }
    do {
        return try JobWatcher(spool: spool, waiter: flowID)
    } catch {
        throw CommandFailure("cannot wait for \(id)", cause: error)
    }
}

public func printLine(_ text: String) {
    try? FileDescriptor.standardOutput.write(text + "\n")
}

public func printError(_ text: String) {
    OperatorLine.write(text)
}
