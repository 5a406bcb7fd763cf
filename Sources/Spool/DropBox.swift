import Basics
import JSON
import POSIX

/// The answers drop box, as Postfix's maildrop/ is for postdrop: respond(1) has the gate,
/// flowspool-drop (DropGate), write each answer into answers/, which only that setgid program and
/// the spool's owner may write; flowspoold picks it up, checks who wrote it and what it answers,
/// makes it the execution's `response` or refuses it, and writes its verdict into verdicts/, where
/// respond waits for it.
///
/// An answer is answers/ID.TOKEN holding the value, written whole under a dot name first and then
/// renamed; TOKEN is 16 random hexadecimal digits, which also name the verdict, verdicts/TOKEN.
/// The spool's owner may also drop answers/ID.TOKEN.json, `{"value": ..., "on_behalf_of": NAME,
/// "via": "cluster"}`: an answer its own programs took from someone else (`onBehalf`), which
/// flowspoold takes only from a file of the owner's or root's.
public struct DroppedAnswer: Equatable, Sendable {
    public let id: String
    public let token: String
    /// Written by the owner for someone else: the file holds the JSON envelope.
    public let onBehalf: Bool

    public init(id: String, token: String, onBehalf: Bool = false) {
        self.id = id
        self.token = token
        self.onBehalf = onBehalf
    }

    /// The answer a drop-box name stands for; nil for a name that is not ID.TOKEN or ID.TOKEN.json.
    public init?(fileName: String) {
        let onBehalf = fileName.hasSuffix(Self.onBehalfSuffix)
        let stem = onBehalf ? String(fileName.dropLast(Self.onBehalfSuffix.utf8.count)) : fileName
        guard let dot = stem.lastIndex(of: "."), !stem.hasPrefix(".") else { return nil }
        let id = String(stem[..<dot])
        let token = String(stem[stem.index(after: dot)...])
        guard ExecutionID.isValid(id), Self.isToken(token) else { return nil }
        self.init(id: id, token: token, onBehalf: onBehalf)
    }

    public var fileName: String { id + "." + token + (onBehalf ? Self.onBehalfSuffix : "") }

    static let onBehalfSuffix = ".json"

    static func isToken(_ text: String) -> Bool {
        text.utf8.count == 16 && text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }

    public static func newToken() -> String { Spool.randomToken() }

    /// Answers are limited like job files: a drop box is no place for large files.
    public static let maximumSize = 1 << 20
}

/// flowspoold's word on a dropped answer.
public enum AnswerVerdict: Equatable, Sendable {
    case taken
    /// Refused, with the reason respond prints.
    case refused(String)
    /// Kept until the execution asks (an answer that came early); judged then.
    case held

    var fileContent: String {
        switch self {
        case .taken: "taken\n"
        case .refused(let reason): "refused " + reason.escapingControlCharacters() + "\n"
        case .held: "held\n"
        }
    }

    init?(fileContent text: String) {
        if text == "taken\n" {
            self = .taken
        } else if text == "held\n" {
            self = .held
        } else if text.hasPrefix("refused "), text.hasSuffix("\n") {
            self = .refused(String(text.dropFirst(8).dropLast()))
        } else {
            return nil
        }
    }
}

extension Spool {
    /// The owner's and root's side: drops `value` as an answer to `id` straight into answers/,
    /// which they may write, and returns what names it. With `onBehalfOf`, the answer is one the
    /// owner's own program took from someone else (`via` names the program: cluster, web).
    public func dropAnswer(_ value: [UInt8], for id: String, onBehalfOf: (name: String, via: String)? = nil) throws(SystemError) -> DroppedAnswer {
        let answer = DroppedAnswer(id: id, token: DroppedAnswer.newToken(), onBehalf: onBehalfOf != nil)
        let bytes = onBehalfOf.map { someone in
            Array(JSON.object(["value": .string(String(decoding: value, as: UTF8.self)), "on_behalf_of": .string(someone.name), "via": .string(someone.via)]).compactText.utf8)
        } ?? value
        let path = answers + "/" + answer.fileName
        guard try write([FileContent(path, bytes, mode: 0o444)], WritePolicy(.noReplace, staging: .besideTarget, durability: .file)) else {
            throw SystemError("renameat2", path: path, errno: .fileExists, reason: "an answer of that token is there already")
        }
        return answer
    }

    public func verdictPath(for answer: DroppedAnswer) -> String { verdicts + "/" + answer.token }

    /// flowspoold's verdict on a dropped answer; nil while there is none.
    public func verdict(on answer: DroppedAnswer) throws(SystemError) -> AnswerVerdict? {
        guard let text = try FileSystem.readText(verdictPath(for: answer), beneath: root) else { return nil }
        return AnswerVerdict(fileContent: text)
    }

    /// flowspoold's side: writes the verdict where respond waits for it. A verdict is never
    /// replaced, so that an answer dropped under someone else's token (responders can list
    /// verdicts/) cannot change what their respond reports: .fileExists then.
    public func writeVerdict(_ verdict: AnswerVerdict, on answer: DroppedAnswer, replacingHeld: Bool = false) throws(SystemError) {
        let path = verdictPath(for: answer)
        guard try write(verdict.fileContent, to: path, mode: 0o640, .published(replacing: replacingHeld)) else {
            throw SystemError("renameat2", path: path, errno: .fileExists, reason: "a verdict is never replaced")
        }
    }
}
