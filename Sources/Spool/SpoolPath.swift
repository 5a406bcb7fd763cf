import POSIX

/// The way from / to a spool, checked as OpenSSH's StrictModes checks a home directory and its
/// .ssh: every directory on it must belong to root or to the spool's owner and must not be
/// writable by group or others unless it is sticky, and none may be a symbolic link. Otherwise
/// whoever may write one of them could rename the spool aside and put one of their own in its
/// place, and flowspoold would run what it holds with its own rights (flowspool-spool(5), SECURITY).
///
/// The walk opens each directory from the one above with O_NOFOLLOW, so the directory it ends on
/// is the one it checked, whatever the path leads to a moment later.
public struct SpoolPath {
    /// The spool's root, opened.
    public let root: Directory
    /// Who owns the spool's root: the spool's owner.
    public var owner: UserID { status.owner }
    public let status: FileSystem.Status

    /// Walks to `path` (absolute). With `creatingFor`, the missing directories at its end are made,
    /// mode 700, once the way to them has passed the check; nothing is made anywhere the check
    /// refuses. Without it, a missing directory is refused.
    public init(_ path: String, creatingFor creator: UserID? = nil) throws(SpoolError) {
        precondition(path.hasPrefix("/"), "SpoolPath takes an absolute path")
        var names = path.split(separator: "/").map(String.init).filter { $0 != "." }
        guard !names.contains("..") else { throw SpoolError("\(path): a spool path with '..' in it is refused; give it without") }
        var current: Directory
        var walked: [(path: String, status: FileSystem.Status)] = []
        do {
            current = try Directory("/", searchOnly: true)
            walked.append(("/", try current.status()))
        } catch {
            throw SpoolError("cannot open /", cause: error)
        }
        var here = ""
        while !names.isEmpty {
            let name = names.removeFirst()
            here += "/" + name
            current = try Self.enter(name, in: current, at: here, creatingFor: creator, walked: walked)
            do {
                walked.append((here, try current.status()))
            } catch {
                throw SpoolError("cannot look at \(here)", cause: error)
            }
        }
        let owner = walked.last!.status.owner
        for (directory, info) in walked {
            if let problem = Self.problem(with: info, at: directory, spoolOwner: owner, isRoot: directory == walked.last!.path) {
                throw SpoolError(problem)
            }
        }
        root = current
        status = walked.last!.status
    }

    /// Opens `name` in `parent` without following a link; makes it first when it is missing and a
    /// creator is given, after checking the way so far for that creator.
    private static func enter(
        _ name: String, in parent: Directory, at path: String, creatingFor creator: UserID?,
        walked: [(path: String, status: FileSystem.Status)]
    ) throws(SpoolError) -> Directory {
        var failure: SystemError
        do {
            return try parent.subdirectory(name, searchOnly: true)
        } catch {
            failure = error
        }
        if failure.errno == .noSuchFileOrDirectory, let creator {
            for (directory, info) in walked {
                if let problem = problem(with: info, at: directory, spoolOwner: creator, isRoot: false) {
                    throw SpoolError("\(problem) (nothing was created in it)")
                }
            }
            do {
                try? parent.makeDirectory(name, mode: 0o700)
                return try parent.subdirectory(name, searchOnly: true)
            } catch {
                failure = error
            }
        }
        if failure.errno == .tooManySymbolicLinkLevels || failure.errno == .notDirectory {
            let kind = ((try? parent.status(of: name)) ?? nil)?.kind ?? "not a directory"
            throw SpoolError("\(path) is \(kind): a spool and the way to it must be real directories, not symbolic links (give the path it leads to, if it is one you trust)")
        }
        throw SpoolError("cannot open \(path)", cause: failure)
    }

    /// What is wrong with one directory on the way, for the operator; nil when nothing is.
    static func problem(with info: FileSystem.Status, at path: String, spoolOwner: UserID, isRoot: Bool) -> String? {
        if info.owner != User.root && info.owner != spoolOwner {
            return "\(path) is \(info.ownership), neither root's nor \(User.name(of: spoolOwner))'s (the spool's owner): whoever owns it could put a spool of their own in place of this one. Run flowspoold as that user, or use a spool on a way only root and the spool's owner control, such as --spool /var/spool/flowspool"
        }
        let writableByOthers = info.permissions.rawValue & 0o022 != 0 && info.permissions.rawValue & 0o1000 == 0
        // The spool's own modes are flowspoold's to set (Spool.secure), as it does at every start.
        if writableByOthers && !isRoot {
            return "\(path) is \(info.ownership): group or others may write it, so they could rename the spool aside and put one of their own in its place. Run chmod go-w \(path) (or chmod +t, as /tmp has it), or use a spool elsewhere, such as --spool /var/spool/flowspool"
        }
        return nil
    }

}
