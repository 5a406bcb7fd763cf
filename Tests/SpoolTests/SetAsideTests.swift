import FlowspoolTestSupport
import POSIX
import Spool
import Testing

/// A job set aside in failed/ (Spool.setAside: its reason staged, the job moved, the reason moved
/// beside it), and what a crash between the moves leaves: a rejected job to everyone who looks.
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

        // A second one, cut short after its reason was staged in tmp/: that reason is the one given.
        let staged = "staged-" + Spool.randomToken()
        try FileSystem.writeFile(test.spool.failed + "/" + staged + ".json", Array(#"{"task": "REST", "inputs": {}}"#.utf8))
        try FileSystem.writeFile(test.spool.tmp + "/" + staged + ".json.why", Array("unknown task type 'X'\n".utf8))
        #expect(test.spool.jobState(staged) == .rejected("unknown task type 'X'"))

        try test.startSupervisor()
        for (job, why) in [(id, Spool.reasonLostInACrash), (staged, "unknown task type 'X'")] {
            let reason = test.spool.failureReason(ofJobNamed: job + ".json")
            try waitUntil("flowspoold puts the reason of \(job) in place", timeout: 20, watching: [test.spool.failed]) { FileSystem.exists(reason) }
            #expect(try FileSystem.readText(reason) == why + "\n")
            // Logged once every reason is in place: waited for, not looked at once.
            try waitUntil("flowspoold logs the reason of \(job)", timeout: 20) { test.supervisorLogText.contains("failed/\(job).json: \(why)") }
        }
        #expect(!FileSystem.exists(test.spool.tmp + "/" + staged + ".json.why"))
    }
}
