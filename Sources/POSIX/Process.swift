#if canImport(Glibc)
import Glibc
#endif
import CPOSIX

/// A process's id (pid_t).
public typealias ProcessID = pid_t

/// How a child process ended.
public enum ExitStatus: Equatable, Sendable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Signal)

    init(waitStatus status: Int32) {
        if flowspool_wifsignaled(status) != 0 {
            self = .signaled(Signal(rawValue: flowspool_wtermsig(status)))
        } else {
            self = .exited(flowspool_wexitstatus(status))
        }
    }

    public var description: String {
        switch self {
        case .exited(let code): "exited with status \(code)"
        case .signaled(let signal): "was killed by \(signal)"
        }
    }
}

/// posix_spawn with the few things a supervisor needs: a working directory, a set of descriptors
/// placed at fixed numbers, and a process group of its own.
public enum Spawn {
    public struct Options {
        public var directory: String?
        /// Child descriptor number -> descriptor in this process.
        public var descriptors: [Int32: FileDescriptor] = [:]
        /// Child descriptors opened on /dev/null (standard input, mostly).
        public var fromNull: Set<Int32> = [0]
        public var newProcessGroup = true
        public var environment: [String]

        public init(directory: String? = nil, environment: [String]) {
            self.directory = directory
            self.environment = environment
        }
    }

    public static func run(_ path: String, arguments: [String], options: Options) throws(SystemError) -> ProcessID {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        if let directory = options.directory {
            try returnedErrno("posix_spawn_file_actions_addchdir_np", path: directory) {
                flowspool_spawn_addchdir(&actions, directory)
            }
        }
        try addDescriptors(options.descriptors, to: &actions)
        for target in options.fromNull.subtracting(options.descriptors.keys).sorted() {
            try returnedErrno("posix_spawn_file_actions_addopen", path: "/dev/null") {
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_RDWR, 0)
            }
        }

        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if options.newProcessGroup {
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGCHLD, SIGTERM, SIGINT, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = options.environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: ProcessID = 0
        try returnedErrno("posix_spawn", path: path) {
            posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        }
        return pid
    }

    /// The child's descriptors, in two steps: every source is first copied to a number above all
    /// sources and targets, then from there to its target, so that no source is overwritten by an
    /// earlier target that has its number (a swap of 7 and 8 comes out right).
    static func addDescriptors(_ descriptors: [Int32: FileDescriptor], to actions: inout posix_spawn_file_actions_t) throws(SystemError) {
        let pairs = descriptors.sorted { $0.key < $1.key }
        let spare = (pairs.flatMap { [$0.key, $0.value.rawValue] }.max() ?? 2) + 1
        for (index, (_, source)) in pairs.enumerated() {
            try returnedErrno("posix_spawn_file_actions_adddup2") {
                posix_spawn_file_actions_adddup2(&actions, source.rawValue, spare + Int32(index))
            }
        }
        for (index, (target, _)) in pairs.enumerated() {
            try returnedErrno("posix_spawn_file_actions_adddup2") {
                posix_spawn_file_actions_adddup2(&actions, spare + Int32(index), target)
            }
            try returnedErrno("posix_spawn_file_actions_addclose") {
                posix_spawn_file_actions_addclose(&actions, spare + Int32(index))
            }
        }
    }

    /// Reaps one ended child without blocking; nil when none has ended.
    public static func reapOne() -> (pid: ProcessID, status: ExitStatus)? {
        var status: Int32 = 0
        while true {
            let pid = waitpid(-1, &status, WNOHANG)
            if pid > 0 { return (pid, ExitStatus(waitStatus: status)) }
            if pid == -1 && errno == EINTR { continue }
            return nil
        }
    }

    /// Waits for a child at most `seconds` (woken by a pidfd when it ends), then kills it with
    /// SIGKILL and reaps it.
    public static func wait(for pid: ProcessID, killingAfter seconds: Double) throws(SystemError) -> ExitStatus {
        if let pidfd = try? valueOrErrno("pidfd_open", { flowspool_pidfd_open(pid) }) {
            let descriptor = FileDescriptor(rawValue: pidfd)
            defer { try? descriptor.close() }
            if (try? Poll.readable([descriptor], timeout: seconds))?.isEmpty ?? true { Signal.kill.send(to: pid) }
        } else {
            Signal.kill.send(to: pid)  // no pidfd to wait on: no grace either
        }
        return try wait(for: pid)
    }

    /// Runs a program to its end and returns how it exited and what it wrote on standard output
    /// (and standard error, with `withErrors`), at most `limit` bytes; a program still running
    /// after `timeout` seconds is killed. With `input`, that is its standard input, written whole
    /// before its output is read (for a program that reads all its input first).
    public static func capture(
        _ path: String, arguments: [String], input: [UInt8]? = nil, withErrors: Bool = false, limit: Int = 1 << 16,
        timeout: Double
    ) throws(SystemError) -> (status: ExitStatus, output: [UInt8]) {
        let output = try FileDescriptor.closeOnExecPipe()
        let inputPipe = try input.map { _ throws(SystemError) in try FileDescriptor.closeOnExecPipe() }
        var options = Options(environment: Environment.current())
        options.newProcessGroup = false
        options.descriptors = withErrors ? [1: output.writeEnd, 2: output.writeEnd] : [1: output.writeEnd]
        options.fromNull = withErrors ? [0] : [0, 2]
        if let inputPipe {
            options.descriptors[0] = inputPipe.readEnd
            options.fromNull.remove(0)
        }
        let pid: ProcessID
        do {
            pid = try run(path, arguments: arguments, options: options)
        } catch {
            for end in [output.readEnd, output.writeEnd, inputPipe?.readEnd, inputPipe?.writeEnd].compactMap({ $0 }) { try? end.close() }
            throw error
        }
        try? output.writeEnd.close()
        if let inputPipe, let input {
            try? inputPipe.readEnd.close()
            try? inputPipe.writeEnd.write(input)  // a program that stopped reading gets the rest no more
            try? inputPipe.writeEnd.close()
        }
        defer { try? output.readEnd.close() }
        let deadline = Clock.monotonic() + timeout
        var bytes: [UInt8] = []
        while bytes.count < limit, Clock.monotonic() < deadline,
              (try? Poll.readable([output.readEnd], timeout: deadline - Clock.monotonic()))?.isEmpty == false {
            let chunk = (try? output.readEnd.read(upTo: limit - bytes.count)) ?? []
            if chunk.isEmpty { break }
            bytes += chunk
        }
        return (try wait(for: pid, killingAfter: max(0, deadline - Clock.monotonic())), bytes)
    }

    /// Waits for one particular child.
    public static func wait(for pid: ProcessID) throws(SystemError) -> ExitStatus {
        var status: Int32 = 0
        try valueOrErrno("waitpid") { waitpid(pid, &status, 0) }
        return ExitStatus(waitStatus: status)
    }
}


/// This process.
public enum CurrentProcess {
    public static var id: ProcessID { getpid() }

    /// Opens /dev/null on standard input, output or error where the program was started with it
    /// closed, as daemontools' programs do: so that no file the program opens later takes number
    /// 0, 1 or 2 and receives its messages, and a write to a closed standard error is no error.
    public static func openStandardDescriptors() {
        for number in Int32(0)...2 where fcntl(number, F_GETFD) == -1 {
            _ = open("/dev/null", O_RDWR)  // takes the lowest free number: this one
        }
    }

    /// Marks every descriptor above 2 that the program was started with close-on-exec
    /// (close_range(2)), so that what its parent leaked does not reach the programs it starts.
    public static func keepInheritedDescriptorsFromChildren() {
        _ = close_range(3, UInt32.max, Int32(FLOWSPOOL_CLOSE_RANGE_CLOEXEC))
    }

    /// How many processors are online now.
    public static var processorCount: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// The machine's name (gethostname(2)).
    public static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Ends the process with `status`, flushing nothing: flowspool writes with write(2), never stdio.
    public static func exit(_ status: Int32) -> Never { Glibc.exit(status) }
}
