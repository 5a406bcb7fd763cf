import POSIX

/// Who may do what in a spool (flowspool-spool(5), SECURITY), as file modes:
/// - the owner, the user flowspoold runs as (and root): everything. Nothing under tmp/, incoming/,
///   executions/ or settings/ is group- or world-writable.
/// - responders, members of the group given by `flowspoold --responders GROUP`: they may pass
///   through the spool's root, read requests/ and verdicts/, and write into answers/ (sticky, not
///   readable: they drop answers there and cannot see or touch anyone else's).
/// - everyone else: nothing.
public struct SpoolRoles: Sendable {
    /// The responders' group; nil when nobody but the owner answers.
    public var responders: GroupID?

    public init(responders: GroupID?) {
        self.responders = responders
    }

    /// One part of the layout and the mode it must have.
    struct Part {
        let path: String
        let isFIFO: Bool
        let mode: FilePermissions
        /// Whether the responders' group owns it (when there is one).
        let forResponders: Bool
    }

    func parts(of spool: Spool) -> [Part] {
        let open = responders != nil
        var parts = [Part(path: spool.root, isFIFO: false, mode: open ? 0o710 : 0o700, forResponders: open)]
        for directory in [spool.tmp, spool.incoming, spool.executions, spool.failed, spool.settings, spool.waiters] {
            parts.append(Part(path: directory, isFIFO: false, mode: 0o700, forResponders: false))
        }
        parts.append(Part(path: spool.answers, isFIFO: false, mode: open ? 0o1730 : 0o700, forResponders: open))
        // Set-group-ID, so that what flowspoold publishes there belongs to the group.
        parts.append(Part(path: spool.requests, isFIFO: false, mode: open ? 0o2750 : 0o700, forResponders: open))
        parts.append(Part(path: spool.verdicts, isFIFO: false, mode: open ? 0o2750 : 0o700, forResponders: open))
        parts.append(Part(path: spool.trigger, isFIFO: true, mode: 0o600, forResponders: false))
        parts.append(Part(path: spool.control, isFIFO: true, mode: 0o600, forResponders: false))
        return parts
    }
}

extension Spool {
    /// Creates the layout and gives every part of it the mode and group the roles ask for. A part
    /// that is not what it should be (a link, a file where a directory belongs, another user's) is
    /// refused: flowspoold runs what the spool holds with its own rights. Returns a line for each
    /// mode it changed.
    public func secure(_ roles: SpoolRoles) throws(SpoolError) -> [String] {
        do {
            try createLayout()
        } catch {
            throw SpoolError("cannot create the spool's layout: \(error)")
        }
        var changes: [String] = []
        for part in roles.parts(of: self) {
            let info: FileSystem.Status
            do {
                guard let found = try FileSystem.status(part.path, followLinks: false) else {
                    throw SystemError("lstat", path: part.path, errno: .noSuchFileOrDirectory)
                }
                info = found
            } catch {
                throw SpoolError("cannot check \(part.path): \(error)")
            }
            let kindIsRight = part.isFIFO ? info.isFIFO : info.isDirectory
            guard kindIsRight else {
                throw SpoolError("\(part.path) is \(info.kind), not \(part.isFIFO ? "a FIFO" : "a directory"); move it away and start again")
            }
            guard info.owner == User.effective else {
                throw SpoolError("\(part.path) is \(info.ownership), not owned by \(User.name(of: User.effective)), the user flowspoold runs as: whoever owns it could make flowspoold run anything (see flowspool-spool(5), SECURITY)")
            }
            do {
                if part.forResponders, let group = roles.responders, info.group != group {
                    try FileSystem.changeGroup(part.path, group)
                    changes.append("\(part.path): group \(Group.name(of: info.group)) -> \(Group.name(of: group))")
                }
                if info.permissions != part.mode {
                    try FileSystem.changeMode(part.path, part.mode)
                    changes.append("\(part.path): mode \(info.permissions.octal) -> \(part.mode.octal)")
                }
            } catch {
                throw SpoolError("cannot set the mode of \(part.path): \(error)")
            }
        }
        return changes
    }
}
