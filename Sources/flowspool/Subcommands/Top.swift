import ArgumentParser
import Commands
import POSIX
import Spool

/// `flowspool top`: a live view of a spool, redrawn when it changes (and every second for what
/// inotify on executions/ cannot see: a status changing inside an execution), fitted to the
/// terminal; q quits.
struct Top: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "Watch the spool live: running, waiting (with the question), queued, recent ends, ends per minute; q quits.")

    @OptionGroup(title: "Spool or cluster") var place: BackendOptions

    @Flag(help: "Print one view and exit (what it does when standard output is not a terminal).")
    var once = false

    func run() throws {
        try reportingFailures {
            let spool = try place.localSpool(for: "top")
            try requireOwnersAccess(to: spool)
            guard !once, let size = Terminal.size(of: .standardOutput) else {
                printLine(TopView(SpoolSnapshot(spool), width: .max, height: nil).lines.joined(separator: "\n"))
                return
            }
            do {
                try watch(spool, size: size)
            } catch let failure as CommandFailure {
                throw failure
            } catch {
                throw CommandFailure("cannot watch \(spool.root)", cause: error)
            }
        }
    }

    /// Redraws until q, Ctrl-C or SIGTERM, in the terminal's alternate screen, which it leaves as
    /// it found it.
    func watch(_ spool: Spool, size: (rows: Int, columns: Int)) throws {
        let signals = try SignalDescriptor([.interrupt, .terminate, .windowChanged])
        let inotify = try Inotify()
        for directory in [spool.executions, spool.incoming, spool.requests] {
            _ = try? inotify.watch(directory, for: [.created, .movedIn, .movedOut, .deleted])
        }
        let keyboard = Terminal(characterModeOn: .standardInput)
        try FileDescriptor.standardOutput.write("\u{1b}[?1049h\u{1b}[?25l")
        defer {
            try? FileDescriptor.standardOutput.write("\u{1b}[?25h\u{1b}[?1049l")
            keyboard?.restore()
        }
        var size = size
        while true {
            let lines = TopView(SpoolSnapshot(spool), width: size.columns, height: size.rows).lines
            try FileDescriptor.standardOutput.write("\u{1b}[H" + lines.map { $0 + "\u{1b}[K" }.joined(separator: "\r\n") + "\u{1b}[J")
            let sources = [signals.descriptor, inotify.descriptor] + (keyboard.map { [$0.descriptor] } ?? [])
            let ready = try Poll.readable(sources, timeout: 1)
            if let keyboard, ready.contains(keyboard.descriptor) {
                let keys = try keyboard.descriptor.readAvailable(limit: 64)
                if keys.contains(UInt8(ascii: "q")) || keys.contains(UInt8(ascii: "Q")) { return }
            }
            if ready.contains(signals.descriptor) {
                let taken = try signals.take()
                if taken.contains(.interrupt) || taken.contains(.terminate) { return }
                size = Terminal.size(of: .standardOutput) ?? size
            }
            if ready.contains(inotify.descriptor) {
                _ = inotify.events()
                Clock.sleep(0.1)  // a burst of changes is drawn once
                _ = inotify.events()
            }
        }
    }
}

/// What `top` shows, read from the spool at one moment.
struct SpoolSnapshot {
    let root: String
    let supervised: Spool.SupervisorPresence
    let taken: Double
    var running: [Summary] = []
    var waiting: [Summary] = []
    var queued: [Summary] = []
    /// The latest ends, newest first.
    var recent: [Summary] = []
    var endedLastMinute = 0
    var incoming = 0
    /// The open INPUT requests' questions, by execution id.
    var questions: [String: String] = [:]

    init(_ spool: Spool, recentCount: Int = 50) {
        root = spool.root
        supervised = spool.supervisorPresence
        taken = Clock.now()
        let ids = ((try? FileSystem.listDirectory(spool.executions)) ?? []).filter { ExecutionID.isValid($0) }
        let listing = Listing(ids, in: spool)
        var ends: [(row: Int, ended: Double)] = []
        for (index, row) in listing.rows.enumerated() {
            switch listing.source(row) {
            case .indexed(let line):
                if let ended = line.ended { ends.append((index, ended)) }
            case .read(let summary):
                if summary.status?.isFinal == true, let ended = summary.ended {
                    ends.append((index, ended))
                } else {
                    switch summary.status {
                    case .running: running.append(summary)
                    case .waiting: waiting.append(summary)
                    default: queued.append(summary)
                    }
                }
            }
        }
        endedLastMinute = ends.filter { $0.ended > taken - 60 }.count
        recent = ends.sorted { $0.ended > $1.ended }.prefix(recentCount).map { listing.summary(of: listing.rows[$0.row]) }
        for list in [\SpoolSnapshot.running, \.waiting, \.queued] {
            self[keyPath: list].sort { ($0.submitted ?? 0, $0.id) < ($1.submitted ?? 0, $1.id) }
        }
        incoming = ((try? FileSystem.listDirectory(spool.incoming)) ?? []).filter { $0.hasSuffix(".json") }.count
        for request in (try? spool.pendingInputs()) ?? [] { questions[request.id] = request.request.firstLine }
    }
}

/// The lines of `top`'s screen: a header, then running, waiting, queued and recent ends, each
/// section cut to what fits in `height` rows (nil: no limit) and every line to `width` columns.
struct TopView {
    let lines: [String]

    init(_ snapshot: SpoolSnapshot, width: Int, height: Int?) {
        let now = snapshot.taken
        let supervisor = switch snapshot.supervised {
        case .running: "flowspoold running"
        case .absent: "NO flowspoold"
        case .unknown: "flowspoold unknown"
        }
        let clock = String(Clock.iso8601(now).dropFirst(11).prefix(8))
        var header = [
            "flowspool top  \(clock)  \(supervisor)  q quits  \(snapshot.root)",
            "running \(snapshot.running.count)  waiting \(snapshot.waiting.count)  queued \(snapshot.queued.count)"
                + "  incoming \(snapshot.incoming)  ended \(snapshot.endedLastMinute) in the last minute",
        ]
        func age(_ since: Double?) -> String { since.map { Clock.describeDuration(max(0, now - $0)) } ?? "-" }
        /// Cells padded to `widths`, the last one as it is.
        func row(_ cells: [String], _ widths: [Int]) -> String {
            zip(cells, widths).map { $0.padding(to: $1) + " " }.joined() + (cells.last ?? "")
        }
        let going = [10, 8, 8]
        let sections: [(title: String, header: String, rows: [String])] = [
            ("RUNNING", row(["ID", "TASK", "FOR", "NAME/MESSAGE"], going),
             snapshot.running.map { row([$0.id, $0.task ?? "?", age($0.started ?? $0.submitted), $0.label], going) }),
            ("WAITING", row(["ID", "TASK", "FOR", "QUESTION/NAME"], going),
             snapshot.waiting.map { row([$0.id, $0.task ?? "?", age($0.submitted), snapshot.questions[$0.id].map { "? " + $0 } ?? $0.label], going) }),
            ("QUEUED", row(["ID", "TASK", "FOR", "NAME"], going),
             snapshot.queued.map { row([$0.id, $0.task ?? "?", age($0.submitted), $0.label], going) }),
            ("RECENT ENDS", row(["ID", "STATUS", "TASK", "TOOK", "AGO", "NAME/MESSAGE"], [10, 9, 8, 8, 8]),
             snapshot.recent.map { ended in
                 let took = ended.ended.flatMap { end in (ended.started ?? ended.submitted).map { Clock.describeDuration(end - $0) } } ?? "-"
                 return row([ended.id, ended.word, ended.task ?? "?", took, age(ended.ended), ended.label], [10, 9, 8, 8, 8])
             }),
        ]
        let shown = Self.fit(sections.map(\.rows.count), into: height.map { $0 - header.count - 2 * sections.count })
        for (section, count) in zip(sections, shown) {
            let more = section.rows.count - count
            header.append(section.title + (more > 0 ? "  (+\(more) more)" : ""))
            header.append("  " + section.header)
            header += section.rows.prefix(count).map { "  " + $0 }
        }
        lines = Array(header.prefix(height ?? header.count)).map { String($0.prefix(width)) }
    }

    /// How many rows of each section fit in `available` rows: every section its share, what one
    /// does not use going to the others, in order.
    static func fit(_ counts: [Int], into available: Int?) -> [Int] {
        guard var left = available.map({ max(0, $0) }) else { return counts }
        var shown = counts.map { _ in 0 }
        var open = counts.indices.filter { counts[$0] > 0 }
        while left > 0, !open.isEmpty {
            let share = max(1, left / open.count)
            for index in open where left > 0 {
                let add = min(share, counts[index] - shown[index], left)
                shown[index] += add
                left -= add
            }
            open = open.filter { shown[$0] < counts[$0] }
        }
        return shown
    }
}
