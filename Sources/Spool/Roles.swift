import POSIX

/// Who may do what in a spool (flowspool-spool(5), SECURITY), as file modes:
/// - the owner, the user flowspoold runs as (and root): everything. Nothing under tmp/, incoming/,
///   executions/ or settings/ is group- or world-writable.
/// - responders, members of the group given by `flowspoold --responders GROUP`: they may pass
///   through the spool's root and read requests/ and verdicts/. They answer through the gate,
///   flowspool-drop (DropGate), setgid to the group that owns answers/ (mode 1730, as Postfix's
///   maildrop/): they have no write access to the spool at all.
/// - everyone else: nothing.
public struct SpoolRoles: Sendable {
    /// The responders' group; nil when nobody but the owner answers.
    public var responders: GroupID?
    /// The gate's group, flowspool-drop, which owns answers/ when there are responders.
    public var gate: GroupID?

    public init(responders: GroupID?, gate: GroupID? = nil) {
        self.responders = responders
        self.gate = gate
    }

    /// One part of the layout, and the mode and group it must have.
    struct Part {
        let path: String
        let isFIFO: Bool
        let mode: FilePermissions
        /// The group it must belong to; nil for any.
        let group: GroupID?
        /// Looked at through the link: the root a supervisor holds (/proc/self/fd/N), checked on
        /// its way already (SpoolPath).
        var followLinks = false
    }

    func parts(of spool: Spool) -> [Part] {
        let open = responders != nil
        var parts = [Part(path: spool.root, isFIFO: false, mode: open ? 0o710 : 0o700, group: responders, followLinks: spool.root != spool.path)]
        for directory in [spool.tmp, spool.incoming, spool.executions, spool.failed, spool.settings, spool.waiters, spool.held] {
            parts.append(Part(path: directory, isFIFO: false, mode: 0o700, group: nil))
        }
        parts.append(Part(path: spool.answers, isFIFO: false, mode: open ? 0o1730 : 0o700, group: open ? gate : nil))
        // Set-group-ID, so that what flowspoold publishes there belongs to the group.
        parts.append(Part(path: spool.requests, isFIFO: false, mode: open ? 0o2750 : 0o700, group: responders))
        parts.append(Part(path: spool.verdicts, isFIFO: false, mode: open ? 0o2750 : 0o700, group: responders))
        parts.append(Part(path: spool.trigger, isFIFO: true, mode: 0o600, group: nil))
        parts.append(Part(path: spool.control, isFIFO: true, mode: 0o600, group: nil))
        return parts
    }
}

/// What is wrong with one part of a spool's layout, for the operator, and how much it matters:
/// `flowspool doctor` reports a warning or a failure by its severity.
public struct LayoutProblem: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Severity: Equatable, Sendable {
        /// flowspoold sets it right when it starts: a group or a mode the owner may set.
        case warning
        /// flowspoold refuses the spool until someone fixes it: a part missing, of another kind,
        /// or of another owner.
        case failure
    }

    public let severity: Severity
    /// The part of the layout it is about.
    public let path: String
    public let description: String

    public init(_ severity: Severity, at path: String, _ description: String) {
        self.severity = severity
        self.path = path
        self.description = description
    }
}

/// How one part of the layout stands against what the roles ask of it.
enum PartCheck {
    case right
    /// Not there, not of its kind, or not the owner's: refused, with the reason for the operator.
    case refused(String)
    /// Right but for its group and mode, which the owner can set: the current ones, and the group
    /// it must have.
    case settable(group: GroupID?, mode: FilePermissions?, wanted: GroupID?)

    init(_ part: SpoolRoles.Part, roles: SpoolRoles, owner: UserID) {
        let info: FileSystem.Status
        do {
            guard let found = try FileSystem.status(part.path, followLinks: part.followLinks) else {
                self = .refused("\(part.path) is missing")
                return
            }
            info = found
        } catch {
            self = .refused("cannot check \(part.path): \(error)")
            return
        }
        guard part.isFIFO ? info.isFIFO : info.isDirectory else {
            self = .refused("\(part.path) is \(info.kind), not \(part.isFIFO ? "a FIFO" : "a directory"); move it away and start again")
            return
        }
        guard info.owner == owner else {
            self = .refused("\(part.path) is \(info.ownership), not owned by \(User.name(of: owner)), the user flowspoold runs as: whoever owns it could make flowspoold run anything (see flowspool-spool(5), SECURITY)")
            return
        }
        let wrongGroup = part.group.map { $0 != info.group } ?? false
        let wrongMode = info.permissions != part.mode
        self = wrongGroup || wrongMode ? .settable(group: wrongGroup ? info.group : nil, mode: wrongMode ? info.permissions : nil, wanted: part.group) : .right
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
            switch PartCheck(part, roles: roles, owner: User.effective) {
            case .right:
                continue
            case .refused(let why):
                throw SpoolError(why)
            case .settable(let group, let mode, let wanted):
                do {
                    if let group, let wanted {
                        try FileSystem.changeGroup(part.path, wanted, followLinks: part.followLinks)
                        changes.append("\(part.path): group \(Group.name(of: group)) -> \(Group.name(of: wanted))")
                    }
                    if let mode {
                        try FileSystem.changeMode(part.path, part.mode)
                        changes.append("\(part.path): mode \(mode.octal) -> \(part.mode.octal)")
                    }
                } catch where error.errno == .notPermitted && wanted != nil && User.effective != User.root {
                    throw SpoolError("cannot give \(shown(part.path)) to the group \(Group.name(of: wanted!)): only root can, or an owner who is a member of it; run sudo chgrp \(Group.name(of: wanted!)) \(shown(part.path)) && sudo chmod \(part.mode.octal) \(shown(part.path)) (for the responders' group, sudo usermod -aG \(Group.name(of: wanted!)) \(User.name(of: User.effective)) does it once for all), or install with bin/install, whose tmpfiles.d line makes answers/ (flowspool-install(8))")
                } catch {
                    throw SpoolError("cannot set the mode of \(part.path): \(error)")
                }
            }
        }
        return changes
    }

    /// What is wrong with the layout for `roles`, owned by `owner`, without changing anything: a
    /// failure for what flowspoold would refuse, a warning for what it sets at its next start.
    public func layoutProblems(_ roles: SpoolRoles, owner: UserID) -> [LayoutProblem] {
        roles.parts(of: self).compactMap { part in
            switch PartCheck(part, roles: roles, owner: owner) {
            case .right: nil
            case .refused(let why): LayoutProblem(.failure, at: part.path, why)
            case .settable(let group, let mode, let wanted):
                LayoutProblem(.warning, at: part.path, [
                    group.map { "\(part.path) has the group \(Group.name(of: $0)), not \(Group.name(of: wanted!))" },
                    mode.map { "\(part.path) has the mode \($0.octal), not \(part.mode.octal)" },
                ].compactMap { $0 }.joined(separator: "; ") + " (flowspoold sets it when it starts)")
            }
        }
    }
}
