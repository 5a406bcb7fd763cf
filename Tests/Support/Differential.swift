import JSON
import Testing

/// One place where flowspool's result and its reference client's result differ.
public struct Mismatch: Equatable, Sendable, CustomStringConvertible {
    /// Where, as `result.Messages[0].Body`.
    public let path: String
    public let ours: JSON?
    public let reference: JSON?

    public init(path: String, ours: JSON?, reference: JSON?) {
        self.path = path
        self.ours = ours
        self.reference = reference
    }

    /// The last name of the path, without an index: `Body` for `result.Messages[0].Body`.
    public var field: String {
        let last = path.split(separator: ".").last.map(String.init) ?? path
        return String(last.prefix { $0 != "[" })
    }

    public var description: String {
        "\(path): flowspool \(ours?.compactText ?? "(absent)"), reference \(reference?.compactText ?? "(absent)")"
    }
}

/// A difference between a task type and its reference client that flowspool keeps on purpose. Each
/// is listed in `Differences.all` and, by its name, in flowspool-tasks(7): the list is closed, so a
/// mismatch no entry explains fails the differential suite, and so does an entry no case meets.
public struct DocumentedDifference: Sendable {
    public let taskType: String
    /// A short name, as it appears in flowspool-tasks(7): `REST cookies stay on their host`.
    public let name: String
    /// Whether this difference explains `mismatch`, met in the case named `caseName`.
    public let explains: @Sendable (_ caseName: String, _ mismatch: Mismatch) -> Bool

    public init(_ taskType: String, _ name: String, explains: @escaping @Sendable (_ caseName: String, _ mismatch: Mismatch) -> Bool) {
        self.taskType = taskType
        self.name = name
        self.explains = explains
    }
}

/// Compares results field by field and accounts for every mismatch.
public enum Differential {
    /// Every place where `ours` and `reference` differ, at any depth: a key in one and not the other,
    /// arrays of different lengths, or different values. Paths `volatile` accepts hold values that
    /// differ from one call to the next (ids, times, request ids): only their presence is compared.
    public static func mismatches(
        _ ours: JSON?, _ reference: JSON?, at path: String = "result", volatile: (String) -> Bool = { _ in false }
    ) -> [Mismatch] {
        switch (ours, reference) {
        case (.object(let a)?, .object(let b)?):
            let keys = a.keys + b.keys.filter { a[$0] == nil }
            return keys.flatMap { mismatches(a[$0], b[$0], at: path + "." + $0, volatile: volatile) }
        case (.array(let a)?, .array(let b)?):
            let paired = zip(a, b).enumerated().flatMap { index, pair in
                mismatches(pair.0, pair.1, at: "\(path)[\(index)]", volatile: volatile)
            }
            let unpaired = a.count == b.count ? [] : [Mismatch(path: path + ".count", ours: .int(a.count), reference: .int(b.count))]
            return paired + unpaired
        default:
            if ours == reference { return [] }
            if ours != nil && reference != nil && volatile(path) { return [] }
            return [Mismatch(path: path, ours: ours, reference: reference)]
        }
    }

    /// A run of one task type's table of cases: what each case found, and which documented
    /// differences explained it. `finish()` fails the test for what nothing explains and for an
    /// entry of the list that no case met, and prints the counts for the closing note.
    public final class Ledger {
        public let taskType: String
        public private(set) var cases = 0
        private var met: Set<String> = []
        private let differences: [DocumentedDifference]

        public init(_ taskType: String) {
            self.taskType = taskType
            differences = Differences.all.filter { $0.taskType == taskType }
        }

        /// Accounts for one case's mismatches: each must be explained by a documented difference.
        public func record(_ caseName: String, _ found: [Mismatch], sourceLocation: SourceLocation = #_sourceLocation) {
            cases += 1
            for mismatch in found {
                if let difference = differences.first(where: { $0.explains(caseName, mismatch) }) {
                    met.insert(difference.name)
                } else {
                    Issue.record("\(taskType) case '\(caseName)' differs from the reference client, and no documented difference explains it: \(mismatch)",
                                 sourceLocation: sourceLocation)
                }
            }
        }

        /// Fails for each documented difference of this task type that no case met (the list would
        /// be stale), and prints the case count.
        public func finish(sourceLocation: SourceLocation = #_sourceLocation) {
            for difference in differences where !met.contains(difference.name) {
                Issue.record("\(taskType): the documented difference '\(difference.name)' was met by none of the \(cases) cases",
                             sourceLocation: sourceLocation)
            }
            print("differential \(taskType): \(cases) cases, \(met.count) of \(differences.count) documented differences met")
        }
    }
}
