#if canImport(Glibc)
import Glibc
#endif

/// Who runs this process.
public enum User {
    public static let root = UserID(0)

    /// The user who started this process.
    public static var real: UserID { UserID(getuid()) }

    /// The user whose rights this process has: the owner of what it creates.
    public static var effective: UserID { UserID(geteuid()) }

    /// The login name of a user (by default the real user of this process), or "uid N" when it has none.
    public static func name(of user: UserID = real) -> String {
        guard let entry = getpwuid(user.rawValue), let name = entry.pointee.pw_name else { return "uid \(user.rawValue)" }
        return String(cString: name)
    }

    /// The id of a user given by login name; nil when there is none.
    public static func id(named name: String) -> UserID? {
        guard let entry = getpwnam(name) else { return nil }
        return UserID(entry.pointee.pw_uid)
    }

    /// Whether a user belongs to a group now, by the group database (its primary group, or a
    /// supplementary one), not by what some process of theirs carries.
    public static func isMember(_ user: UserID, of group: GroupID) -> Bool {
        guard let entry = getpwuid(user.rawValue), let login = entry.pointee.pw_name else { return false }
        let primary = entry.pointee.pw_gid
        if primary == group.rawValue { return true }
        var count: Int32 = 64
        while true {
            var groups = [gid_t](repeating: 0, count: Int(count))
            let previous = count
            if getgrouplist(login, primary, &groups, &count) >= 0 {
                return groups.prefix(Int(count)).contains(group.rawValue)
            }
            if count <= previous { return false }
        }
    }
}

public enum Group {
    /// The group whose rights this process has: the group of what it creates (a setgid program's).
    public static var effective: GroupID { GroupID(getegid()) }

    /// The id of a group given by name or number; nil when there is no such group.
    public static func id(named name: String) -> GroupID? {
        if let entry = getgrnam(name) { return GroupID(entry.pointee.gr_gid) }
        if let number = gid_t(name), getgrgid(number) != nil { return GroupID(number) }
        return nil
    }

    /// A group's name, or "gid N" when it has none.
    public static func name(of group: GroupID) -> String {
        guard let entry = getgrgid(group.rawValue), let name = entry.pointee.gr_name else { return "gid \(group.rawValue)" }
        return String(cString: name)
    }
}
