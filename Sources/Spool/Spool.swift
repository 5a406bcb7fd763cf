import POSIX

/// A spool tree: the paths of flowspool-spool(5); every program writes into it with `write` (FileWrites.swift).
public struct Spool: Sendable {
    /// Where this process reaches the spool: its absolute path, or for flowspoold the directory it
    /// holds open (`heldOpen()`).
    public let root: String
    /// The spool's absolute path as the operator gave it: for messages, and for the programs started.
    public let path: String
    /// The descriptor of the root this process holds, which it hands to the runners it starts
    /// (RunnerContract.spoolDescriptor); nil when it reaches the spool by its path.
    public let heldDescriptor: FileDescriptor?

    public init(root: String) {
        self.root = root.hasPrefix("/") ? root : FileSystem.currentDirectory() + "/" + root
        path = self.root
        heldDescriptor = nil
    }

    private init(holding descriptor: FileDescriptor, path: String) {
        root = descriptor.heldPath
        self.path = path
        heldDescriptor = descriptor
    }

    /// The spool at `path` as a runner reaches it: through the root its supervisor handed down
    /// (RunnerContract.spoolDescriptor), when it did, else by the path.
    public static func handedDown(path: String) -> Spool {
        guard let held = handedDownRoot else { return Spool(root: path) }
        return Spool(holding: held, path: path)
    }

    /// The root a runner's supervisor handed down on descriptor 4, moved once to a close-on-exec
    /// number so that nothing the task starts inherits it, its variable taken out of the
    /// environment for the same reason.
    public static let handedDownRoot: FileDescriptor? = {
        guard Environment.value(RunnerContract.spoolDescriptorVariable) == String(RunnerContract.spoolDescriptor) else { return nil }
        Environment.unset(RunnerContract.spoolDescriptorVariable)
        let given = FileDescriptor(rawValue: RunnerContract.spoolDescriptor)
        guard let kept = try? given.duplicatePrivately() else { return nil }
        try? given.close()
        guard (try? kept.status())?.isDirectory == true else {
            try? kept.close()
            return nil
        }
        return kept
    }()

    /// This spool as flowspoold keeps it: its way from / checked (SpoolPath), made if missing, and
    /// its root held open for the life of the process, so that everything this process does in it
    /// starts from the directory that was checked, even once its path leads elsewhere.
    public func heldOpen() throws(SpoolError) -> Spool {
        let checked = try SpoolPath(path, creatingFor: User.effective)
        guard checked.owner == User.effective else {
            throw SpoolError("\(path) is \(checked.status.ownership), not owned by \(User.name(of: User.effective)), the user flowspoold runs as: whoever owns it could make flowspoold run anything (see flowspool-spool(5), SECURITY); run flowspoold as its owner")
        }
        do {
            return Spool(holding: try checked.root.keepOpen(), path: path)
        } catch {
            throw SpoolError("cannot keep \(path) open: \(error)")
        }
    }

    /// `text` with the held directory's name (/proc/self/fd/N) put back as the spool's path, for
    /// what an operator reads.
    public func shown(_ text: String) -> String {
        root == path ? text : text.replacing(root, with: path)
    }

    /// Whether the spool's path still leads to the directory this process holds; the reason when it
    /// does not. `strict` walks the whole way as SpoolPath does (a directory on it opened to others
    /// is a problem before anyone uses it); otherwise one stat(2) of the path, as any other program
    /// would resolve it, tells whether the spool was swapped.
    public func pathProblem(strict: Bool) -> String? {
        guard let heldDescriptor else { return nil }
        do {
            let held = try heldDescriptor.status()
            let found: FileSystem.Status?
            if strict {
                found = try SpoolPath(path).status
            } else {
                found = try FileSystem.status(path)
            }
            guard let found, found.device == held.device, found.inode == held.inode else {
                return "\(path) no longer leads to the spool this flowspoold holds (it was renamed or replaced)"
            }
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// The spool named by `--spool`, else $FLOWSPOOL_SPOOL (when not empty), else ./spool.
    public static func locate(_ option: String?) -> Spool {
        Spool(root: option ?? Environment.nonEmptyValue("FLOWSPOOL_SPOOL") ?? "spool")
    }

    public var tmp: String { root + "/tmp" }
    public var incoming: String { root + "/incoming" }
    public var executions: String { root + "/executions" }
    public var failed: String { root + "/failed" }
    public var settings: String { root + "/settings" }
    public var trigger: String { root + "/trigger" }
    public var control: String { root + "/control" }
    public var lock: String { root + "/lock" }
    /// The drop box: the one place responders may write, and may not read (Answers.swift).
    public var answers: String { root + "/answers" }
    /// The open INPUT requests, published by flowspoold for responders to read.
    public var requests: String { root + "/requests" }
    /// flowspoold's verdicts on dropped answers, for respond(1) to read.
    public var verdicts: String { root + "/verdicts" }
    /// Answers that came before their request was published, kept by flowspoold until it is.
    public var held: String { root + "/held" }
    /// Who waits for which executions: a FIFO each, written by flowspoold (WaitRegistration).
    public var waiters: String { root + "/waiters" }

    public func execution(_ id: String) -> Execution {
        Execution(spool: self, id: id)
    }

    /// Where the supervisor builds execution `id` while admitting its job (flowspool-spool(5)).
    public func claimDirectory(for id: String) -> String {
        tmp + "/" + id + Self.claimSuffix
    }

    public static let claimSuffix = ".admit"

    /// The reason a job file named `name` was not admitted: failed/NAME.why beside failed/NAME.
    public func failureReason(ofJobNamed name: String) -> String {
        failed + "/" + name + ".why"
    }

    /// Creates whatever part of the layout is missing, for the owner alone; `secure(responders:)`
    /// then gives the responders' group its part. Idempotent.
    public func createLayout() throws(SystemError) {
        try FileSystem.ensureDirectory(root, mode: 0o700)
        for directory in [tmp, incoming, executions, failed, settings, answers, requests, verdicts, waiters, held] {
            try FileSystem.ensureDirectory(directory, mode: 0o700)
        }
        try FileSystem.makeFIFO(trigger, mode: 0o600)
        try FileSystem.makeFIFO(control, mode: 0o600)
    }

    /// Whether the layout exists, so that commands can say "not a spool" instead of failing deeper.
    public var exists: Bool {
        FileSystem.exists(executions) && FileSystem.exists(incoming)
    }

    /// Wakes the supervisor after a rename into incoming/. A hint only: inotify usually got there first.
    public func pokeTrigger() {
        _ = try? FIFO.poke(trigger)
    }

    /// Sends one command line to the supervisor; false when no supervisor is reading.
    public func sendControl(_ command: String) throws(SystemError) -> Bool {
        try FIFO.poke(control, command + "\n")
    }
}

extension Spool {
    /// Whether a flowspoold supervises this spool right now: it keeps the control FIFO open for
    /// reading, so opening it for writing succeeds (asking the lock instead could race a starting
    /// supervisor out of it).
    public var hasSupervisor: Bool { supervisorPresence == .running }

    public enum SupervisorPresence: Sendable {
        case running, absent
        /// Who may not open the control FIFO cannot tell (a responder).
        case unknown
    }

    /// A supervisor reads the control FIFO: opening it to write without blocking succeeds only
    /// then. Anything else there (a file, a link) means no supervisor.
    public var supervisorPresence: SupervisorPresence {
        do {
            let fd = try open(control, .writeOnly, fifo: true)
            try? fd.close()
            return .running
        } catch where error.errno == .permissionDenied || error.errno == .notPermitted {
            return .unknown
        } catch {
            return .absent
        }
    }
}
