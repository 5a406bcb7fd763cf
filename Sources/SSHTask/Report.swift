/// What a script printed, cleaned as the remove-cr and remove-ansi-escapes inputs ask.
enum Report {
    /// CRLF becomes LF; a lone CR stays.
    static func removingCarriageReturns(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        var scalars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar?
        while let scalar = pending ?? scalars.next() {
            pending = nil
            if scalar == "\r" {
                let next = scalars.next()
                if next == "\n" { result.append("\n"); continue }
                result.append(scalar)
                pending = next
                if next == nil { break }
                continue
            }
            result.append(scalar)
        }
        return String(result)
    }

    /// Removes ANSI control sequences, CSI (ESC [ ... final byte: colours, cursor movement) and OSC
    /// (ESC ] ... BEL or ESC \: window titles), and nothing else.
    static func removingANSIEscapes(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var result = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            guard scalar == "\u{1B}", index + 1 < scalars.count else {
                result.append(scalar)
                index += 1
                continue
            }
            switch scalars[index + 1] {
            case "[":
                var end = index + 2
                while end < scalars.count, !(0x40...0x7E).contains(scalars[end].value) { end += 1 }
                index = end + 1
            case "]":
                var end = index + 2
                while end < scalars.count {
                    if scalars[end] == "\u{07}" { end += 1; break }
                    if scalars[end] == "\u{1B}", end + 1 < scalars.count, scalars[end + 1] == "\\" { end += 2; break }
                    end += 1
                }
                index = end
            default:
                result.append(scalar)
                index += 1
            }
        }
        return String(result)
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

    /// The script with the trap in front, or the script as it is when it registers no variables.
    func wrapping(_ script: String) -> String {
        guard !names.isEmpty else { return script }
        // Inside the trap's single quotes: double quotes only; printf turns the \n into newlines.
        let prints = names.map { #"printf "\n%s %s\n%s\n%s END\n" "\#(marker)" "\#($0)" "$\#($0)" "\#(marker)""# }
        return "trap '__flowspool_status=$?; \(prints.joined(separator: "; ")); exit $__flowspool_status' EXIT\n" + script
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
