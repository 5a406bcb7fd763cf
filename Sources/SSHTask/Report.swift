/// What a script printed, cleaned as the remove-cr and remove-ansi-escapes inputs ask.
enum Report {
    /// Every carriage return removed: CRLF becomes LF, and a lone CR (a progress bar's) goes too.
    static func removingCarriageReturns(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { $0 != "\r" }))
    }

    /// Removes the escape sequences of ECMA-48 (ANSI), and nothing else: control sequences (CSI,
    /// ESC [ or U+009B, parameters, intermediates, a final byte: colours, cursor movement), control
    /// strings up to their terminator (OSC ESC ] window titles, DCS, SOS, PM, APC), escape sequences
    /// with intermediates (charset designations such as ESC ( B), and the two-byte ones (ESC 7,
    /// ESC =, ESC c).
    static func removingANSIEscapes(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var result = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            if scalars[index] == "\u{9B}" {
                index = endOfControlSequence(scalars, from: index + 1)
            } else if scalars[index] == "\u{1B}", index + 1 < scalars.count, let end = endOfEscape(scalars, at: index) {
                index = end
            } else {
                result.append(scalars[index])
                index += 1
            }
        }
        return String(result)
    }

    /// Where the escape sequence at `index` (an ESC) ends; nil when ESC starts none.
    private static func endOfEscape(_ scalars: [Unicode.Scalar], at index: Int) -> Int? {
        let next = scalars[index + 1]
        switch next.value {
        case 0x5B:  // [
            return endOfControlSequence(scalars, from: index + 2)
        case 0x5D, 0x50, 0x58, 0x5E, 0x5F:  // ] P X ^ _
            return endOfControlString(scalars, from: index + 2)
        case 0x20...0x2F:  // intermediates, then a final byte
            var end = index + 1
            while end < scalars.count, (0x20...0x2F).contains(scalars[end].value) { end += 1 }
            return end < scalars.count && (0x30...0x7E).contains(scalars[end].value) ? end + 1 : end
        case 0x30...0x7E:
            return index + 2
        default:
            return nil
        }
    }

    /// Past a control sequence's parameters and intermediates, and its final byte.
    private static func endOfControlSequence(_ scalars: [Unicode.Scalar], from start: Int) -> Int {
        var end = start
        while end < scalars.count, !(0x40...0x7E).contains(scalars[end].value) { end += 1 }
        return min(end + 1, scalars.count)
    }

    /// Past a control string's terminator: BEL or ST (ESC \ or U+009C).
    private static func endOfControlString(_ scalars: [Unicode.Scalar], from start: Int) -> Int {
        var end = start
        while end < scalars.count {
            if scalars[end] == "\u{07}" || scalars[end] == "\u{9C}" { return end + 1 }
            if scalars[end] == "\u{1B}", end + 1 < scalars.count, scalars[end + 1] == "\\" { return end + 2 }
            end += 1
        }
        return end
    }
}

/// `#OUTPUT_VAR(NAME)` lines register shell variables whose values at the end of the script come
/// back in the `var` output. An EXIT trap prints them between markers no script can guess, after
/// everything else, keeping the script's exit status; the markers and values are then taken out of
/// the report.
struct OutputVariables {
    let names: [String]
    let marker: String

    init(script: String) {
        var names: [String] = []
        for line in script.split(whereSeparator: \.isNewline) {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            guard trimmed.hasPrefix("#OUTPUT_VAR("), let close = trimmed.firstIndex(of: ")") else { continue }
            let name = String(trimmed[trimmed.index(trimmed.startIndex, offsetBy: 12)..<close])
            if Self.isShellName(name) && !names.contains(name) { names.append(name) }
        }
        self.names = names
        marker = "FLOWSPOOL-VAR-" + String(UInt64.random(in: 0..<UInt64.max), radix: 36)
    }

    /// A shell variable name: a letter or '_', then letters, digits and '_'.
    static func isShellName(_ name: String) -> Bool {
        func isLetter(_ scalar: Unicode.Scalar) -> Bool { scalar == "_" || ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) }
        guard let first = name.unicodeScalars.first, isLetter(first) else { return false }
        return name.unicodeScalars.allSatisfy { isLetter($0) || ("0"..."9").contains($0) }
    }

    /// The script with the trap in front, on its first line, so that the shell's line numbers (in
    /// its error messages, $LINENO) stay the script's own; or the script as it is when it registers
    /// no variables.
    func wrapping(_ script: String) -> String {
        guard !names.isEmpty else { return script }
        // Inside the trap's single quotes: double quotes only; printf turns the \n into newlines.
        let prints = names.map { #"printf "\n%s %s\n%s\n%s END\n" "\#(marker)" "\#($0)" "$\#($0)" "\#(marker)""# }
        return "trap '__flowspool_status=$?; \(prints.joined(separator: "; ")); exit $__flowspool_status' EXIT; " + script
    }

    /// The values printed by the trap, and the report without them.
    func extract(from report: String) -> (values: [String: String], report: String) {
        guard !names.isEmpty, let start = report.firstRange(of: "\n\(marker) ") else { return ([:], report) }
        var values: [String: String] = [:]
        var rest = report[start.lowerBound...]
        for name in names {
            let head = "\n\(marker) \(name)\n"
            let tail = "\n\(marker) END\n"
            guard let begin = rest.firstRange(of: head), let end = rest[begin.upperBound...].firstRange(of: tail) else { break }
            values[name] = String(rest[begin.upperBound..<end.lowerBound])
            rest = rest[end.upperBound...]
        }
        return (values, String(report[..<start.lowerBound]) + rest)
    }
}
