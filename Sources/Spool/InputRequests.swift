#if canImport(Glibc)
import Glibc
#endif
import JSON
import POSIX

/// An INPUT execution's question, as request.json holds it: readable by the spool's group, so
/// that the people who answer can list it (flowspool inputs) without reading inputs.json.
public struct InputRequest: Sendable {
    public let id: String
    public let request: String
    public let reference: String
    /// When it was asked and when it expires (nil: never), in seconds since the epoch.
    public let asked: Double
    public let deadline: Double?

    public init(id: String, request: String, reference: String, asked: Double, deadline: Double?) {
        self.id = id
        self.request = request
        self.reference = reference
        self.asked = asked
        self.deadline = deadline
    }

    public var json: JSON {
        [
            "id": .string(id), "request": .string(request), "reference": .string(reference),
            "asked": .string(Clock.iso8601(asked)), "deadline": deadline.map { .string(Clock.iso8601($0)) } ?? .null,
        ]
    }

    public func write(to execution: Execution) throws(SystemError) {
        try execution.spool.commit(json.prettyText + "\n", to: execution.path(.request), mode: 0o640)
    }

    public static func read(from execution: Execution) -> InputRequest? {
        guard let bytes = try? FileSystem.readFile(execution.path(.request)), let json = try? JSON(parsing: bytes),
              let request = json["request"]?.stringValue, let asked = json["asked"]?.stringValue.flatMap(Clock.parseISO8601)
        else { return nil }
        return InputRequest(
            id: execution.id, request: request, reference: json["reference"]?.stringValue ?? "", asked: asked,
            deadline: json["deadline"]?.stringValue.flatMap(Clock.parseISO8601))
    }
}

/// An answer to an INPUT request, as `response` holds it: the value, who gave it and when.
public struct InputAnswer: Sendable {
    public let value: String
    public let by: String
    public let at: Double

    public init(value: String, by: String, at: Double) {
        self.value = value
        self.by = by
        self.at = at
    }

    var json: JSON {
        ["response": .string(value), "by": .string(by), "at": .string(Clock.iso8601(at))]
    }

    public static func read(from execution: Execution) -> InputAnswer? {
        guard let bytes = try? FileSystem.readFile(execution.path(.response)), let json = try? JSON(parsing: bytes),
              let value = json["response"]?.stringValue else { return nil }
        return InputAnswer(
            value: value, by: json["by"]?.stringValue ?? "?", at: json["at"]?.stringValue.flatMap(Clock.parseISO8601) ?? 0)
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
    /// Answers this INPUT request. First answer wins (DESIGN rule 2): the answer is written whole to a
    /// fresh file in the execution directory and linked to `response`; a second link fails with EEXIST.
    public func answer(_ value: String, by person: String = User.name(), at time: Double = Clock.now()) throws(RespondError) {
        guard FileSystem.exists(directory) else { throw .unknown(id) }
        let status = self.status()
        guard let request = InputRequest.read(from: self) else {
            if let status, status.isFinal { throw .ended(id, status) }
            if FileSystem.exists(path(.wake)) || ((try? job().task) ?? "INPUT") == "INPUT" { throw .notWaiting(id, status) }
            throw .notAnInputRequest(id)
        }
        if FileSystem.exists(path(.response)) { throw .alreadyAnswered(id) }
        if let status, status.isFinal {
            throw message()?.hasPrefix("input request expired") == true ? .expired(id) : .ended(id, status)
        }
        if let deadline = request.deadline, time >= deadline { throw .expired(id) }
        let temporary = directory + "/.response.\(getpid())"
        let bytes = Array((InputAnswer(value: value, by: person, at: time).json.prettyText + "\n").utf8)
        do {
            try FileSystem.writeFile(temporary, bytes, mode: 0o640, exclusive: true)
        } catch where error.errno == EACCES || error.errno == EPERM {
            throw .notPermitted(id, "no write access to its directory (answering takes membership of the spool's group; see respond(1))")
        } catch {
            throw .failed(id, error.description)
        }
        defer { try? FileSystem.removeIfPresent(temporary) }
        do {
            try FileSystem.link(temporary, path(.response))
            try FileSystem.syncDirectory(directory)
        } catch where error.errno == EEXIST {
            throw .alreadyAnswered(id)
        } catch {
            throw .failed(id, error.description)
        }
    }
}

extension Spool {
    /// The INPUT requests waiting for an answer, oldest first.
    public func pendingInputs() -> [InputRequest] {
        let ids = ((try? FileSystem.listDirectory(executions)) ?? []).filter { ExecutionID.isValid($0) }
        return ids.compactMap { id -> InputRequest? in
            let execution = execution(id)
            guard execution.status() == .waiting, !FileSystem.exists(execution.path(.response)),
                  let request = InputRequest.read(from: execution) else { return nil }
            if let deadline = request.deadline, Clock.now() >= deadline { return nil }
            return request
        }.sorted { ($0.asked, $0.id) < ($1.asked, $1.id) }
    }
}
