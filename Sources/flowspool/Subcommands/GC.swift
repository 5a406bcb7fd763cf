import ArgumentParser
import Cluster
import POSIX
import Spool

/// `flowspool gc`: removes ended executions older than a cutoff, a flow with everything it started,
/// optionally archived first as one tar.gz a day (Cleanup).
struct GC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove ended executions older than a cutoff, optionally archiving them first.",
        discussion: """
            Only executions that have ended go, and a flow's children only with the flow, once all \
            of them have ended. Prints one line per flow or lone execution removed. With --cluster, \
            the cluster's ended records go, and the hosts silent since the cutoff that hold nothing.
            """)

    @OptionGroup var spoolOption: SpoolOption

    @Option(help: ArgumentHelp("Remove what ended longer ago than this: 7d, 12h, 30m, 90s, or seconds.", valueName: "age"))
    var olderThan: String

    @Option(help: "Only executions (flows: their root) that ended with this status; may be given several times.")
    var status: [String] = []

    @Option(help: ArgumentHelp("Archive them first, one DIR/flowspool-YYYY-MM-DD.tar.gz per day of their end (mode 0600).", valueName: "dir"))
    var archive: String?

    @Flag(help: "Only say what would be removed.")
    var dryRun = false

    func validate() throws {
        guard Cleanup.seconds(inAge: olderThan) != nil else {
            throw ValidationError("--older-than takes an age such as 7d, 12h, 30m, 90s or a number of seconds, not '\(olderThan)'")
        }
        for status in status where ExecutionStatus(rawValue: status)?.isFinal != true {
            throw ValidationError("'\(status)' is not a final status (success, error, fault, cancelled)")
        }
    }

    func run() throws {
        try reportingFailures {
            let cutoff = Clock.now() - Cleanup.seconds(inAge: olderThan)!
            if let cluster = try ClusterClient.store() {
                guard archive == nil else {
                    throw CommandFailure("--archive is for a local spool; a cluster's records are deleted from Redis, not archived", exitCode: ProgramExit.usage)
                }
                return try ClusterClient.gc(cluster, endedBefore: cutoff, statuses: Set(status), dryRun: dryRun)
            }
            let spool = try spoolOption.open()
            try requireOwnersAccess(to: spool)
            let cleanup = Cleanup(spool: spool)
            let trees = cleanup.removableTrees(endedBefore: cutoff, statuses: Set(status.compactMap(ExecutionStatus.init(rawValue:))))
            if dryRun {
                for tree in trees { printLine("would remove " + describe(tree)) }
                return
            }
            if let archive { try archiveByDay(trees, in: spool, to: archive) }
            var removed: Set<String> = []
            for tree in trees {
                do {
                    removed.formUnion(try cleanup.remove(tree))
                } catch {
                    try? EndedIndex(spool: spool).forget(removed)
                    throw CommandFailure("cannot remove \(tree.ids[0]): \(error)")
                }
                printLine("removed " + describe(tree))
            }
            try? EndedIndex(spool: spool).forget(removed)
        }
    }

    func describe(_ tree: Cleanup.Tree) -> String {
        let more = tree.ids.count > 1 ? " and \(tree.ids.count - 1) execution\(tree.ids.count > 2 ? "s" : "") it started" : ""
        return "\(tree.ids[0]) (\(tree.status.rawValue), ended \(Clock.iso8601(tree.ended)))\(more)"
    }

    /// Writes the trees to one new tar.gz per day of their end, each made durable before anything
    /// is removed; a day archived before gets a second file (flowspool-DAY.2.tar.gz).
    func archiveByDay(_ trees: [Cleanup.Tree], in spool: Spool, to directory: String) throws {
        do {
            try FileSystem.ensureDirectory(directory, mode: 0o700)
        } catch {
            throw CommandFailure("cannot make the archive directory \(directory) (nothing was removed): \(error)")
        }
        var days: [String: [String]] = [:]
        for tree in trees { days[String(Clock.iso8601(tree.ended).prefix(10)), default: []] += tree.ids }
        for (day, ids) in days.sorted(by: { $0.key < $1.key }) {
            try writeArchive(of: ids, day: day, from: spool, to: directory)
        }
    }

    func writeArchive(of ids: [String], day: String, from spool: Spool, to directory: String) throws {
        var name = "flowspool-\(day).tar.gz"
        var counter = 1
        while FileSystem.exists(directory + "/" + name) {
            counter += 1
            name = "flowspool-\(day).\(counter).tar.gz"
        }
        let partial = directory + "/." + name + ".partial"
        let list = directory + "/." + name + ".list"
        defer {
            try? FileSystem.removeIfPresent(partial)
            try? FileSystem.removeIfPresent(list)
        }
        do {
            // What a gc killed here left.
            try FileSystem.removeIfPresent(partial)
            try FileSystem.writeFile(list, Array(ids.map { $0 + "\n" }.joined().utf8))
            let tar = FileSystem.isExecutableFile("/usr/bin/tar") ? "/usr/bin/tar" : "/bin/tar"
            var options = Spawn.Options(environment: Environment.current())
            options.newProcessGroup = false
            options.descriptors = [2: .standardError]
            // umask-independent: the archive holds inputs, secrets among them.
            _ = try FileDescriptor.open(partial, .writeOnly, options: [.create, .exclusiveCreate], permissions: 0o600).close()
            let pid = try Spawn.run(tar, arguments: ["-czf", partial, "-C", spool.executions, "-T", list], options: options)
            let exit = try Spawn.wait(for: pid)
            guard exit == .exited(0) else { throw CommandFailure("tar \(exit) while archiving to \(directory)/\(name); nothing was removed") }
            let archive = try FileDescriptor.open(partial, .readOnly)
            try archive.sync()
            try archive.close()
            try FileSystem.rename(partial, directory + "/" + name)
            try FileSystem.syncDirectory(directory)
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure("cannot archive to \(directory)/\(name) (nothing was removed): \(error)")
        }
        printLine("archived \(ids.count) execution\(ids.count == 1 ? "" : "s") to \(directory)/\(name)")
    }
}
