import JSON
import Spool
import POSIX

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
        try placeInItsDirectory(bytes, at: answers + "/" + answer.fileName, mode: 0o444, replacing: false, sync: true)
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
    public func writeVerdict(_ verdict: AnswerVerdict, on answer: DroppedAnswer, replacingHeld: Bool = false) throws(SystemError) {
        try publish(verdict.fileContent, to: verdictPath(for: answer), replacing: replacingHeld)
    }
}
