@testable import Commands
import Testing

@Suite("table output")
struct TableTests {
    @Test("every column but the last is padded to its widest cell and two spaces; the last is not padded")
    func layout() {
        let caught = Caught()
        printTable(header: ["ID", "STATUS", "MESSAGE"], rows: [["a1", "success", "done"], ["longer-id", "queued", ""]], to: caught.sink)
        #expect(caught.lines == [
            "ID         STATUS   MESSAGE",
            "a1         success  done",
            "longer-id  queued   ",
        ])
    }

    @Test("a cell that is not ASCII takes as many columns as it has characters, not bytes")
    func wideCells() {
        let caught = Caught()
        printTable(header: ["NAME", "X"], rows: [["héllo", "1"], ["ab", "2"]], to: caught.sink)
        #expect(caught.lines == ["NAME   X", "héllo  1", "ab     2"])
    }

    @Test("a long table goes out in blocks of 64 KiB, and nothing is lost between them")
    func blocks() {
        let caught = Caught()
        let rows = (0..<5000).map { ["row-\($0)", String(repeating: "x", count: 20)] }
        printTable(header: ["ID", "DATA"], rows: rows, to: caught.sink)
        #expect(caught.blocks > 1)
        #expect(caught.lines.count == 5001)
        #expect(caught.lines.last == "row-4999  " + String(repeating: "x", count: 20))
    }

    @Test("a cell's first line is cut to 80 characters and its control characters escaped")
    func firstLine() {
        #expect("one\ntwo".firstLine == "one")
        #expect(String(repeating: "a", count: 100).firstLine == String(repeating: "a", count: 77) + "...")
        #expect("\u{1b}[31mred".firstLine == "\\x1b[31mred")
    }
}
