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
