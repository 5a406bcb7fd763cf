import POSIX
import Spool

/// Waking the processes that wait for executions (WaitRegistration): flowspoold holds the one
/// inotify instance, learns from waiters/ who waits for what, and writes a byte into a waiter's
/// FIFO when one of its jobs is admitted, ends or is rejected. A flow named as the waiter holds no
/// runner slot while its registration stands, and its task timeout does not run.
extension Supervisor {
    /// Reads every registration anew and drops those whose waiter is gone: at start, after an
    /// inotify overflow, and at each rescan.
    func scanWaiters() {
        guard let names = try? FileSystem.listDirectory(spool.waiters) else { return }
        let suffix = WaitRegistration.idsSuffix
        let tokens = Set(names.filter { $0.hasSuffix(suffix) && !$0.hasPrefix(".") }.map { String($0.dropLast(suffix.count)) })
        for token in waiterRegistrations.keys where !tokens.contains(token) { forgetWaiter(token) }
        let fifos = Set(names.filter { !$0.hasSuffix(suffix) && !$0.hasPrefix(".") })
        // Left by a waiter that is gone; a young one may be a waiter between mkfifo and open.
        for name in fifos.union(tokens) where isOld(name) && !isListening(name) { removeWaiter(name) }
        for token in tokens where fifos.contains(token) { loadWaiter(token) }
    }

    func isOld(_ token: String) -> Bool {
        let paths = [token, token + WaitRegistration.idsSuffix].map { spool.waiters + "/" + $0 }
        let newest = paths.compactMap { ((try? FileSystem.status($0, followLinks: false)) ?? nil)?.modificationTime }.max() ?? 0
        return newest < Clock.now() - 60
    }

    /// After an inotify event in waiters/: a registration written, or removed.
    func waiterFileChanged(_ name: String) {
        let suffix = WaitRegistration.idsSuffix
        guard name.hasSuffix(suffix), !name.hasPrefix(".") else { return }
        loadWaiter(String(name.dropLast(suffix.count)))
    }

    func loadWaiter(_ token: String) {
        forgetWaiter(token)
        guard let text = (try? FileSystem.readText(spool.waiters + "/" + token + WaitRegistration.idsSuffix, beneath: spool.root)) ?? nil else { return }
        let registration = WaitRegistration(text: text)
        waiterRegistrations[token] = registration
        for id in registration.ids { waitersByID[id, default: []].insert(token) }
        decide(.waiterRegistered(token, flow: registration.waiter))
        // What happened before the registration was read is told at once.
        if registration.ids.contains(where: { spool.jobState($0) != .pending || spool.execution($0).exists }) {
            wakeWaiter(token)
        }
    }

    func forgetWaiter(_ token: String) {
        guard let registration = waiterRegistrations.removeValue(forKey: token) else { return }
        for id in registration.ids {
            waitersByID[id]?.remove(token)
            if waitersByID[id]?.isEmpty == true { waitersByID.removeValue(forKey: id) }
        }
        decide(.waiterGone(token))
    }

    /// A runner's word that it has ended its execution (control `ended ID`): its waiters are woken
    /// at once, once the status file, the truth, says so.
    func endedEarly(_ id: String) {
        guard ExecutionID.isValid(id), core.runs[id] != nil, spool.execution(id).status()?.isFinal == true else { return }
        decide(.executionEnded(.said(id)))
    }

    /// Wakes everyone waiting for `id`.
    func notifyWaiters(of id: String) {
        for token in waitersByID[id] ?? [] { wakeWaiter(token) }
    }

    func wakeWaiter(_ token: String) {
        do {
            let fifo = try spool.open(spool.waiters + "/" + token, .writeOnly, fifo: true)
            defer { try? fifo.close() }
            _ = try? fifo.write([0x0a])  // a full FIFO has a wake-up pending already
        } catch where error.errno == .noSuchAddressOrDevice || error.errno == .noSuchFileOrDirectory {
            removeWaiter(token)  // its waiter is gone
        } catch {
            log.once("waiter \(error.errno)", "cannot wake a waiter through \(spool.waiters)/\(token) (it looks again by itself): \(error)")
        }
    }

    /// Whether a waiter still reads its FIFO.
    func isListening(_ token: String) -> Bool {
        do {
            let fifo = try spool.open(spool.waiters + "/" + token, .writeOnly, fifo: true)
            try? fifo.close()
            return true
        } catch {
            return error.errno != .noSuchAddressOrDevice && error.errno != .noSuchFileOrDirectory && !error.isWrongFileKind
        }
    }

    /// Removes what a waiter that is gone left behind.
    func removeWaiter(_ token: String) {
        forgetWaiter(token)
        try? FileSystem.removeTree(spool.waiters + "/" + token)
        try? FileSystem.removeIfPresent(spool.waiters + "/" + token + WaitRegistration.idsSuffix)
    }
}
