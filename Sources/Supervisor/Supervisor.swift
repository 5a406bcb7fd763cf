import Basics
import POSIX
import Spool

/// flowspoold: one per spool. Admits jobs, starts runners within the limits, enforces timeouts,
/// reaps runners and ends what they left unfinished. It never does task work itself.
///
/// Everything happens on one thread in one poll loop: inotify on incoming/, the trigger and control
/// FIFOs, a signalfd for SIGCHLD, SIGTERM, SIGINT and SIGHUP, and a pipe from the threads that wait
/// for the locks of runners it cannot reap (see `watchLock`). What to do about runners is decided
/// by `core` (SupervisorCore, in Core/, with no I/O); this class turns readiness into its events
/// and carries its actions out.
public final class Supervisor {
    let options: SupervisorOptions
    var spool: Spool { options.spool }
    let log: SupervisorLog
    let admission: Admission
    /// The runner slots free, for the cluster's thread to read.
    public let slots = SlotGauge()

    /// The decisions about runners: the queue, the live runners, their deadlines, the runner
    /// processes kept for reuse (SupervisorCore). This class is its shell.
    var core: SupervisorCore
    /// The small jobs of the queued executions this supervisor admitted, as read then, so that
    /// starting one reads nothing it already knows (Admission.keptJobSize).
    var admittedJobs: [String: Job] = [:]
    /// Executions parked by their runner, waiting for a file or a deadline, by id.
    var parked: [String: ParkedExecution] = [:]
    var parkedByWatch: [Int32: String] = [:]

    var incomingNeedsScan = true
    var answersNeedScan = true
    /// Who waits for what (WaitRegistration), by token, and the tokens waiting for each id (the
    /// flows counted as waiting because of a registration are the core's).
    var waiterRegistrations: [String: WaitRegistration] = [:]
    var waitersByID: [String: Set<String>] = [:]
    var waitersWatch: Int32 = -1
    /// The watch on executions/, for executions removed by hand (Vanished).
    var executionsWatch: Int32 = -1
    /// The executions with children, whose children are looked at when they end: those given a child
    /// since the supervisor started, and those found with a `children` file when it started.
    var parents: Set<String> = []
    /// Names in incoming/ that could neither be admitted nor set aside, and when to try each again.
    var heldBack: [String: Backoff] = [:]
    var nextRescan = 0.0
    /// When the next daily gc is due (monotonic seconds; checked at each rescan), and the
    /// `flowspool gc` process of the one that runs.
    var nextGC = 0.0
    var gcProcess: ProcessID?
    var stopping = false
    /// Why the supervisor stopped on its own: its spool's path no longer leads to its spool.
    var spoolLost: String?

    // Event sources, set up in run().
    var inotify: Inotify!
    var signals: SignalDescriptor!
    var trigger: FileDescriptor!
    var control: FileDescriptor!
    var controlReader = ControlReader()
    /// Unknown control commands since the supervisor started, for the log's count.
    var unknownControlCommands = 0
    var lockReleases: Pipe!

    public init(options: SupervisorOptions) {
        self.options = options
        log = SupervisorLog(spool: options.spool)
        admission = Admission(spool: options.spool, runnerPath: options.runnerPath, log: log)
        core = SupervisorCore(
            limits: .init(maxRunning: options.maxRunning, killGrace: options.killGrace, endGrace: options.endGrace),
            reuse: ReusePool(capacity: options.maxRunning, maxUse: options.runnerMaxUse, maxIdle: options.runnerMaxIdle))
    }

    /// Gives the core an event, at the monotonic clock's time, and carries out what it decides.
    func decide(_ event: SupervisorCore.Event) {
        perform(core.handle(event, at: Clock.monotonic()))
    }

    /// Runs until SIGTERM, SIGINT or a `stop` command. Runners keep running after the supervisor
    /// stops; the next supervisor adopts them.
    public func run() throws(SpoolError) {
        let spoolLock = try lockSpool()
        defer { try? spoolLock.close() }
        do {
            try setUpEventSources()
        } catch {
            throw SpoolError("cannot watch \(spool.path): \(error)")
        }
        repairAtStartup()
        scanWaiters()
        nextRescan = Clock.monotonic() + options.rescanInterval
        log.line("supervising \(spool.path) (at most \(options.maxRunning) running, runners from \(options.runnerPath.joined(separator: ":")))")
        tellServiceManager("READY=1\nSTATUS=supervising \(spool.path)")
        while !stopping {
            if Clock.monotonic() >= nextRescan { rescan() }
            if incomingNeedsScan || Clock.monotonic() >= nextHeldBackTry { scanIncoming() }
            if answersNeedScan { scanAnswers() }
            startQueued()
            slots.set(core.freeSlots)
            waitForEvents()
            enforceDeadlines()
        }
        tellServiceManager("STOPPING=1")
        decide(.retireIdle)
        log.line("stopped" + (core.runs.isEmpty ? "" : "; \(core.runs.count) runner(s) keep running and the next flowspoold adopts them"))
        if let spoolLost { throw SpoolError(spoolLost) }
    }

    /// Tells systemd (Type=notify) how the service stands, when it listens.
    func tellServiceManager(_ state: String) {
        do {
            try ServiceManager.notify(state)
        } catch {
            log.once("notify", "cannot tell the service manager through $NOTIFY_SOCKET: \(error)")
        }
    }

    /// One supervisor per spool: an exclusive, non-blocking flock on spool/lock (flowspool-spool(5)).
    /// The spool's modes are set for the roles first, so that nothing is admitted from a spool that
    /// others could write.
    func lockSpool() throws(SpoolError) -> FileDescriptor {
        let fd: FileDescriptor
        let locked: Bool
        do {
            for change in try spool.secure(options.roles) { log.line("secured \(change)") }
        } catch {
            throw SpoolError("cannot supervise \(spool.path): \(error)")
        }
        do {
            fd = try spool.open(spool.lock, .readWrite, options: .create)
            locked = try fd.lockExclusively(wait: false)
        } catch {
            throw SpoolError("cannot set up the spool \(spool.path): \(error)")
        }
        guard locked else {
            try? fd.close()
            throw SpoolError("another flowspoold is supervising \(spool.path) (it holds \(spool.lock))")
        }
        return fd
    }

    /// One inotify instance for everything the supervisor watches: incoming/, answers/, waiters/,
    /// executions/ (for removals) and each parked execution's directory.
    func setUpEventSources() throws(SystemError) {
        signals = try SignalDescriptor([.childEnded, .terminate, .interrupt, .hangUp])
        Signal.brokenPipe.ignore()
        inotify = try Inotify()  // which says what to raise when no instance is left
        try inotify.watch(spool.incoming, for: [.movedIn, .closedAfterWriting])
        // Moved in only: an answer is renamed into place whole, never judged while it is written.
        try inotify.watch(spool.answers, for: [.movedIn])
        waitersWatch = try inotify.watch(spool.waiters, for: [.movedIn, .deleted])
        // Removals only: an execution removed by hand is an event for those who wait for it.
        executionsWatch = try inotify.watch(spool.executions, for: [.deleted, .movedOut])
        // Opened for reading and writing, so that they never report end of file when writers leave.
        trigger = try FileDescriptor.open(spool.trigger, .readWrite, options: .nonBlocking)
        control = try FileDescriptor.open(spool.control, .readWrite, options: .nonBlocking)
        lockReleases = try FileDescriptor.closeOnExecPipe(nonBlocking: true)
    }

    /// Sleeps in poll until something happens or the next deadline comes.
    func waitForEvents() {
        let wake = min(nextRescan, nextParkedDeadline, nextHeldBackTry, core.nextDeadline)
        // The sockets of busy runner processes, which answer `done` on them.
        let servedSockets = core.runs.values.compactMap { $0.process?.socket }
        let sources = [signals.descriptor, inotify.descriptor, trigger!, control!, lockReleases.readEnd] + servedSockets
        let ready: Set<FileDescriptor>
        do {
            ready = try Poll.readable(sources, timeout: incomingNeedsScan || answersNeedScan ? 0 : max(0, wake - Clock.monotonic()))
        } catch {
            log.line("poll failed: \(error)")
            return
        }
        if ready.contains(signals.descriptor) { handleSignals() }
        if ready.contains(inotify.descriptor) {
            if let events = inotify.events() {
                var parkedWithEvents: Set<String> = []
                var executionsGone: Set<String> = []
                for event in events {
                    if event.watch == waitersWatch {
                        waiterFileChanged(event.name)
                    } else if event.watch == executionsWatch {
                        executionsGone.insert(event.name)
                    } else if let id = parkedByWatch[event.watch] {
                        parkedWithEvents.insert(id)
                    } else {
                        incomingNeedsScan = true
                        answersNeedScan = true
                    }
                }
                executionsLeft(executionsGone)
                wakeParked(parkedWithEvents)
            } else {
                // The queue overflowed: look at everything again.
                incomingNeedsScan = true
                answersNeedScan = true
                scanWaiters()
                lookForVanished()
                wakeParked(at: Clock.now())
            }
        }
        if ready.contains(trigger) {
            _ = try? trigger.readAvailable()
            incomingNeedsScan = true
        }
        if ready.contains(control) { handleControl() }
        if ready.contains(lockReleases.readEnd) { handleLockReleases() }
        for socket in servedSockets where ready.contains(socket) { runnerProcessAnswered(on: socket) }
    }

    func handleSignals() {
        for signal in (try? signals.take()) ?? [] {
            switch signal {
            case .childEnded: reapRunners()
            case .hangUp:
                incomingNeedsScan = true
                decide(.retireIdle)
            default:
                log.line("\(signal) received")
                stopping = true
            }
        }
    }

    /// The slow periodic pass that backs up the wake-ups (flowspool-spool(5)).
    func rescan() {
        nextRescan = Clock.monotonic() + options.rescanInterval
        guard spoolPathHolds(strict: true) else { return }
        incomingNeedsScan = true
        answersNeedScan = true
        removeStaleTemporaries()
        tidyPublished()
        repairClaims()
        checkWatchedLocks()
        lookForVanished()
        wakeParked(at: Clock.now())
        scanWaiters()
        if options.dailyGC != nil, gcProcess == nil, Clock.monotonic() >= nextGC { startDailyGC() }
    }

    /// Whether the spool's path still leads to the spool this supervisor holds; `strict` (at each
    /// rescan), on a way only root and the owner control (SpoolPath). When it does not (the spool
    /// renamed aside and another put in its place, a directory on the way opened to others),
    /// flowspoold stops rather than start programs that would find the spool by that path; the next
    /// start refuses, naming the cause.
    func spoolPathHolds(strict: Bool) -> Bool {
        guard let problem = spool.pathProblem(strict: strict) else { return true }
        log.line("stopping: \(problem)")
        stopping = true
        spoolLost = problem
        return false
    }

    /// Admits a batch of what incoming/ holds. Whatever is there is accounted for: admitted, set
    /// aside in failed/, or (when neither can be done now, as on a full disk) held back with a
    /// growing delay, so that it neither spins nor keeps the names after it from their turn.
    func scanIncoming() {
        incomingNeedsScan = false
        let names: [String]
        do {
            names = try FileSystem.listDirectory(spool.incoming)
        } catch {
            log.once("incoming", "cannot read \(spool.incoming) (the rescan tries again): \(error)")
            return
        }
        let now = Clock.monotonic()
        if !heldBack.isEmpty {
            let present = Set(names)
            heldBack = heldBack.filter { present.contains($0.key) }
        }
        let batch = Array(names.filter { heldBack[$0].map { $0.nextTry <= now } ?? true }.sorted().prefix(Self.admissionBatch))
        let outcome = admission.admit(batch)
        take(outcome)
        // Admitted or set aside: those waiting for these jobs look again, each waiter woken once
        // (an admitted id is mostly its file's name).
        Set(batch.map { $0.hasSuffix(".json") ? String($0.dropLast(5)) : $0 }).union(outcome.admitted).forEach(notifyWaiters)
        for name in outcome.stuck {
            heldBack[name, default: Backoff()].fail(at: now)
        }
        // A large burst is admitted a batch at a time, with runners started in between.
        if batch.count == Self.admissionBatch && outcome.stuck.count < batch.count { incomingNeedsScan = true }
    }

    /// When the first name held back in incoming/ is to be tried again (monotonic seconds).
    var nextHeldBackTry: Double { heldBack.values.map(\.nextTry).min() ?? .infinity }

    /// How many job files one pass admits before runners get their turn.
    static let admissionBatch = 128

    func enqueue(_ id: String) {
        decide(.queued(id))
    }

    /// Queues what an admission admitted, and keeps what it learnt: who has children, and the jobs.
    func take(_ outcome: Admission.Outcome) {
        outcome.admitted.forEach(enqueue)
        parents.formUnion(outcome.parents)
        admittedJobs.merge(outcome.jobs) { _, new in new }
    }

    /// Reads the control FIFO's commands (ControlReader). Unknown commands are counted, and each
    /// is logged once per minute at most, as are long lines, whatever floods the FIFO.
    func handleControl() {
        guard let bytes = try? control.readAvailable() else { return }
        for command in controlReader.take(bytes) {
            switch command {
            case .cancel(let id, let cause): cancel(id, because: cause)
            case .ended(let id): endedEarly(id)
            case .ending(let id): decide(.endingLate(id))
            case .rescan: nextRescan = 0
            case .stop: stopping = true
            case .unknown(let line):
                unknownControlCommands += 1
                log.once("control: unknown", "unknown control command '\(line.escapingControlCharacters())' (\(unknownControlCommands) since the start; known: cancel ID [CAUSE], ended ID, ending ID, rescan, stop)", interval: 60)
            case .tooLong:
                log.once("control: long line", "\(spool.control): dropped a line longer than \(ControlReader.lineLimit) bytes (no command is that long)", interval: 60)
            }
        }
    }
}
