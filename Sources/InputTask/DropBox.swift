import Spool
import POSIX

/// The answers drop box, as Postfix's maildrop/ is for postdrop: respond(1) writes each answer into
/// answers/, which the responders' group may write but not read; flowspoold picks it up, checks
/// who wrote it and what it answers, makes it the execution's `response` or refuses it, and writes
/// its verdict into verdicts/, where respond waits for it.
///
/// An answer is answers/ID.TOKEN holding the value, written whole under a dot name first and then
/// renamed; TOKEN is 16 random hexadecimal digits, which also name the verdict, verdicts/TOKEN.
public struct DroppedAnswer: Equatable, Sendable {
    public let id: String
    public let token: String

    public init(id: String, token: String) {
        self.id = id
        self.token = token
    }

    /// The answer a drop-box name stands for; nil for a name that is not ID.TOKEN.
    public init?(fileName: String) {
        guard let dot = fileName.lastIndex(of: "."), !fileName.hasPrefix(".") else { return nil }
        let id = String(fileName[..<dot])
        let token = String(fileName[fileName.index(after: dot)...])
        guard ExecutionID.isValid(id), Self.isToken(token) else { return nil }
        self.init(id: id, token: token)
    }

    public var fileName: String { id + "." + token }

    static func isToken(_ text: String) -> Bool {
        text.utf8.count == 16 && text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }

    static func newToken() -> String { Spool.randomToken() }

    /// Answers are limited like job files: a drop box is no place for large files.
    public static let maximumSize = 1 << 20
}

/// flowspoold's word on a dropped answer.
public enum AnswerVerdict: Equatable, Sendable {
    case taken
    /// Refused, with the reason respond prints.
    case refused(String)

    var fileContent: String {
        switch self {
        case .taken: "taken\n"
        case .refused(let reason): "refused " + reason.escapingControlCharacters() + "\n"
        }
    }

    init?(fileContent text: String) {
        if text == "taken\n" {
            self = .taken
        } else if text.hasPrefix("refused "), text.hasSuffix("\n") {
            self = .refused(String(text.dropFirst(8).dropLast()))
        } else {
            return nil
        }
    }
}

extension Spool {
    /// respond's side: drops `value` as an answer to `id` and returns what names it.
    public func dropAnswer(_ value: [UInt8], for id: String) throws(SystemError) -> DroppedAnswer {
        let answer = DroppedAnswer(id: id, token: DroppedAnswer.newToken())
        // Readable by flowspoold's user, which need not be in the responders' group; nobody else can
        // find it, as the drop box cannot be listed and the token is not guessable.
        try placeInItsDirectory(value, at: answers + "/" + answer.fileName, mode: 0o644, replacing: false, sync: true)
        return answer
    }

    public func verdictPath(for answer: DroppedAnswer) -> String { verdicts + "/" + answer.token }

    /// flowspoold's verdict on a dropped answer; nil while there is none.
    public func verdict(on answer: DroppedAnswer) throws(SystemError) -> AnswerVerdict? {
        guard let text = try readText(verdictPath(for: answer)) else { return nil }
        return AnswerVerdict(fileContent: text)
    }

    /// flowspoold's side: writes the verdict where respond waits for it. A verdict is never
    /// replaced, so that an answer dropped under someone else's token (responders can list
    /// verdicts/) cannot change what their respond reports: .fileExists then.
    public func writeVerdict(_ verdict: AnswerVerdict, on answer: DroppedAnswer) throws(SystemError) {
        try publish(verdict.fileContent, to: verdictPath(for: answer), replacing: false)
    }
}
