import Basics
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

    /// The index as read: its bytes and where each line's fields are, found without making a string
    /// of any field but the id, as a list may show a hundred thousand lines.
    public struct Table: Sendable {
        public let bytes: [UInt8]
        public let lines: [Line]
        /// The last line of each id.
        public let lineOfID: [String: Int]

        public func text(_ range: Range<Int>) -> String {
            String(decoding: bytes[range], as: UTF8.self)
        }
    }

    /// One line: where its fields are in `Table.bytes`, and its times.
    public struct Line: Sendable {
        public let status: ExecutionStatus
        public let task: Range<Int>
        public let submitted: Double?
        public let started: Double?
        public let ended: Double?
        public let parent: Range<Int>?
        public let label: Range<Int>
    }

    /// The lines that read back; none when there is no index or it cannot be read.
    public func read() -> Table {
        let bytes = (try? FileSystem.readFile(path, limit: Self.sizeLimit, beneath: spool.root)) ?? []
        var lines: [Line] = []
        var lineOfID: [String: Int] = [:]
        lines.reserveCapacity(bytes.count / 96)
        lineOfID.reserveCapacity(bytes.count / 96)
        var lineStart = 0
        bytes.withUnsafeBufferPointer { buffer in
            for index in buffer.indices where buffer[index] == 0x0a {
                if let (id, line) = Self.parse(buffer, lineStart..<index) {
                    lineOfID[id] = lines.count
                    lines.append(line)
                }
                lineStart = index + 1
            }
        }
        return Table(bytes: bytes, lines: lines, lineOfID: lineOfID)
    }

    /// A line's id and fields; nil when it does not read as a line of the index. The id is not
    /// checked here: only ids of the executions/ directory, which are, are ever looked up.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, _ line: Range<Int>) -> (String, Line)? {
        var starts = InlineArray<8, Int>(repeating: line.lowerBound)  // where each field begins
        var found = 0
        for index in line where bytes[index] == 0x09 && found < 7 {
            found += 1
            starts[found] = index + 1
        }
        guard found == 7 else { return nil }
        func field(_ number: Int) -> Range<Int> {
            starts[number]..<(number == 7 ? line.upperBound : starts[number + 1] - 1)
        }
        func time(_ number: Int) -> Double?? {
            let digits = bytes[field(number)]
            if digits.count == 1 && digits.first == UInt8(ascii: "-") { return .some(nil) }
            guard !digits.isEmpty, digits.count <= 15 else { return nil }
            var value: Int64 = 0
            for digit in digits {
                guard (0x30...0x39).contains(digit) else { return nil }
                value = value * 10 + Int64(digit - 0x30)
            }
            return .some(Double(value) / 1000)
        }
        guard let status = ExecutionStatus(rawValue: String(decoding: bytes[field(1)], as: UTF8.self)), status.isFinal,
              let submitted = time(3), let started = time(4), let ended = time(5) else { return nil }
        // What is printed as it is must hold nothing a terminal would act on.
        let (task, label) = (field(2), field(7))
        guard !task.isEmpty, bytes[task].allSatisfy(isNameByte) else { return nil }
        if !bytes[label].allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) {
            let text = String(decoding: bytes[label], as: UTF8.self)
            guard text.escapingControlCharacters() == text else { return nil }
        }
        let parent = field(6)
        let noParent = parent.count == 1 && bytes[parent.lowerBound] == UInt8(ascii: "-")
        let line = Line(status: status, task: task, submitted: submitted, started: started, ended: ended,
                        parent: noParent ? nil : parent, label: label)
        return (String(decoding: bytes[field(0)], as: UTF8.self), line)
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
}
