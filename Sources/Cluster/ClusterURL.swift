/// Where a cluster's queue is: `redis://[USER:PASSWORD@]HOST:PORT[/DB]` (flowspool-cluster(7)).
/// The password is a protected value: `description` masks it, so that the URL can be logged.
public struct ClusterURL: Equatable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let database: Int
    public let user: String?
    public let password: String?

    /// The variable the programs read the URL from when --cluster is not given. An environment is
    /// readable by its owner alone, where a command line is anyone's to see in ps.
    public static let variable = "FLOWSPOOL_CLUSTER"

    public init(parsing text: String) throws(ClusterError) {
        guard text.hasPrefix("redis://") else {
            throw ClusterError("a cluster URL starts with redis:// (redis://[USER:PASSWORD@]HOST:PORT[/DB])")
        }
        var rest = Substring(text.dropFirst("redis://".count))
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = credentials[..<colon].isEmpty ? nil : String(credentials[..<colon])
                password = String(credentials[credentials.index(after: colon)...])
            } else {
                (user, password) = (nil, String(credentials))
            }
        } else {
            (user, password) = (nil, nil)
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let number = rest[rest.index(after: slash)...]
            guard let value = Int(number), value >= 0 else {
                throw ClusterError("the cluster URL's database must be a number, not '\(number)'")
            }
            database = value
            rest = rest[..<slash]
        }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port),
              !rest[..<colon].isEmpty else {
            throw ClusterError("the cluster URL must name HOST:PORT (redis://[USER:PASSWORD@]HOST:PORT[/DB])")
        }
        host = String(rest[..<colon])
        self.port = port
        self.database = database
    }

    public var description: String {
        let credentials = switch (user, password) {
        case (let user?, _?): "\(user):***@"
        case (nil, _?): "***@"
        case (let user?, nil): "\(user)@"
        case (nil, nil): ""
        }
        return "redis://\(credentials)\(host):\(port)/\(database)"
    }
}

/// A failure of the cluster, said for the operator.
public struct ClusterError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
