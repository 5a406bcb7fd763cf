import Basics
import JSON
import POSIX

/// The fields of `show`, a label a line, then the inputs and outputs as indented JSON.
public func printFields(_ fields: [(String, String)], inputs: JSONObject, outputs: JSONObject?) {
    for (label, value) in fields { printLine((label + ":").padding(to: 11) + value) }
    printLine("inputs:    " + JSON.object(inputs).prettyText.indentingContinuation)
    if let outputs { printLine("outputs:   " + JSON.object(outputs).prettyText.indentingContinuation) }
}

/// Prints columns aligned with two spaces between them; the last column is not padded.
public func printTable(header: [String], rows: [[String]], to sink: @escaping ([UInt8]) -> Void = TableOutput.standardOutput) {
    let widths = header.indices.dropLast().map { column in rows.reduce(header[column].displayWidth) { max($0, $1[column].displayWidth) } }
    var output = TableOutput(widths: widths, sink: sink)
    for row in [header] + rows {
        for (column, cell) in row.dropLast().enumerated() { output.cell(cell.utf8, width: cell.displayWidth, column: column) }
        output.lastCell(row.last!.utf8)
    }
    output.flush()
}

/// A table on standard output: each cell padded to its column's width and two spaces, the last of
/// a row not padded; written in blocks of 64 KiB, as a list may have a hundred thousand rows.
public struct TableOutput {
    /// The widths of the columns but the last.
    public let widths: [Int]
    /// Where the blocks go: standard output, or a test's buffer.
    let sink: ([UInt8]) -> Void
    private var buffer: [UInt8] = []

    public init(widths: [Int], sink: @escaping ([UInt8]) -> Void = TableOutput.standardOutput) {
        self.widths = widths
        self.sink = sink
        buffer.reserveCapacity(1 << 17)
    }

    public static func standardOutput(_ bytes: [UInt8]) {
        try? FileDescriptor.standardOutput.write(bytes)
    }

    /// A cell that takes `width` columns on a terminal (by default, as many as it has bytes).
    public mutating func cell(_ bytes: some Collection<UInt8>, width: Int? = nil, column: Int) {
        buffer.append(contentsOf: bytes)
        buffer.append(contentsOf: repeatElement(UInt8(ascii: " "), count: widths[column] - (width ?? bytes.count) + 2))
    }

    /// The row's last cell, and the end of the row.
    public mutating func lastCell(_ bytes: some Collection<UInt8>) {
        buffer.append(contentsOf: bytes)
        buffer.append(0x0a)
        if buffer.count >= 1 << 16 { flush() }
    }

    public mutating func flush() {
        sink(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}

extension String {
    /// How many columns the text takes: its characters, or for ASCII (the ids, statuses, task types
    /// and times of a list) its bytes, which cost nothing to count.
    public var displayWidth: Int {
        utf8.allSatisfy { $0 < 0x80 } ? utf8.count : count
    }

    public func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    public var indentingContinuation: String {
        split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n           ")
    }

    /// The first line, cut to 80 characters, its control characters escaped: for one cell of a row.
    public var firstLine: String {
        let line = split(separator: "\n").first.map(String.init) ?? ""
        return (line.count > 80 ? String(line.prefix(77)) + "..." : line).escapingControlCharacters()
    }
}
