/// The status words of an execution, as its `status` file holds them.
public enum ExecutionStatus: String, CaseIterable, Sendable {
    case queued, running, waiting, success, error, fault, cancelled

    /// success, error, fault and cancelled are final: nothing changes an execution after them.
    public var isFinal: Bool {
        switch self {
        case .queued, .running, .waiting: false
        case .success, .error, .fault, .cancelled: true
        }
    }

    /// Parses a status file's content ("success\n").
    public init?(fileContent: String) {
        var word = Substring(fileContent)
        while let last = word.last, last.isWhitespace { word.removeLast() }
        self.init(rawValue: String(word))
    }
}
