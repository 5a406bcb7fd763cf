import POSIX

/// Removing ended executions (`flowspool gc`): whole trees, a flow with every execution it started,
/// and only when every one of them has ended, so that a child never goes before its flow and
/// nothing that still runs or waits is touched. A tree is old when its root ended before the
/// cutoff; `statuses` chooses by the root's status.
public struct SpoolGC {
    public let spool: Spool

    public init(spool: Spool) {
        self.spool = spool
    }

    /// An age as people write it, "7d", "12h", "30m", "90s", "2w" or "3600", in seconds; nil when
    /// it is none of those.
    public static func seconds(inAge age: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800]
        if let unit = age.last.flatMap({ units[$0] }), let count = Double(age.dropLast()), count >= 0 { return count * unit }
        return Double(age).flatMap { $0 >= 0 ? $0 : nil }
    }

    /// A flow and what it started, or a lone execution: removed together or not at all.
    public struct Tree: Sendable {
        /// The root first, then its descendants.
        public let ids: [String]
        public let status: ExecutionStatus
        public let ended: Double
    }

    /// What one execution is, as far as cleaning up is concerned.
    struct Fact {
        let status: ExecutionStatus?
        let ended: Double?
        let parent: String?
    }

    /// The trees whose executions have all ended, the root before `cutoff` (seconds since 1970)
    /// with one of `statuses` (all final ones when empty), oldest first.
    public func removableTrees(endedBefore cutoff: Double, statuses: Set<ExecutionStatus> = []) -> [Tree] {
        let facts = readFacts()
        // A child whose flow is gone (removed by hand) is a root of its own.
        let parents = facts.compactMapValues(\.parent).filter { facts[$0.value] != nil }
        let cyclic = Self.executionsOnCycles(parents)
        var children: [String: [String]] = [:]
        var roots: [String] = []
        for id in facts.keys {
            if let parent = parents[id], !cyclic.contains(id) {
                children[parent, default: []].append(id)
            } else {
                roots.append(id)
            }
        }
        var trees: [Tree] = []
        for root in roots {
            guard let fact = facts[root], let status = fact.status, status.isFinal, let ended = fact.ended, ended < cutoff,
                  statuses.isEmpty || statuses.contains(status) else { continue }
            var ids = [root]
            var next = 0
            while next < ids.count {
                ids += children[ids[next]] ?? []
                next += 1
            }
            guard ids.allSatisfy({ facts[$0]?.status?.isFinal == true }) else { continue }
            trees.append(Tree(ids: ids, status: status, ended: ended))
        }
        return trees.sorted { ($0.ended, $0.ids[0]) < ($1.ended, $1.ids[0]) }
    }

    /// The executions on a cycle of parents: one that names itself, two that name each other, and
    /// so on. No flow submits such jobs, but a job file written by hand may name any parent, and
    /// an execution on a cycle has no flow above it that could ever end and take it along: each is
    /// a root of its own. One that names a member of a cycle without being on it is a child as
    /// usual. Each execution is walked once, so this ends however the parents run.
    static func executionsOnCycles(_ parents: [String: String]) -> Set<String> {
        var onCycles: Set<String> = []
        var walked: Set<String> = []
        for start in parents.keys where !walked.contains(start) {
            var path: [String] = []
            var positionInPath: [String: Int] = [:]
            var current: String? = start
            while let id = current, walked.insert(id).inserted {
                positionInPath[id] = path.count
                path.append(id)
                current = parents[id]
            }
            // Stopped at an execution walked before: on this path, a cycle; else an earlier path's.
            if let id = current, let position = positionInPath[id] { onCycles.formUnion(path[position...]) }
        }
        return onCycles
    }

    /// Every execution's status, end and parent: from spool/index where it has the execution,
    /// else from its files.
    func readFacts() -> [String: Fact] {
        let table = EndedIndex(spool: spool).read()
        var facts: [String: Fact] = [:]
        for id in (try? FileSystem.listDirectory(spool.executions)) ?? [] where ExecutionID.isValid(id) {
            if let index = table.lineOfID[id] {
                let line = table.lines[index]
                facts[id] = Fact(status: line.status, ended: line.ended, parent: line.parent.map(table.text))
            } else {
                let execution = spool.execution(id)
                let status = execution.status()
                let ended = status?.isFinal == true ? execution.history().last { $0.status.isFinal }?.time : nil
                facts[id] = Fact(status: status, ended: ended, parent: try? execution.job().parent)
            }
        }
        return facts
    }

    /// Removes a tree, descendants first, each execution first renamed out of executions/ (so that
    /// it is gone at once, whole) and then deleted from tmp/, where the supervisor removes what a
    /// crash leaves. Returns the ids removed.
    @discardableResult
    public func remove(_ tree: Tree) throws(SystemError) -> [String] {
        var removed: [String] = []
        for id in tree.ids.reversed() {
            let aside = spool.tmp + "/gc." + id
            try FileSystem.removeTree(aside)  // what a gc that crashed there left
            try FileSystem.rename(spool.execution(id).directory, aside)
            removed.append(id)
            try FileSystem.removeTree(aside)
        }
        try FileSystem.syncDirectory(spool.executions)
        return removed
    }
}

extension EndedIndex {
    /// Writes the index again without the lines of `ids` (executions removed), so that it does not
    /// grow forever; a list that appends meanwhile may lose its lines, which are read again later.
    public func forget(_ ids: Set<String>) throws(SystemError) {
        guard !ids.isEmpty else { return }
        let bytes = (try? FileSystem.readFile(path, limit: Self.sizeLimit, beneath: spool.root)) ?? []
        var kept: [UInt8] = []
        kept.reserveCapacity(bytes.count)
        var lineStart = 0
        for index in bytes.indices where bytes[index] == 0x0a {
            let line = bytes[lineStart...index]
            let id = String(decoding: line.prefix { $0 != 0x09 }, as: UTF8.self)
            if !ids.contains(id) { kept += line }
            lineStart = index + 1
        }
        try spool.write([Spool.FileContent(path, kept, mode: 0o600)], .volatile)
    }
}
