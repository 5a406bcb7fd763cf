import Basics
import POSIX
import Spool

/// flowspoold's own log: one stamped line per event on standard error.
final class SupervisorLog {
    /// When each recurring cause was last logged.
    private var lastLogged: [String: Double] = [:]
    /// The spool, whose held directory each line names by the spool's path.
    private let spool: Spool

    init(spool: Spool) {
        self.spool = spool
    }

    func line(_ text: String) {
        OperatorLine.write(spool.shown(text), stamped: true)
    }

    /// Logs a line for a cause that may recur (a hostile file met at every look, a directory that
    /// cannot be read): once, and again only after `interval` seconds, never in a loop.
    func once(_ cause: String, _ text: String, interval: Double = 3600) {
        let now = Clock.monotonic()
        if let last = lastLogged[cause], now - last < interval { return }
        lastLogged[cause] = now
        line(text)
    }
}
