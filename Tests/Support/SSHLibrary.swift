#if canImport(Glibc)
import Glibc
#endif
import POSIX

/// The libssh2 the SSH runner of the test build loads: the one the dynamic loader finds for
/// libssh2.so.1, as the library itself says (dlopen in this process, apart from the runner).
public enum SSHLibrary {
    /// Its version, from the library itself: "1.10.0".
    public static let version: String = {
        guard let library = dlopen("libssh2.so.1", RTLD_NOW), let symbol = dlsym(library, "libssh2_version") else { return "unknown" }
        typealias Version = @convention(c) (Int32) -> UnsafePointer<CChar>?
        return unsafeBitCast(symbol, to: Version.self)(0).map { String(cString: $0) } ?? "unknown"
    }()

    /// Its file, as /proc/self/maps names it once it is loaded.
    public static var path: String? {
        _ = version
        let maps = (try? FileSystem.readText("/proc/self/maps")) ?? nil
        return maps?.split(separator: "\n").lazy
            .compactMap { line in line.firstIndex(of: "/").map { String(line[$0...]) } }
            .first { $0.split(separator: "/").last?.hasPrefix("libssh2.so") == true }
    }

    public static var hasRSASHA2: Bool {
        let parts = version.split(separator: ".").compactMap { Int($0) }
        return parts.count >= 2 && (parts[0], parts[1]) >= (1, 11)
    }

    /// Where bin/test's run of bin/libssh2-1.11 unpacked Debian 13's libssh2 (the default of
    /// FLOWSPOOL_LIBSSH2_DIR), and the wrapper directory it made for the test build; nil, with why,
    /// when that run could not fetch it.
    public static var unpacked: (directory: String, runners: String)? {
        guard let runners = Environment.value("FLOWSPOOL_TEST_LIBSSH2_RUNNERS") else { return nil }
        return (Environment.value("FLOWSPOOL_LIBSSH2_DIR") ?? TestEnvironment.packageRoot + "/.build/libssh2-1.11", runners)
    }

    /// Why `unpacked` is nil.
    public static var unavailable: String {
        Environment.value("FLOWSPOOL_TEST_LIBSSH2_UNAVAILABLE") ?? "bin/test did not run bin/libssh2-1.11"
    }
}
