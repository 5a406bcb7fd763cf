import POSIX
import Synchronization

/// How `Spool.write` puts a file in place (flowspool-spool(5), Writing files): what happens when
/// the file is there already, where it is written whole first, and what is made durable.
public struct WritePolicy: Equatable, Sendable {
    /// What happens when the target exists.
    public enum Collision: Equatable, Sendable {
        /// rename(2) over it: the last writer wins; a reader sees the old content or the new.
        case replace
        /// link(2) to it: the first writer wins, and `write` returns false to whoever comes second.
        /// The staged names are removed once every file is in place and the directories synced.
        case createOnce
        /// renameat2(2) with RENAME_NOREPLACE: the first writer wins, and `write` returns false to
        /// whoever comes second, without a second name for the file.
        case noReplace
    }

    /// Where a file is written whole before it is put in place.
    public enum Staging: Equatable, Sendable {
        /// Under tmp/, as PID.N.NAME, so that `ls tmp` says who and what; with its mode as the umask
        /// leaves it.
        case tmp
        /// Beside its target as .NAME.TOKEN, so that the directory's set-group-ID bit gives it the
        /// directory's group (tmp/ would give it ours); with its mode exactly as asked, set on the
        /// descriptor whatever the umask (a chmod by path could follow a link put in its place).
        case besideTarget
    }

    /// What is made durable, and in which order.
    public enum Durability: Equatable, Sendable {
        /// Nothing is synced: for what need not survive a crash, or is made again from the rest.
        case none
        /// Each file is made durable before it is put in place, not the name it is put under.
        case file
        /// Each file is made durable before it is put in place, then each directory it was put in
        /// is fsynced once, after all of them are in place.
        case fileAndDirectory
    }

    public var collision: Collision
    public var staging: Staging
    public var durability: Durability

    public init(_ collision: Collision = .replace, staging: Staging = .tmp, durability: Durability = .fileAndDirectory) {
        self.collision = collision
        self.staging = staging
        self.durability = durability
    }

    /// Replaced whole, staged in tmp/, file and directory made durable: what most spool files take.
    public static let durable = WritePolicy()
    /// Replaced whole, staged in tmp/, nothing synced: states repaired after a crash.
    public static let volatile = WritePolicy(durability: .none)
    /// Made once, durably, and never replaced: the first writer wins (an INPUT response, the files
    /// a cancelled parked execution waited for).
    public static let createOnce = WritePolicy(.createOnce, staging: .besideTarget)

    /// For the responders' group to read (requests/, verdicts/): staged beside the target for the
    /// directory's group, and not synced, since what is published is made again from the
    /// executions after a crash.
    public static func published(replacing: Bool) -> WritePolicy {
        WritePolicy(replacing ? .replace : .noReplace, staging: .besideTarget, durability: .none)
    }
}

extension Spool {
    /// One file `write` puts in place: its final path, its content and its mode.
    public struct FileContent {
        public let path: String
        public let bytes: [UInt8]
        public let mode: FilePermissions

        public init(_ path: String, _ text: String, mode: FilePermissions = 0o600) {
            self.init(path, Array(text.utf8), mode: mode)
        }

        public init(_ path: String, _ bytes: [UInt8], mode: FilePermissions = 0o600) {
            self.path = path
            self.bytes = bytes
            self.mode = mode
        }
    }

    /// Writes files the way flowspool-spool(5) asks, in this order: each whole under a fresh name
    /// (`policy.staging`), made durable when the policy asks (one fsync for a lone file; several
    /// share one syncfs(2) of the file system, a group commit: a journalling file system commits
    /// them together, where an fsync each costs a commit each), then put in place in the order
    /// given (`policy.collision`), then each directory fsynced once when the policy asks. Readers
    /// see the old content or the new, never half, and a reader who sees the last file finds the
    /// earlier ones. Returns false when a policy that never replaces found a target there (that
    /// file is left as it was); whatever is not in place when it returns or throws is removed.
    @discardableResult
    public func write(_ files: [FileContent], _ policy: WritePolicy = .durable) throws(SystemError) -> Bool {
        guard !files.isEmpty else { return true }
        var staged: [String] = []
        var moved = Set<Int>()
        defer {
            for (index, temporary) in staged.enumerated() where !moved.contains(index) {
                try? FileSystem.removeIfPresent(temporary)
            }
        }
        let syncEach = policy.durability != .none && files.count == 1
        for file in files {
            staged.append(try stage(file, policy.staging, sync: syncEach))
        }
        if policy.durability != .none && !syncEach { try FileSystem.syncFileSystem(parent(of: staged[0])) }
        var placed: [String] = []
        for (index, (file, temporary)) in zip(files, staged).enumerated() {
            do {
                switch policy.collision {
                case .replace: try FileSystem.rename(temporary, file.path)
                case .noReplace: try FileSystem.renameNoReplace(temporary, file.path)
                case .createOnce: try FileSystem.link(temporary, file.path)
                }
            } catch where error.errno == .fileExists && policy.collision != .replace {
                continue
            }
            if policy.collision != .createOnce { moved.insert(index) }
            placed.append(file.path)
        }
        if policy.durability == .fileAndDirectory {
            var synced: Set<String> = []
            for directory in placed.map(parent(of:)) where synced.insert(directory).inserted {
                try FileSystem.syncDirectory(directory)
            }
        }
        return placed.count == files.count
    }

    /// `write` for one file of text.
    @discardableResult
    public func write(_ text: String, to path: String, mode: FilePermissions = 0o600, _ policy: WritePolicy = .durable) throws(SystemError) -> Bool {
        try write([FileContent(path, text, mode: mode)], policy)
    }

    /// Writes a file whole under a fresh name and returns that name. A name taken already (left by
    /// a crashed process that had the same pid) is skipped; a file that could not be written whole
    /// (a full disk) is removed again, so that retries leave nothing behind.
    func stage(_ file: FileContent, _ staging: WritePolicy.Staging, sync: Bool) throws(SystemError) -> String {
        while true {
            let temporary = staging == .tmp ? temporaryPath(for: file.path) : Self.stagingPath(besideTarget: file.path)
            do {
                try FileSystem.writeFile(temporary, file.bytes, mode: file.mode, exclusive: true, sync: sync, exactMode: staging == .besideTarget)
                return temporary
            } catch where error.errno == .fileExists {
                continue
            } catch {
                try? FileSystem.removeIfPresent(temporary)
                throw error
            }
        }
    }

    /// A fresh name under tmp/: pid, a counter and the target's own name, so `ls tmp` says who and what.
    public func temporaryPath(for target: String) -> String {
        "\(tmp)/\(CurrentProcess.id).\(TemporaryCounter.next()).\(FileSystem.split(target).name)"
    }

    /// A fresh dot name beside `target`: .NAME.TOKEN.
    static func stagingPath(besideTarget target: String) -> String {
        let (directory, name) = FileSystem.split(target)
        return "\(directory)/.\(name).\(randomToken())"
    }

    /// 16 random hex digits: a name nobody can guess.
    public static func randomToken() -> String {
        let value = UInt64.random(in: 0...UInt64.max)
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    func parent(of path: String) -> String {
        FileSystem.split(path).directory
    }
}

/// Unique numbers for temporary names within this process.
enum TemporaryCounter {
    private static let value = Atomic<Int>(0)

    static func next() -> Int {
        value.add(1, ordering: .relaxed).newValue
    }
}
