@testable import Commands
import JSON
import Spool
import Testing

@Suite("listing a spool")
struct ListingTests {
    let made: MadeSpool
    /// A time in the past, ms-exact.
    let t0 = 1_700_000_000.0

    init() throws {
        made = try MadeSpool()
        try made.execution("c-late", "REST", at: t0 + 20, .error)
        try made.execution("a-first", "FLOW", at: t0, .success, name: "nightly")
        try made.execution("b-twin", "REST", at: t0 + 10, .running)
        try made.execution("a-twin", "REST", at: t0 + 10, .queued)
    }

    func listed(_ query: ListQuery, jobs: [JobSummary] = []) -> [String] {
        let listing = Listing(made.ids, in: made.spool, jobs: jobs)
        return listing.order(query).map { listing.rows[$0].id }
    }

    @Test("oldest first; executions submitted in the same millisecond by id")
    func order() {
        #expect(listed(ListQuery()) == ["a-first", "a-twin", "b-twin", "c-late"])
    }

    @Test("--status (several), --task and --limit pick rows; --limit keeps the most recent, still oldest first")
    func filters() {
        #expect(listed(ListQuery(statuses: ["success", "error"])) == ["a-first", "c-late"])
        #expect(listed(ListQuery(task: "REST")) == ["a-twin", "b-twin", "c-late"])
        #expect(listed(ListQuery(statuses: ["queued", "running"], task: "REST", limit: 1)) == ["b-twin"])
        #expect(listed(ListQuery(limit: 2)) == ["b-twin", "c-late"])
        #expect(listed(ListQuery(task: "SSH")).isEmpty)
    }

    @Test("ended executions are kept in spool/index, and a second listing read from it shows the same table")
    func index() throws {
        let first = Caught(), second = Caught()
        let listing = Listing(made.ids, in: made.spool)
        listing.write(listing.order(ListQuery()), to: first.sink)
        let indexed = EndedIndex(spool: made.spool).read()
        #expect(Set(indexed.lineOfID.keys) == ["a-first", "c-late"])
        let again = Listing(made.ids, in: made.spool)
        again.write(again.order(ListQuery()), to: second.sink)
        #expect(first.lines.count == 5)
        #expect(first.lines[0].hasPrefix("ID       STATUS   TASK  SUBMITTED                 DURATION  NAME/MESSAGE"))
        #expect(first.lines[1].hasPrefix("a-first  success  FLOW  2023-11-14T22:13:20.000Z  2.0s      nightly"))
        // The running and queued rows' durations grow with the clock; the ended ones' do not.
        #expect(first.lines[1] == second.lines[1] && first.lines[4] == second.lines[4])
    }

    @Test("--all adds the jobs waiting in incoming/, with status incoming")
    func incomingJobs() throws {
        let id = try made.spool.submit(Job(task: "SSH", inputs: [:]), id: "z-waiting")
        let jobs = JobSummary.all(in: made.spool)
        #expect(jobs.map(\.id) == [id] && jobs.map(\.status) == ["incoming"])
        #expect(listed(ListQuery(statuses: ["incoming"]), jobs: jobs) == [id])
        #expect(listed(ListQuery(task: "SSH"), jobs: jobs) == [id])
    }

    @Test("list --json prints show --json's documents in list's order, protected inputs masked")
    func json() {
        let documents = LocalSpoolBackend.jsonReports(made.ids, jobs: [], in: made.spool, ListQuery(task: "REST", limit: 2))
        #expect(documents.map { $0["id"]?.stringValue } == ["b-twin", "c-late"])
        #expect(documents[1]["inputs"]?["password"] == .string("****"))
        #expect(documents[1]["message"] == .string("it said so"))
    }
}
