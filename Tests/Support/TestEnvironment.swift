#if canImport(Glibc)
import Glibc
#endif
import POSIX

/// Where the tests find the built programs and the servers bin/test started.
public enum TestEnvironment {
    /// The directory with the built flowspool programs: the test bundle's own build directory.
    public static var binDirectory: String {
        if let override = Environment.value("FLOWSPOOL_TEST_BIN") { return override }
        var path = (try? FileSystem.realPath("/proc/self/exe")) ?? ""
        while !path.isEmpty && !FileSystem.isExecutableFile(path + "/flowspoold") {
            guard let slash = path.lastIndex(of: "/") else { break }
            path = String(path[..<slash])
        }
        return path
    }

    public static func program(_ name: String) -> String { binDirectory + "/" + name }

    /// Where bin/test installs the build's answers' gate, setgid (bin/install-gate), and where the
    /// build's programs look for it (RunnerPath: ../libexec/flowspool beside them).
    public static var gateDirectory: String { binDirectory + "/../libexec/flowspool" }

    /// The runner path the tests' supervisors get: the build, then the gate.
    public static var runnerPath: String { binDirectory + ":" + gateDirectory }

    /// The package root, for the man pages and the test servers.
    public static var packageRoot: String {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path
    }

    /// A man page's path in man/, laid out by section (man/man1/flowspool.1) so that
    /// MANPATH=$PWD/man finds them.
    public static func manPage(_ page: String) -> String {
        packageRoot + "/man/man" + (page.split(separator: ".").last.map(String.init) ?? "") + "/" + page
    }

    /// How many times longer than on an idle machine a test waits now: the load per processor, from
    /// 1 (idle or lightly loaded) to 5. The load is the greater of the last minute's average and
    /// the tasks runnable this moment (/proc/loadavg), as the average lags a burst by a minute.
    public static func loadFactor() -> Double {
        guard let text = try? FileSystem.readText("/proc/loadavg") else { return 1 }
        let fields = text.split(separator: " ")
        let average = fields.first.flatMap { Double($0) } ?? 0
        let runnable = fields.dropFirst(3).first?.split(separator: "/").first.flatMap { Double($0) } ?? 0
        return min(5, max(1, max(average, runnable) / Double(CurrentProcess.processorCount)))
    }

    /// A variable bin/test exports. Missing means the tests were not started by bin/test: the
    /// message says so instead of letting a test skip quietly.
    public static func required(_ name: String) -> String {
        guard let value = Environment.value(name), !value.isEmpty else {
            fatalError("\(name) is not set: run the tests with ./bin/test, which starts the servers they talk to")
        }
        return value
    }

    /// The loopback HTTP server's base URL, e.g. http://127.0.0.1:41234
    public static var httpURL: String { required("FLOWSPOOL_TEST_HTTP_URL") }
    /// The same HTTP server on 127.0.0.2, which is another host to a client: for redirects that leave
    /// the first host.
    public static var httpOtherHostURL: String { required("FLOWSPOOL_TEST_HTTP_OTHER_HOST_URL") }
    /// The loopback HTTPS server's base URL; its certificate is signed by `caCertificate`.
    public static var httpsURL: String { required("FLOWSPOOL_TEST_HTTPS_URL") }
    /// The path of the PEM CA that signed the HTTPS server's certificate.
    public static var caCertificate: String { required("FLOWSPOOL_TEST_CA") }
    /// The path of a PEM CA that did not sign it.
    public static var wrongCACertificate: String { required("FLOWSPOOL_TEST_WRONG_CA") }

    /// The loopback sshd: its port, its test user and that user's password.
    public static var redisPort: Int { Int(required("FLOWSPOOL_TEST_REDIS_PORT")) ?? 0 }
    /// A redis-server with requirepass and an ACL user.
    public static var protectedRedisPort: Int { Int(required("FLOWSPOOL_TEST_REDIS_PROTECTED_PORT")) ?? 0 }
    public static var redisPassword: String { required("FLOWSPOOL_TEST_REDIS_PASSWORD") }
    public static var redisUser: String { required("FLOWSPOOL_TEST_REDIS_USER") }
    public static var redisUserPassword: String { required("FLOWSPOOL_TEST_REDIS_USER_PASSWORD") }

    /// The SMTP server with STARTTLS and AUTH (for smtpUser), and the one without either.
    public static var smtpPort: Int { Int(required("FLOWSPOOL_TEST_SMTP_PORT")) ?? 0 }
    public static var plainSMTPPort: Int { Int(required("FLOWSPOOL_TEST_SMTP_PLAIN_PORT")) ?? 0 }
    /// The address of the SMTP server with TLS from the first byte, on port 465.
    public static var smtpsHost: String { required("FLOWSPOOL_TEST_SMTPS_HOST") }
    /// An SMTP server with TLS from the first byte on 127.0.0.1, at a port other than 465.
    public static var smtpsPort: Int { Int(required("FLOWSPOOL_TEST_SMTPS_PORT")) ?? 0 }
    public static var smtpUser: String { required("FLOWSPOOL_TEST_SMTP_USER") }
    public static var smtpPassword: String { required("FLOWSPOOL_TEST_SMTP_PASSWORD") }
    /// Where the SMTP servers write each message they receive, as JSON.
    public static var mailDirectory: String { required("FLOWSPOOL_TEST_MAIL_DIR") }

    /// moto's AWS-compatible server, and the key of its IAM user (SigV4 is checked).
    public static var awsEndpoint: String { required("FLOWSPOOL_TEST_AWS_ENDPOINT") }
    /// A second moto without IAM checks, for the calls whose signatures moto checks wrongly, boto3's
    /// too (rest-json and Route 53 GETs, S3 keys with reserved characters); the same key is taken.
    public static var awsOpenEndpoint: String { required("FLOWSPOOL_TEST_AWS_OPEN_ENDPOINT") }
    public static var awsKeyID: String { required("FLOWSPOOL_TEST_AWS_KEY_ID") }
    public static var awsSecret: String { required("FLOWSPOOL_TEST_AWS_SECRET") }

    /// An sshd with Debian's defaults: it refuses ssh-rsa (SHA-1) signatures.
    public static var stockSSHPort: Int { Int(required("FLOWSPOOL_TEST_STOCK_SSH_PORT")) ?? 0 }

    public static var sshPort: Int { Int(required("FLOWSPOOL_TEST_SSH_PORT")) ?? 0 }
    public static var sshUser: String { required("FLOWSPOOL_TEST_SSH_USER") }
    public static var sshPassword: String { required("FLOWSPOOL_TEST_SSH_PASSWORD") }

    /// The responders' group bin/test creates, and the test user in it (flowspool-spool(5), SECURITY).
    public static var respondersGroup: String { required("FLOWSPOOL_TEST_RESPONDERS") }
    public static var responder: String { required("FLOWSPOOL_TEST_RESPONDER") }
    /// A user in no group of the spool's.
    public static let outsider = "nobody"

    /// A file of the sshd's directory: host_ed25519.pub, id_rsa, id_rsa_pem, id_ed25519_pass, ...
    public static func sshFile(_ name: String) -> String {
        ((try? FileSystem.readText(required("FLOWSPOOL_TEST_SSH_DIR") + "/" + name)) ?? nil) ?? ""
    }

    /// A port on 127.0.0.1 where nothing listens.
    public static func closedPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
