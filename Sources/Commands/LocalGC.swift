import POSIX
import Spool

/// `gc` over a local spool: removes ended executions older than a cutoff, a flow with everything
/// it started, optionally archived first as one tar.gz a day (SpoolGC).
extension LocalSpoolBackend {
    public func gc(_ request: GCRequest) throws {
        try requireOwnersAccess(to: spool)
        let gc = SpoolGC(spool: spool)
        let trees = gc.removableTrees(endedBefore: request.cutoff, statuses: Set(request.statuses.compactMap(ExecutionStatus.init(rawValue:))))
        if request.dryRun {
            for tree in trees { printLine("would remove " + describe(tree)) }
            return
        }
        if let archive = request.archive { try archiveByDay(trees, in: spool, to: archive) }
        var removed: Set<String> = []
        for tree in trees {
            do {
                removed.formUnion(try gc.remove(tree))
            } catch {
                try? EndedIndex(spool: spool).forget(removed)
                throw CommandFailure("cannot remove \(tree.ids[0])", cause: error)
            }
            printLine("removed " + describe(tree))
        }
        try? EndedIndex(spool: spool).forget(removed)
    }

    func describe(_ tree: SpoolGC.Tree) -> String {
        let more = tree.ids.count > 1 ? " and \(tree.ids.count - 1) execution\(tree.ids.count > 2 ? "s" : "") it started" : ""
        return "\(tree.ids[0]) (\(tree.status.rawValue), ended \(Clock.iso8601(tree.ended)))\(more)"
    }

    /// Writes the trees to one new tar.gz per day of their end, each made durable before anything
    /// is removed; a day archived before gets a second file (flowspool-DAY.2.tar.gz).
    func archiveByDay(_ trees: [SpoolGC.Tree], in spool: Spool, to path: String) throws {
        let directory = try openArchiveDirectory(path)
        var days: [String: [String]] = [:]
        for tree in trees { days[String(Clock.iso8601(tree.ended).prefix(10)), default: []] += tree.ids }
        for (day, ids) in days.sorted(by: { $0.key < $1.key }) {
            try writeArchive(of: ids, day: day, from: spool, to: directory)
        }
    }

    /// The archive directory, made when missing and opened once (O_DIRECTORY|O_NOFOLLOW): every
    /// file of the archive is then made relative to that descriptor, whatever its path names later.
    func openArchiveDirectory(_ path: String) throws -> Directory {
        let directory: Directory
        do {
            try FileSystem.ensureDirectory(path, mode: 0o700)
            directory = try Directory(path)
        } catch where error.errno == .tooManySymbolicLinkLevels {
            throw CommandFailure("refused the archive directory \(path): it is a symbolic link; name the directory itself (nothing was removed)")
        } catch {
            throw CommandFailure("cannot make or open the archive directory \(path) (nothing was removed)", cause: error)
        }
        try checkTrusted(directory)
        return directory
    }

    /// gc often runs as root: a directory another user owns, or may write in, lets them put a link
    /// where gc writes, or replace the archive. Such a directory is refused (exit 1: the command
    /// cannot do what was asked, as flowspoold refuses another's spool; 77 is for the spool's own
    /// permissions refusing this user, which is not the case here).
    func checkTrusted(_ directory: Directory) throws {
        let info: FileSystem.Status
        do {
            info = try directory.status()
        } catch {
            throw CommandFailure("cannot look at the archive directory \(directory.path) (nothing was removed): \(error)")
        }
        let refused = "refused the archive directory \(directory.path) (\(info.ownership))"
        guard info.owner == User.root || info.owner == User.effective else {
            throw CommandFailure("\(refused): it belongs to neither root nor you (\(User.name(of: User.effective))), so its owner could make gc write where they choose; archive to a directory of yours or root's (nothing was removed)")
        }
        guard info.permissions.rawValue & 0o022 == 0 else {
            throw CommandFailure("\(refused): others may write in it, so they could make gc write where they choose; run chmod go-w \(directory.path), or archive elsewhere (nothing was removed)")
        }
    }

    /// The first of flowspool-DAY.tar.gz, flowspool-DAY.2.tar.gz, ... that is not in the directory.
    func unusedName(for day: String, in directory: Directory) throws -> String {
        var name = "flowspool-\(day).tar.gz"
        var counter = 1
        while try directory.status(of: name) != nil {
            counter += 1
            name = "flowspool-\(day).\(counter).tar.gz"
        }
        return name
    }

    /// Writes one day's archive: its list of executions and the archive itself are new files made
    /// with O_EXCL|O_NOFOLLOW in the directory held open; tar reads the list from its standard
    /// input and writes the archive to its standard output, both descriptors gc made, and never
    /// opens a name in the directory. The archive is fsynced, renamed into place (never over a
    /// file) and the directory fsynced, before anything is removed.
    func writeArchive(of ids: [String], day: String, from spool: Spool, to directory: Directory) throws {
        var name = "flowspool-\(day).tar.gz"
        do {
            name = try unusedName(for: day, in: directory)
            let list = try ArchiveFile(".\(name).list", in: directory)
            defer { list.discard() }
            try list.descriptor.write(ids.map { $0 + "\n" }.joined())
            try list.descriptor.rewind()
            let archive = try ArchiveFile(".\(name).partial", in: directory)
            defer { archive.discard() }
            try runTar(readingListFrom: list.descriptor, writingTo: archive.descriptor, in: spool.executions, for: directory.path(of: name))
            try archive.descriptor.sync()
            try archive.rename(to: name)
            try directory.sync()
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure("cannot archive to \(directory.path(of: name)) (nothing was removed)", cause: error)
        }
        printLine("archived \(ids.count) execution\(ids.count == 1 ? "" : "s") to \(directory.path(of: name))")
    }

    /// tar -czf - -T -: the list on its standard input, the archive on its standard output.
    func runTar(readingListFrom list: FileDescriptor, writingTo archive: FileDescriptor, in executions: String, for path: String) throws {
        let tar = FileSystem.isExecutableFile("/usr/bin/tar") ? "/usr/bin/tar" : "/bin/tar"
        var options = Spawn.Options(environment: Environment.current())
        options.newProcessGroup = false
        options.descriptors = [0: list, 1: archive, 2: .standardError]
        let pid = try Spawn.run(tar, arguments: ["-czf", "-", "-C", executions, "-T", "-"], options: options)
        let exit = try Spawn.wait(for: pid)
        guard exit == .exited(0) else { throw CommandFailure("tar \(exit) while archiving to \(path); nothing was removed") }
    }
}

/// A file of an archive being written: a new name in the archive directory, made by gc with
/// O_CREAT|O_EXCL|O_NOFOLLOW (mode 0600 whatever the umask: the archive holds inputs, secrets
/// among them) and written through the descriptor kept; removed again unless renamed into place.
final class ArchiveFile {
    let name: String
    let directory: Directory
    let descriptor: FileDescriptor
    private var renamed = false

    init(_ name: String, in directory: Directory) throws {
        self.name = name
        self.directory = directory
        descriptor = try Self.create(name, in: directory)
    }

    static func create(_ name: String, in directory: Directory) throws -> FileDescriptor {
        try removeLeftover(name, in: directory)
        do {
            return try directory.openFile(name, .readWrite, options: [.create, .exclusiveCreate], permissions: 0o600)
        } catch where error.errno == .fileExists {
            throw alreadyThere(name, in: directory)
        }
    }

    static func alreadyThere(_ name: String, in directory: Directory) -> CommandFailure {
        let kind = ((try? directory.status(of: name)) ?? nil)?.kind ?? "a file"
        return CommandFailure("\(directory.path(of: name)) is there already (\(kind)), and gc neither writes through nor replaces a file it did not make: remove it and run gc again (nothing was removed)")
    }

    /// What a gc killed while writing left: a regular file of this user with no other name. Anything
    /// else under the name is left alone, and refused when the file is made.
    static func removeLeftover(_ name: String, in directory: Directory) throws {
        guard let info = try directory.status(of: name), info.isRegularFile, info.owner == User.effective, info.linkCount == 1 else { return }
        try directory.removeFile(name)
    }

    func rename(to target: String) throws {
        try directory.move(name, to: directory, as: target)
        renamed = true
    }

    /// Closes it, and removes its name unless it was renamed into place.
    func discard() {
        try? descriptor.close()
        if !renamed { try? directory.removeFile(name) }
    }
}
