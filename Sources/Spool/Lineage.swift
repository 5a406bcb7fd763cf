import POSIX

extension Execution {
    /// The ids of this execution's parent, its parent's parent and so on, nearest first: the flows
    /// it runs under. flowspoold publishes them with an open INPUT request (requests/ID.json,
    /// `lineage`, flowspool-spool(5)), so that whoever asks which flows a question belongs to
    /// (flowspoold waking their waiters, `flowspool run` announcing it) reads one file. For an
    /// execution without one (it asks nothing, or an older flowspoold published its request), they
    /// are walked here, through each parent's inputs.json.
    public func ancestors() -> [String] {
        if let lineage = spool.publishedRequest(id)?.lineage { return lineage }
        return walkedAncestors()
    }

    /// The parents by their inputs.json, up to `lineageLimit` of them; stops at an id met already,
    /// so that no damaged chain loops.
    func walkedAncestors() -> [String] {
        var lineage: [String] = []
        var seen: Set<String> = [id]
        var current = self
        while lineage.count < Self.lineageLimit, let parent = try? current.job().parent, seen.insert(parent).inserted {
            lineage.append(parent)
            current = spool.execution(parent)
        }
        return lineage
    }

    /// How many ancestors are looked for: flows nested deeper than this are taken for a damaged chain.
    public static let lineageLimit = 63
}

extension InputRequest {
    /// The flows this request's execution runs under: the lineage published with it, walked only
    /// when it came without one (Execution.ancestors), so that a request read already is not read again.
    public func ancestors(in spool: Spool) -> [String] {
        lineage ?? spool.execution(id).walkedAncestors()
    }
}
