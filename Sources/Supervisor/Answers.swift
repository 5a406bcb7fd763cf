import Basics
import JSON
import POSIX
import Spool

/// Picking up the answers that respond(1) drops into answers/ (DroppedAnswer): flowspoold checks who
/// wrote each one and what it answers, makes it the execution's `response` or refuses it, and
/// leaves its verdict in verdicts/ for respond to print.
extension Supervisor {
    func scanAnswers() {
        answersNeedScan = false
        let box: Directory
        let entries: [(name: String, info: FileSystem.Status)]
        do {
            box = try Directory(spool.answers)
            entries = try Self.entriesOldestFirst(in: box)
        } catch {
            log.once("answers", "cannot read \(spool.answers): \(error)")
            return
        }
        // The first answer wins: judged in the order they were written, a batch at a time so that
        // a flood of answers does not hold up admissions and runners.
        if entries.count > Self.answerBatch { answersNeedScan = true }
        var asides = SetAsides()
        for (name, info) in entries.prefix(Self.answerBatch) {
            if name.hasPrefix(".") {
                // One that the gate or respond is still writing, unless it is a crash's leftover.
                guard info.modificationTime < Clock.now() - options.staleTemporaryAge else { continue }
                if info.isRegularFile { try? box.removeFile(name) } else { setAside(name, in: box, asides: &asides, because: "\(info.kind) under a hidden name") }
                continue
            }
            // Only complete regular files with one name: anything else is moved once, never walked.
            guard info.isRegularFile else {
                setAside(name, in: box, asides: &asides, because: "\(info.kind), where only files belong")
                continue
            }
            guard let answer = DroppedAnswer(fileName: name) else {
                setAside(name, in: box, asides: &asides, because: "a file not named ID.TOKEN")
                continue
            }
            guard !FileSystem.exists(spool.verdictPath(for: answer)) else {
                log.once("answers: token reused", "answers/: answers whose token has a verdict already are removed unjudged (a token taken from verdicts/)")
                try? box.removeFile(name)
                continue
            }
            settle(answer, in: box)
        }
        asides.report(to: log)
    }

    /// Judges one answer in `directory` (answers/ or held/), writes the verdict and removes the
    /// answer; one that came early moves to held/ instead, and waits there for its request.
    func settle(_ answer: DroppedAnswer, in directory: Directory, wasHeld: Bool = false) {
        // An answer that cannot be judged or whose verdict cannot be written now (a full disk)
        // stays where it is for the next look; judging it again is harmless.
        guard let verdict = judge(answer, in: directory) else { return }
        if verdict == .held {
            guard !wasHeld else { return }
            do {
                try directory.move(answer.fileName, to: Directory(spool.held), as: answer.fileName)
            } catch {
                log.once("held", "cannot keep early answers in \(spool.held) (they wait in the drop box): \(error)")
                return
            }
        }
        do {
            try spool.writeVerdict(verdict, on: answer, replacingHeld: wasHeld)
        } catch {
            log.once("verdicts", "cannot write verdicts into \(spool.verdicts) (answers wait where they are): \(error)")
            return
        }
        if verdict != .held { try? directory.removeFile(answer.fileName) }
    }

    /// Judges the answers held for `id`, now that it asks. With nil (at each rescan), those whose
    /// execution can no longer ask: ended, or no INPUT request after all; the others are not read.
    func settleHeldAnswers(for id: String? = nil) {
        guard let heldBox = try? Directory(spool.held), let entries = try? Self.entriesOldestFirst(in: heldBox) else { return }
        for (name, _) in entries {
            guard let answer = DroppedAnswer(fileName: name), id.map({ $0 == answer.id }) ?? !mayStillAsk(answer.id) else { continue }
            settle(answer, in: heldBox, wasHeld: true)
        }
    }

    /// Whether an execution an answer is held for may still ask: an INPUT job not admitted yet, or
    /// an INPUT execution that has not ended.
    func mayStillAsk(_ id: String) -> Bool {
        let execution = spool.execution(id)
        guard execution.exists else { return spool.job(knownAs: id)?.task == "INPUT" }
        return execution.status()?.isFinal != true && parked[id] == nil && (try? execution.job().task) == "INPUT"
    }

    /// How many answers wait in held/ for `id`.
    func heldCount(for id: String) -> Int {
        ((try? FileSystem.listDirectory(spool.held)) ?? []).count { $0.hasPrefix(id + ".") }
    }

    /// Each name in a directory with what fstatat says of it, in the order they were written.
    static func entriesOldestFirst(in directory: Directory) throws(SystemError) -> [(name: String, info: FileSystem.Status)] {
        try directory.entries()
            .compactMap { entry in ((try? directory.status(of: entry.name)) ?? nil).map { (entry.name, $0) } }
            .sorted { ($0.info.modificationTime, $0.name) < ($1.info.modificationTime, $1.name) }
    }

    /// What the drop box held that is no answer, moved aside in one rename into tmp/, which only
    /// the owner may write, and reported once per cause rather than once per name; the stale
    /// temporaries' cleanup removes it later, by descriptors.
    struct SetAsides {
        var byCause: [String: (count: Int, example: String)] = [:]
        /// tmp/, opened at the first set-aside of a scan.
        var tmp: Directory?

        func report(to log: SupervisorLog) {
            for (cause, tally) in byCause {
                log.once("answers aside: \(cause)", "answers/: \(cause): set aside into tmp/, \(tally.count) in all (such as '\(tally.example.escapingControlCharacters())'); only respond's gate writes answers there, as complete files named ID.TOKEN")
            }
        }
    }

    func setAside(_ name: String, in box: Directory, asides: inout SetAsides, because cause: String) {
        do {
            let tmp = try asides.tmp ?? Directory(spool.tmp)
            asides.tmp = tmp
            try box.move(name, to: tmp, as: "answer-aside." + Spool.randomToken())
            asides.byCause[cause, default: (0, String(name.prefix(64)))].count += 1
        } catch {
            log.once("answers aside", "cannot set aside what is no answer in \(spool.answers) (it is looked at again): \(error)")
        }
    }

    /// Decides on one dropped answer, and makes it the execution's response if it is taken; nil
    /// when it cannot be decided now.
    func judge(_ answer: DroppedAnswer, in directory: Directory) -> AnswerVerdict? {
        let content: [UInt8]
        let owner: UserID
        // An envelope holds the answer as a JSON string, which escaping may make up to six times longer.
        let limit = answer.onBehalf ? 6 * DroppedAnswer.maximumSize + 4096 : DroppedAnswer.maximumSize
        do {
            let fd = try directory.openFile(answer.fileName, .readOnly)
            defer { try? fd.close() }
            let info = try fd.status()
            guard info.isRegularFile else { return refuse(answer, "the answer is \(info.kind), not a file") }
            guard info.linkCount == 1 else {
                return refuse(answer, "the answer file has other names (hard links); respond writes a file of its own")
            }
            guard info.size <= limit else {
                return refuse(answer, "the answer is \(info.size) bytes; answers are limited to \(DroppedAnswer.maximumSize >> 20) MiB")
            }
            content = try fd.readAll(limit: limit)
            owner = info.owner
        } catch {
            return refuse(answer, "the answer cannot be read: \(error)")
        }
        let from: (value: String, name: String, via: String?)
        switch responder(of: answer, content: content, owner: owner) {
        case .success(let found): from = found
        case .failure(let refusal): return refusal.verdict
        }
        do {
            try spool.execution(answer.id).answer(from.value, by: from.name, token: answer.token)
        } catch .failed(_, let reason) {
            log.once("answer \(answer.fileName)", "\(answer.id): cannot take the answer from \(from.name) now; it waits in \(directory.path == spool.held ? "held/" : "the drop box"): \(reason)")
            return nil
        } catch where asksLater(answer.id, error) {
            guard directory.path != spool.held else { return .held }  // held already, and said so
            guard heldCount(for: answer.id) < Self.heldPerExecution else {
                return refuse(answer, "\(answer.id) has not asked yet, and \(Self.heldPerExecution) answers to it wait already; answer once it asks", by: from.name)
            }
            log.line("\(answer.id): answer from \(from.name) held until it asks")
            return .held
        } catch {
            return refuse(answer, refusal(of: answer.id, error).description, by: from.name)
        }
        log.line("\(answer.id) answered by \(from.name)" + (from.via.map { " via \($0)" } ?? ""))
        wake(answer.id)
        return .taken
    }

    /// A refused answer, as the error of `responder(of:)`.
    struct Refusal: Error { let verdict: AnswerVerdict }

    /// Who answered, and what: the file's owner, whom only the kernel sets; or, in an envelope that
    /// only the owner's and root's files may carry, the person the owner's program answers for.
    func responder(of answer: DroppedAnswer, content: [UInt8], owner: UserID) -> Result<(value: String, name: String, via: String?), Refusal> {
        var value = String(decoding: content, as: UTF8.self)
        var name = User.name(of: owner)
        var via: String?
        var uid = owner
        if answer.onBehalf {
            guard owner == User.root || owner == User.effective else {
                return .failure(Refusal(verdict: refuse(answer, "only the spool's owner answers on behalf of someone", by: name)))
            }
            guard let envelope = (try? JSON(parsing: content))?.objectValue, let text = envelope["value"]?.stringValue,
                  let someone = envelope["on_behalf_of"]?.stringValue, let channel = envelope["via"]?.stringValue else {
                return .failure(Refusal(verdict: refuse(answer, "an answer on behalf of someone must be {\"value\", \"on_behalf_of\", \"via\"}", by: name)))
            }
            guard text.utf8.count <= DroppedAnswer.maximumSize else {
                return .failure(Refusal(verdict: refuse(answer, "the answer is \(text.utf8.count) bytes; answers are limited to \(DroppedAnswer.maximumSize >> 20) MiB", by: name)))
            }
            guard let someoneID = User.id(named: someone) else {
                return .failure(Refusal(verdict: refuse(answer, RespondError.notPermitted(answer.id, "there is no user '\(someone.escapingControlCharacters())'").description, by: name)))
            }
            (value, name, via, uid) = (text, someone, channel, someoneID)
        }
        guard mayAnswer(uid) else {
            let group = options.roles.responders.map { "not in the responders' group \(Group.name(of: $0))" }
                ?? "and the spool has no responders' group (flowspoold --responders)"
            return .failure(Refusal(verdict: refuse(answer, RespondError.notPermitted(answer.id, "\(name) is not root, not \(User.name(of: User.effective)) (the spool's owner) and \(group)").description, by: name)))
        }
        return .success((value, name, via))
    }

    /// Whether an answer came before its execution asked: an INPUT job not admitted yet, or an
    /// INPUT execution that has not published its request. Such an answer is held, not refused.
    func asksLater(_ id: String, _ error: RespondError) -> Bool {
        switch error {
        case .notWaiting(_, let status): status?.isFinal != true
        case .unknown: spool.job(knownAs: id)?.task == "INPUT"
        default: false
        }
    }

    /// Why an answer is refused: a job not admitted yet that is no INPUT request is said to be one.
    func refusal(of id: String, _ error: RespondError) -> RespondError {
        guard case .unknown = error, spool.job(knownAs: id) != nil else { return error }
        return .notAnInputRequest(id)
    }

    /// How many answers may wait in held/ for one execution: the first wins, and a responder who
    /// answers in a loop must not fill the disk or the rescans.
    static let heldPerExecution = 16

    /// Root, the spool's owner, and the current members of the responders' group may answer.
    func mayAnswer(_ uid: UserID) -> Bool {
        if uid == User.root || uid == User.effective { return true }
        guard let group = options.roles.responders else { return false }
        return User.isMember(uid, of: group)
    }

    private func refuse(_ answer: DroppedAnswer, _ reason: String, by name: String? = nil) -> AnswerVerdict {
        log.line("\(answer.id): answer\(name.map { " from \($0)" } ?? "") refused: \(reason)")
        return .refused(reason)
    }

    /// Removes verdicts that respond has had time to read, and published requests whose execution
    /// no longer waits (a crash between the two steps leaves them behind).
    func tidyPublished() {
        let limit = Clock.now() - Self.verdictLifetime
        for name in (try? FileSystem.listDirectory(spool.verdicts)) ?? [] {
            let path = spool.verdicts + "/" + name
            if let info = try? FileSystem.status(path, followLinks: false), info.modificationTime < limit {
                try? FileSystem.removeTree(path)
            }
        }
        for name in (try? FileSystem.listDirectory(spool.requests)) ?? [] {
            let id = name.hasSuffix(".json") ? String(name.dropLast(5)) : name
            if parked[id] == nil { try? FileSystem.removeTree(spool.requests + "/" + name) }
        }
        settleHeldAnswers()
    }

    /// How many answers one pass judges before runners get their turn.
    static let answerBatch = 64

    /// How long a verdict stays for respond to read.
    static let verdictLifetime = 600.0
}
