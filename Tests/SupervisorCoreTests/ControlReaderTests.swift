import Testing
@testable import Supervisor

/// The control FIFO's commands (flowspool-spool(5)), read from bytes as they come.
@Suite("core: control lines")
struct ControlReaderTests {
    func read(_ text: String, into reader: inout ControlReader) -> [ControlReader.Command] {
        reader.take(Array(text.utf8))
    }

    @Test("each known command, one a line; empty lines are none")
    func commands() {
        var reader = ControlReader()
        let commands = read("cancel 20260101-000000-aaaaaaaa\n\nended X\nending Y\nrescan\nstop\n", into: &reader)
        #expect(commands == [.cancel("20260101-000000-aaaaaaaa", cause: "flowspool cancel"), .ended("X"), .ending("Y"), .rescan, .stop])
    }

    @Test("a cancel names its cause, control characters escaped")
    func cancelCause() {
        var reader = ControlReader()
        #expect(read("cancel A flowspool run --timeout 30s\n", into: &reader) == [.cancel("A", cause: "flowspool run --timeout 30s")])
        #expect(read("cancel A bad\u{1b}[0m\n", into: &reader) == [.cancel("A", cause: "bad\\x1b[0m")])
    }

    @Test("a line split across reads is taken whole")
    func split() {
        var reader = ControlReader()
        #expect(read("can", into: &reader).isEmpty)
        #expect(read("cel A\nres", into: &reader) == [.cancel("A", cause: "flowspool cancel")])
        #expect(read("can\n", into: &reader) == [.rescan])
    }

    @Test("unknown commands and wrong word counts are told as they came, cut at 80 characters")
    func unknown() {
        var reader = ControlReader()
        #expect(read("ended\nstop now\nhello\n", into: &reader) == [.unknown("ended"), .unknown("stop now"), .unknown("hello")])
        let long = String(repeating: "x", count: 200)
        #expect(read(long + "\n", into: &reader) == [.unknown(String(long.prefix(80)))])
    }

    @Test("a line longer than the limit is dropped as it comes, never held whole")
    func tooLong() {
        var reader = ControlReader()
        let chunk = String(repeating: "y", count: ControlReader.lineLimit + 1)
        #expect(read(chunk, into: &reader) == [.tooLong])
        #expect(read("yyyy\nstop\n", into: &reader) == [.tooLong, .stop])
        #expect(read(String(repeating: "z", count: ControlReader.lineLimit + 1) + "\nrescan\n", into: &reader) == [.tooLong, .rescan])
    }
}
