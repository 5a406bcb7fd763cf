import InputTask
import POSIX
import Spool

/// Picking up the answers that respond(1) drops into answers/ (DroppedAnswer): flowspoold checks who
/// wrote each one and what it answers, makes it the execution's `response` or refuses it, and
/// leaves its verdict in verdicts/ for respond to print.
extension Supervisor {
    func scanAnswers() {
        answersNeedScan = false
        let entries: [(name: String, time: Double)]
        do {
            entries = try FileSystem.listDirectory(spool.answers).map { name in
                (name, ((try? FileSystem.status(spool.answers + "/" + name, followLinks: false)) ?? nil)?.modificationTime ?? 0)
            }
        } catch {
            log.once("answers", "cannot read \(spool.answers): \(error)")
            return
        }
        // The first answer wins: judged in the order they were written, a batch at a time so that
        // a flood of answers does not hold up admissions and runners.
        let ordered = entries.sorted(by: { ($0.time, $0.name) < ($1.time, $1.name) })
        if ordered.count > Self.answerBatch { answersNeedScan = true }
        for (name, time) in ordered.prefix(Self.answerBatch) {
            let path = spool.answers + "/" + name
            if name.hasPrefix(".") {
                // One that respond is still writing, unless it is old enough to be a crash's leftover.
                if time < Clock.now() - options.staleTemporaryAge { try? FileSystem.removeTree(path) }
                continue
            }
            guard let answer = DroppedAnswer(fileName: name) else {
                log.line("answers/\(name): removed, not an answer (respond names them ID.TOKEN)")
                try? FileSystem.removeTree(path)
                continue
            }
            guard !FileSystem.exists(spool.verdictPath(for: answer)) else {
                log.line("answers/\(name): removed unjudged, its token has a verdict already (a token taken from verdicts/)")
                try? FileSystem.removeTree(path)
                continue
            }
            // An answer that cannot be judged or whose verdict cannot be written now (a full disk)
            // stays in the drop box for the next look; judging it again is harmless.
            guard let verdict = judge(answer, at: path) else { continue }
            do {
                try spool.writeVerdict(verdict, on: answer)
            } catch {
                log.once("verdicts", "cannot write verdicts into \(spool.verdicts) (answers wait in the drop box): \(error)")
                continue
            }
            try? FileSystem.removeTree(path)
        }
    }

    /// Decides on one dropped answer, and makes it the execution's response if it is taken; nil
    /// when it cannot be decided now.
    func judge(_ answer: DroppedAnswer, at path: String) -> AnswerVerdict? {
        let value: [UInt8]
        let responder: UserID
        do {
            let fd = try spool.open(path, .readOnly)
            defer { try? fd.close() }
            let info = try fd.status()
            guard info.linkCount == 1 else {
                return refuse(answer, "the answer file has other names (hard links); respond writes a file of its own")
            }
            guard info.size <= DroppedAnswer.maximumSize else {
                return refuse(answer, "the answer is \(info.size) bytes; answers are limited to \(DroppedAnswer.maximumSize >> 20) MiB")
            }
            value = try fd.readAll(limit: DroppedAnswer.maximumSize)
            responder = info.owner
        } catch {
            return refuse(answer, "the answer cannot be read: \(error)")
        }
        let name = User.name(of: responder)
        guard mayAnswer(responder) else {
            let group = options.roles.responders.map { "not in the responders' group \(Group.name(of: $0))" }
                ?? "and the spool has no responders' group (flowspoold --responders)"
            return refuse(answer, RespondError.notPermitted(answer.id, "\(name) is not root, not \(User.name(of: User.effective)) (the spool's owner) and \(group)").description, by: name)
        }
        do {
            try spool.execution(answer.id).answer(String(decoding: value, as: UTF8.self), by: name, token: answer.token)
        } catch .failed(_, let reason) {
            log.once("answer \(answer.fileName)", "\(answer.id): cannot take the answer from \(name) now; it waits in the drop box: \(reason)")
            return nil
        } catch {
            return refuse(answer, error.description, by: name)
        }
        log.line("\(answer.id) answered by \(name)")
        wake(answer.id)
        return .taken
    }

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
    }

    /// How many answers one pass judges before runners get their turn.
    static let answerBatch = 64

    /// How long a verdict stays for respond to read.
    static let verdictLifetime = 600.0
}
