import Spool

/// The control FIFO's lines, read from the bytes as they come (flowspool-spool(5)): `cancel ID
/// [CAUSE]`, `rescan`, `stop`, and from runners `ended ID` and `ending ID`. A line longer than
/// `lineLimit` is dropped as it comes, never held whole. No I/O: the caller reads the FIFO.
struct ControlReader {
    enum Command: Equatable {
        /// `cancel ID [CAUSE]`, with the cause for the execution's message.
        case cancel(String, cause: String)
        /// A runner's word that it has ended its execution.
        case ended(String)
        /// A runner's word that it has done its task but the disk refuses its end.
        case ending(String)
        case rescan
        case stop
        /// A line that is no command, as it came (at most 80 characters of it).
        case unknown(String)
        /// A line longer than `lineLimit`, dropped.
        case tooLong
    }

    /// The longest control line taken: a command names at most an execution id.
    static let lineLimit = 4096

    private var buffer: [UInt8] = []
    /// Whether the rest of a line that grew past the limit is being dropped.
    private var dropping = false

    /// The commands completed by `bytes`, in order; an empty line is none.
    mutating func take(_ bytes: [UInt8]) -> [Command] {
        buffer += bytes
        var commands: [Command] = []
        while true {
            guard let newline = buffer.firstIndex(of: 0x0a) else {
                if buffer.count > Self.lineLimit {
                    buffer.removeAll(keepingCapacity: false)
                    dropping = true
                    commands.append(.tooLong)
                }
                return commands
            }
            let tooLong = dropping || newline > Self.lineLimit
            let line = tooLong ? "" : String(decoding: buffer[..<newline], as: UTF8.self)
            buffer.removeSubrange(...newline)
            if tooLong {
                dropping = false
                commands.append(.tooLong)
            } else if let command = Self.parse(line) {
                commands.append(command)
            }
        }
    }

    /// The command of one line; nil for an empty one.
    static func parse(_ line: String) -> Command? {
        let words = line.split(separator: " ").map(String.init)
        switch (words.first, words.count) {
        case ("cancel", 2...): return .cancel(words[1], cause: cancelCause(words.dropFirst(2)))
        case ("ended", 2): return .ended(words[1])
        case ("ending", 2): return .ending(words[1])
        case ("rescan", 1): return .rescan
        case ("stop", 1): return .stop
        case (nil, _): return nil
        default: return .unknown(String(line.prefix(80)))
        }
    }

    /// The cause a `cancel ID [CAUSE]` line gives, for the execution's message: what the program
    /// that asked says it is ("flowspool run --timeout 30s"); `flowspool cancel` when none is given.
    static func cancelCause(_ words: ArraySlice<String>) -> String {
        words.isEmpty ? "flowspool cancel" : String(words.joined(separator: " ").prefix(200)).escapingControlCharacters()
    }
}
