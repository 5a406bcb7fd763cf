import JSON
import POSIX

extension Spool {
    /// Drops a job into incoming/ the way every writer must: whole under tmp/, then renamed without
    /// replacing anything, then a poke at the trigger FIFO. Returns the execution id it will have.
    ///
    /// With `durable: false` the job file is not fsynced: for a flow's children, whose only witness
    /// is the flow process. Admission makes them durable before they run; a machine crash before
    /// that takes them down together with the flow, which then ends `fault`.
    public func submit(_ job: Job, id requestedID: String? = nil, durable: Bool = true) throws(SubmissionError) -> String {
        if let requestedID, !ExecutionID.isValid(requestedID) {
            throw SubmissionError("'\(requestedID)' is not a valid execution id (1 to 64 letters, digits, '_', '-', '.')")
        }
        let bytes = Array((job.document().compactText + "\n").utf8)
        for _ in 0..<16 {
            let id = requestedID ?? ExecutionID.generate()
            if execution(id).exists || FileSystem.exists(failureReason(ofJobNamed: id + ".json")) {
                if requestedID != nil {
                    throw SubmissionError("the id '\(id)' is taken by an execution or a job in failed/; choose another")
                }
                continue
            }
            let placed: Bool
            do {
                placed = try place(bytes, at: incoming + "/" + id + ".json", durable: durable)
            } catch {
                throw SubmissionError("cannot submit the job to \(root): \(error)")
            }
            if !placed {
                if requestedID != nil { throw SubmissionError("a job named '\(id)' is waiting in incoming/ already") }
                continue
            }
            pokeTrigger()
            return id
        }
        throw SubmissionError("could not find a free execution id in \(root)")
    }

    /// Writes `bytes` under tmp/ and renames the file to `target` unless that exists; false if it does.
    private func place(_ bytes: [UInt8], at target: String, durable: Bool) throws(SystemError) -> Bool {
        let temporary = try writeTemporary(FileContent(target, bytes), sync: durable)
        defer { try? FileSystem.removeIfPresent(temporary) }
        do {
            try FileSystem.renameNoReplace(temporary, target)
        } catch where error.errno == .fileExists {
            return false
        }
        if durable { try FileSystem.syncDirectory(incoming) }
        return true
    }
}

public struct SubmissionError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
