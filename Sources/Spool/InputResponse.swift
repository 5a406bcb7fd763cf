import JSON
import POSIX

/// What an INPUT request's `response` file says: an answer, or that the request was closed without
/// one. The file is made once, by link(2) (flowspool-spool(5), Writing files): by respond(1) with an answer, by the INPUT
/// runner when the timeout passes, by flowspoold when the execution is cancelled. Whoever comes
/// second finds it there.
public enum InputResponse: Equatable, Sendable {
    /// An answer, with the login name of whoever gave it, and when.
    case answered(value: String, by: String, at: Double)
    /// Closed without an answer: "expired" or "cancelled".
    case closed(String)

    var json: JSON {
        switch self {
        case .answered(let value, let by, let at): ["response": .string(value), "by": .string(by), "at": .string(Clock.iso8601(at))]
        case .closed(let reason): ["closed": .string(reason), "at": .string(Clock.iso8601(Clock.now()))]
        }
    }

    /// Makes `response` with this content unless it exists; false when it did. `token` names the
    /// dropped answer it comes from, so that judging that answer again finds it was taken.
    public func claim(in execution: Execution, token: String? = nil) throws(SystemError) -> Bool {
        var json = self.json
        if let token, case .object(var object) = json {
            object["token"] = .string(token)
            json = .object(object)
        }
        return try execution.spool.write(json.prettyText + "\n", to: execution.path(.response), mode: 0o600, .createOnce)
    }


    /// The response of an execution; nil when there is none yet. Only a regular file counts (a link
    /// or a FIFO is refused). Only the owner writes in an execution directory, so who answered is
    /// what the file says (flowspoold records the responder there), else the file's owner: a file
    /// that is not JSON is taken as a plain answer, as the owner's `echo yes > response` makes it.
    public static func read(from execution: Execution) throws(SystemError) -> InputResponse? {
        try readWithToken(from: execution)?.response
    }

    /// The response, and the token of the dropped answer that made it, if one did.
    static func readWithToken(from execution: Execution) throws(SystemError) -> (response: InputResponse, token: String?)? {
        let fd: FileDescriptor
        do {
            fd = try execution.spool.open(execution.path(.response), .readOnly)
        } catch where error.errno == .noSuchFileOrDirectory {
            return nil
        }
        defer { try? fd.close() }
        let info = try fd.status()
        let bytes = try fd.readAll(limit: 16 << 20)
        let owner = User.name(of: info.owner)
        guard let json = try? JSON(parsing: bytes), json.objectValue != nil else {
            var text = String(decoding: bytes, as: UTF8.self)
            if text.hasSuffix("\n") { text.removeLast() }
            return (.answered(value: text, by: owner, at: info.modificationTime), nil)
        }
        let token = json["token"]?.stringValue
        if let reason = json["closed"]?.stringValue { return (.closed(reason), token) }
        let at = json["at"]?.stringValue.flatMap(Clock.parseISO8601) ?? info.modificationTime
        let response = InputResponse.answered(
            value: json["response"]?.stringValue ?? json["response"]?.compactText ?? "",
            by: json["by"]?.stringValue ?? owner, at: at)
        return (response, token)
    }
}

/// Why an answer was not taken.
public enum RespondError: Error, CustomStringConvertible, Equatable {
    case notAnID(String)
    case unknown(String)
    case notAnInputRequest(String)
    case notWaiting(String, ExecutionStatus?)
    case alreadyAnswered(String)
    case expired(String)
    case ended(String, ExecutionStatus)
    case notPermitted(String, String)
    case failed(String, String)

    public var description: String {
        switch self {
        case .notAnID(let id): "'\(id)' is not an execution id"
        case .unknown(let id): "no execution \(id)"
        case .notAnInputRequest(let id): "\(id) is not an INPUT request"
        case .notWaiting(let id, let status): "\(id) is not waiting for an answer yet (it is \(status?.rawValue ?? "unknown"))"
        case .alreadyAnswered(let id): "\(id) was already answered"
        case .expired(let id): "the input request \(id) expired"
        case .ended(let id, let status): "\(id) has ended already (\(status.rawValue))"
        case .notPermitted(let id, let reason): "you may not answer \(id): \(reason)"
        case .failed(let id, let reason): "cannot answer \(id): \(reason)"
        }
    }
}

extension Execution {
    /// Answers this INPUT request for `responder`; the first answer wins. flowspoold calls it for
    /// the answers it picks up from the drop box, once it has checked who gave them. Judging the
    /// same dropped answer (`token`) again, after a crash or a full disk, finds it taken.
    public func answer(_ value: String, by responder: String, token: String, at time: Double = Clock.now()) throws(RespondError) {
        guard exists else { throw .unknown(id) }
        // Read once: an answer judged again after a crash finds its own token; a crowd of late
        // answers costs no write each.
        let earlier = (try? InputResponse.readWithToken(from: self)) ?? nil
        if let earlier, earlier.token == token { return }
        let status = self.status()
        guard let request = InputRequest.read(from: self) else {
            if let status, status.isFinal { throw .ended(id, status) }
            if FileSystem.exists(path(.wake)) || ((try? job().task) ?? "INPUT") == "INPUT" { throw .notWaiting(id, status) }
            throw .notAnInputRequest(id)
        }
        if let deadline = request.deadline, time >= deadline { throw .expired(id) }
        if let earlier { throw lateAnswer(earlier.response, status) }
        let taken: Bool
        do {
            taken = try InputResponse.answered(value: value, by: responder, at: time).claim(in: self, token: token)
        } catch {
            throw .failed(id, error.description)
        }
        guard !taken else { return }
        throw lateAnswer((try? InputResponse.read(from: self)) ?? nil, status)
    }

    /// Why an answer that came after the response was made is not taken.
    private func lateAnswer(_ response: InputResponse?, _ status: ExecutionStatus?) -> RespondError {
        switch response {
        case .closed("expired")?: .expired(id)
        case .closed?: .ended(id, status ?? .cancelled)
        default: .alreadyAnswered(id)
        }
    }
}
