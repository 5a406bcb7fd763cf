#if canImport(Glibc)
import Glibc
#endif
import CSystem

/// How a child process ended.
public enum ExitStatus: Equatable, Sendable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    init(waitStatus status: Int32) {
        if flowspool_wifsignaled(status) != 0 {
            self = .signaled(flowspool_wtermsig(status))
        } else {
            self = .exited(flowspool_wexitstatus(status))
        }
    }

    public var description: String {
        switch self {
        case .exited(let code): "exited with status \(code)"
        case .signaled(let signal): "was killed by \(Signal.name(signal))"
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

    public static func run(_ path: String, arguments: [String], options: Options) throws(SystemError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        if let directory = options.directory {
            try checkReturnedError("posix_spawn_file_actions_addchdir_np", path: directory) {
                flowspool_spawn_addchdir(&actions, directory)
            }
        }
        try addDescriptors(options.descriptors, to: &actions)
        for target in options.fromNull.subtracting(options.descriptors.keys).sorted() {
            try checkReturnedError("posix_spawn_file_actions_addopen", path: "/dev/null") {
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
        var pid: pid_t = 0
        try checkReturnedError("posix_spawn", path: path) {
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
            try checkReturnedError("posix_spawn_file_actions_adddup2") {
                posix_spawn_file_actions_adddup2(&actions, source.rawValue, spare + Int32(index))
            }
        }
        for (index, (target, _)) in pairs.enumerated() {
            try checkReturnedError("posix_spawn_file_actions_adddup2") {
                posix_spawn_file_actions_adddup2(&actions, spare + Int32(index), target)
            }
            try checkReturnedError("posix_spawn_file_actions_addclose") {
                posix_spawn_file_actions_addclose(&actions, spare + Int32(index))
            }
        }
    }

    /// Reaps one ended child without blocking; nil when none has ended.
    public static func reapOne() -> (pid: pid_t, status: ExitStatus)? {
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
    public static func wait(for pid: pid_t, killingAfter seconds: Double) throws(SystemError) -> ExitStatus {
        if let pidfd = try? check("pidfd_open", { flowspool_pidfd_open(pid) }) {
            let descriptor = FileDescriptor(rawValue: pidfd)
            defer { descriptor.close() }
            if (try? Poll.readable([descriptor], timeout: seconds))?.isEmpty ?? true { kill(pid, SIGKILL) }
        } else {
            kill(pid, SIGKILL)  // no pidfd to wait on: no grace either
        }
        return try wait(for: pid)
    }

    /// Waits for one particular child.
    public static func wait(for pid: pid_t) throws(SystemError) -> ExitStatus {
        var status: Int32 = 0
        try check("waitpid") { waitpid(pid, &status, 0) }
        return ExitStatus(waitStatus: status)
    }
}

/// The process's environment as "NAME=value" strings.
public enum Environment {
    public static func current() -> [String] {
        var result: [String] = []
        guard var pointer = flowspool_environ() else { return [] }
        while let entry = pointer.pointee {
            result.append(String(cString: entry))
            pointer += 1
        }
        return result
    }

    public static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// `base` with the named variables set, replacing earlier values.
    public static func with(_ values: [String: String], base: [String] = current()) -> [String] {
        base.filter { entry in
            guard let equals = entry.firstIndex(of: "=") else { return true }
            return values[String(entry[..<equals])] == nil
        } + values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    }
}

/// Who runs this process.
public enum User {
    /// The login name of a user (by default the real user of this process), or "uid N" when it has none.
    public static func name(of uid: uid_t = getuid()) -> String {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return "uid \(uid)" }
        return String(cString: name)
    }

    /// Whether a user belongs to a group now, by the group database (its primary group, or a
    /// supplementary one), not by what some process of theirs carries.
    public static func isMember(_ uid: uid_t, of group: gid_t) -> Bool {
        guard let entry = getpwuid(uid), let login = entry.pointee.pw_name else { return false }
        let primary = entry.pointee.pw_gid
        if primary == group { return true }
        var count: Int32 = 64
        while true {
            var groups = [gid_t](repeating: 0, count: Int(count))
            let previous = count
            if getgrouplist(login, primary, &groups, &count) >= 0 {
                return groups.prefix(Int(count)).contains(group)
            }
            if count <= previous { return false }
        }
    }
}

public enum Group {
    /// The id of a group given by name or number; nil when there is no such group.
    public static func id(named name: String) -> gid_t? {
        if let entry = getgrnam(name) { return entry.pointee.gr_gid }
        if let number = gid_t(name), getgrgid(number) != nil { return number }
        return nil
    }

    /// A group's name, or "gid N" when it has none.
    public static func name(of gid: gid_t) -> String {
        guard let entry = getgrgid(gid), let name = entry.pointee.gr_name else { return "gid \(gid)" }
        return String(cString: name)
    }
}
