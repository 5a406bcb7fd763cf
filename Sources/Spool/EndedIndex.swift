import POSIX

/// spool/index: what `flowspool list` shows of each ended execution, one line each, so that a list
/// of many executions reads one file rather than four per execution. A cache, never the truth: only
/// final states are in it (a final status never changes), the executions/ directory decides which
/// executions exist, and an execution missing from it, or on a line that does not read back, is read
/// from its own files and added. Lines are appended with one write(2) each batch; a later line for
/// the same id wins (flowspool-spool(5)).
public struct EndedIndex: Sendable {
    public let spool: Spool

    public init(spool: Spool) {
        self.spool = spool
    }

    public var path: String { spool.root + "/index" }

    /// What `list` shows of one ended execution.
    public struct Entry: Sendable, Equatable {
        public let id: String
        public let status: ExecutionStatus
        public let task: String
        public let submitted: Double?
        public let started: Double?
        public let ended: Double?
        public let parent: String?
        /// The job's name, else the first line of the message: control characters escaped.
        public let label: String

        public init(id: String, status: ExecutionStatus, task: String, submitted: Double?, started: Double?, ended: Double?, parent: String?, label: String) {
            self.id = id
            self.status = status
            self.task = task
            self.submitted = submitted
            self.started = started
            self.ended = ended
            self.parent = parent
            self.label = label
        }
    }

    /// The most the index may grow to before it is ignored (and read from the files instead).
    static let sizeLimit = 256 << 20

    /// The entries by id; empty when there is no index or it cannot be read.
    public func read() -> [String: Entry] {
        guard let bytes = try? spool.readFile(path, limit: Self.sizeLimit) else { return [:] }
        var entries: [String: Entry] = [:]
        entries.reserveCapacity(bytes.count / 96)
        var lineStart = 0
        for index in bytes.indices where bytes[index] == 0x0a {
            if let entry = Entry(line: bytes[lineStart..<index]) { entries[entry.id] = entry }
            lineStart = index + 1
        }
        return entries
    }

    /// Adds entries with one write; false when they could not be written (they are read from the
    /// files next time).
    @discardableResult
    public func append(_ entries: [Entry]) -> Bool {
        guard !entries.isEmpty else { return true }
        return (try? spool.append(path, entries.map(\.line).joined())) != nil
    }
}

extension EndedIndex.Entry {
    /// ID, status, task, submitted, started, ended, parent and label, separated by tabs; times in
    /// seconds since 1970 with milliseconds, '-' for none.
    var line: String {
        func time(_ value: Double?) -> String {
            value.map { String(Int64(($0 * 1000).rounded())) } ?? "-"
        }
        return [id, status.rawValue, task, time(submitted), time(started), time(ended), parent ?? "-", label.escapingControlCharacters()]
            .joined(separator: "\t") + "\n"
    }

    /// Reads a line back; nil when it does not read as one. Its id is not checked here: only ids
    /// of the executions/ directory, which are, are ever looked up.
    init?(line: ArraySlice<UInt8>) {
        // The bounds of the eight fields, found in one pass (a list reads one line per execution).
        var bounds: [Range<Int>] = []
        bounds.reserveCapacity(8)
        var start = line.startIndex
        for index in line.indices where line[index] == 0x09 && bounds.count < 7 {
            bounds.append(start..<index)
            start = index + 1
        }
        bounds.append(start..<line.endIndex)
        guard bounds.count == 8 else { return nil }
        func text(_ field: Int) -> String { String(decoding: line[bounds[field]], as: UTF8.self) }
        func time(_ field: Int) -> Double?? {
            var value: Int64 = 0
            let digits = line[bounds[field]]
            if digits.elementsEqual("-".utf8) { return .some(nil) }
            guard !digits.isEmpty, digits.count <= 15 else { return nil }
            for digit in digits {
                guard (0x30...0x39).contains(digit) else { return nil }
                value = value * 10 + Int64(digit - 0x30)
            }
            return .some(Double(value) / 1000)
        }
        guard let status = ExecutionStatus(rawValue: text(1)), status.isFinal,
              let submitted = time(3), let started = time(4), let ended = time(5) else { return nil }
        let id = text(0)
        let parent = text(6)
        self.init(id: id, status: status, task: text(2), submitted: submitted, started: started, ended: ended,
                  parent: parent == "-" ? nil : parent, label: text(7))
    }
}
