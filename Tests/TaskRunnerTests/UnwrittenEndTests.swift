@testable import TaskRunner
import Testing

/// How long a runner keeps trying an end the disk refuses (flowspool-spool(5), "The runner contract").
@Suite("An end the disk refuses")
struct UnwrittenEndTimeTests {
    @Test("a runner tries for what is left of its task timeout, and the grace")
    func leftOfTheTimeoutAndTheGrace() {
        // Began at 100 with a timeout of 30: refused at 110, it gives up at 130 + 60.
        #expect(UnwrittenEnd.giveUpTime(began: 100, timeout: 30, grace: 60, now: 110) == 190)
    }

    @Test("a runner past its timeout already (a flow that waited for its children) has the grace")
    func pastTheTimeout() {
        #expect(UnwrittenEnd.giveUpTime(began: 100, timeout: 30, grace: 60, now: 500) == 560)
        #expect(UnwrittenEnd.giveUpTime(began: 100, timeout: 30, grace: 0, now: 500) == 500)
    }
}
