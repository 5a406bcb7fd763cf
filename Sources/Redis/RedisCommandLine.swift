import CHiredis

/// A command line split into words as redis-cli splits what is typed at its prompt: hiredis's
/// `sdssplitargs`, the same function redis-cli calls.
public enum RedisCommandLine {
    public enum SplitError: Error, Equatable, Sendable {
        /// A quote opened and the line ended before it closed.
        case quoteNotClosed
        /// A closing quote was followed by something other than a space.
        case closingQuoteNotFollowedBySpace
        /// A NUL character, which a C string cannot hold (redis-cli's prompt cannot take one).
        case nulCharacter
    }

    /// The words of `line`, each as bytes (`"\xff"` is one byte, not UTF-8).
    public static func split(_ line: String) throws(SplitError) -> [[UInt8]] {
        guard !line.utf8.contains(0) else { throw .nulCharacter }
        if let words = splitArguments(line) { return words }
        // sdssplitargs says only that the line cannot be split. A line that closing a quote at
        // its end would mend had a quote left open; any other failure is a closing quote with
        // something right after it.
        let closings = ["\"", "\"\"", "'", "''"]
        throw closings.contains { splitArguments(line + $0) != nil } ? .quoteNotClosed : .closingQuoteNotFollowedBySpace
    }

    /// sdssplitargs, or nil where it refuses the line.
    static func splitArguments(_ line: String) -> [[UInt8]]? {
        var count: Int32 = 0
        guard let tokens = sdssplitargs(line, &count) else { return nil }
        defer { sdsfreesplitres(tokens, count) }
        return (0..<Int(count)).map { index in
            guard let word = tokens[index] else { return [] }
            return Array(UnsafeRawBufferPointer(start: word, count: sdslen(word)).bindMemory(to: UInt8.self))
        }
    }
}
