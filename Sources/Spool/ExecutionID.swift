import POSIX

/// Execution ids: the names of directories under executions/, typed by people into `respond`.
public enum ExecutionID {
    /// Crockford's base32, lower case: no i, l, o or u to misread. Its order is the order of the values,
    /// so generated ids sort by submission time.
    static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz")
    /// Generated ids count milliseconds from 2020-01-01T00:00:00Z.
    static let epoch: Double = 1_577_836_800

    /// An id is 1 to 64 letters, digits, '_', '-' and '.', not starting with '.' or '-'.
    /// Checked before an id ever becomes part of a path.
    @inlinable
    public static func isValid(_ id: some StringProtocol) -> Bool {
        guard let first = id.utf8.first, id.utf8.count <= 64, first != UInt8(ascii: "."), first != UInt8(ascii: "-")
        else { return false }
        return id.utf8.allSatisfy { isNameByte($0) || $0 == UInt8(ascii: ".") }
    }

    /// A new id: 8 characters of time in milliseconds, then 2 random ones, e.g. `0mz4k2hq7c`.
    public static func generate(at time: Double = Clock.now()) -> String {
        var milliseconds = UInt64(max(0, (time - epoch) * 1000))
        var characters: [Character] = []
        for _ in 0..<8 {
            characters.append(alphabet[Int(milliseconds % 32)])
            milliseconds /= 32
        }
        var random = UInt64.random(in: 0..<1024)
        var suffix: [Character] = []
        for _ in 0..<2 {
            suffix.append(alphabet[Int(random % 32)])
            random /= 32
        }
        return String(characters.reversed()) + String(suffix)
    }
}

/// Letters, digits, '_' and '-': what ids and task type names are made of.
@usableFromInline
func isNameByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
        true
    default: false
    }
}
