import FlowspoolTestSupport
import POSIX
import Spool
import Testing

/// A job set aside in failed/: the job first, then its reason (Spool.setAside), and what a crash
/// between the two leaves is still a rejected job to everyone who looks.
@Suite("Setting a job aside")
struct SetAsideTests {
    @Test("a job set aside without its reason (a crash between the two) is rejected at once for flowspool wait, and flowspoold's start writes the reason")
    func reasonLostInACrash() throws {
        let test = try TestSpool()
        let id = "set-aside-" + Spool.randomToken()
        try FileSystem.writeFile(test.spool.failed + "/" + id + ".json", Array(#"{"task": "REST", "inputs": {}}"#.utf8))
        #expect(test.spool.jobState(id) == .rejected(Spool.reasonLostInACrash))
        let waited = try flowspool("wait", "--timeout", "20", id, spool: test)
        #expect(waited.exitCode == 1, "\(waited.standardError)")
        #expect(waited.standardError.contains(Spool.reasonLostInACrash), "\(waited.standardError)")

        try test.startSupervisor()
        let reason = test.spool.failureReason(ofJobNamed: id + ".json")
        try waitUntil("flowspoold writes the reason", timeout: 20, watching: [test.spool.failed]) { FileSystem.exists(reason) }
        #expect(try FileSystem.readText(reason) == Spool.reasonLostInACrash + "\n")
        #expect(test.supervisorLogText.contains("failed/\(id).json: \(Spool.reasonLostInACrash)"))
    }
}
