extension StringProtocol {
    /// The text without the given characters at either end: `" a b\n".trimming(" \n")` is `"a b"`.
    public func trimming(_ characters: String = " \t\r\n") -> String {
        String(drop { characters.contains($0) }.reversed().drop { characters.contains($0) }.reversed())
    }
}
