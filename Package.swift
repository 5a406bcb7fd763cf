// swift-tools-version:6.0
import PackageDescription

/// Runners and the supervisor link only what they need, so that a runner starts in a few milliseconds:
/// none of the library modules imports Foundation.
let package = Package(
    name: "flowspool",
    products: [
        .executable(name: "flowspoold", targets: ["flowspoold"]),
        .executable(name: "flowspool", targets: ["flowspool"]),
        .executable(name: "flowspool-task-REST", targets: ["flowspool-task-REST"]),
        .executable(name: "flowspool-task-FLOW", targets: ["flowspool-task-FLOW"]),
        .executable(name: "flowspool-task-INPUT", targets: ["flowspool-task-INPUT"]),
        .executable(name: "flowspool-task-SSH", targets: ["flowspool-task-SSH"]),
        .executable(name: "flowspool-task-REDIS", targets: ["flowspool-task-REDIS"]),
        .executable(name: "flowspool-task-SMTP", targets: ["flowspool-task-SMTP"]),
        .executable(name: "flowspool-task-AWS", targets: ["flowspool-task-AWS"]),
        .executable(name: "respond", targets: ["respond"]),
        .executable(name: "flowspool-drop", targets: ["flowspool-drop"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        // C shims: one per library.
        .systemLibrary(name: "CPOSIX", path: "Sources/CPOSIX"),
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CLibSSH2", path: "Sources/CLibSSH2", pkgConfig: "libssh2", providers: [.apt(["libssh2-1-dev"])]),
        // hiredis's pkg-config file adds -D_FILE_OFFSET_BITS=64, which SwiftPM refuses with a warning on every
        // build: the module map finds <hiredis/hiredis.h> and links hiredis without it (libhiredis-dev).
        .systemLibrary(name: "CHiredis", path: "Sources/CHiredis"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        // Library modules.
        .target(name: "POSIX", dependencies: ["CPOSIX", .product(name: "SystemPackage", package: "swift-system")]),
        .target(name: "JSON"),
        // What every program shares: its exit statuses, its version line, its lines for the operator,
        // and the small text helpers (control characters escaped, trimming, Base64).
        .target(name: "Basics", dependencies: ["POSIX", "JSON"]),
        // task-types is the one list of the built-in task types, for the programs and bin/ alike.
        .target(name: "Spool", dependencies: ["Basics", "POSIX", "JSON"], resources: [.embedInCode("task-types")]),
        .target(name: "TaskRunner", dependencies: ["Basics", "Spool", "POSIX", "JSON"]),
        .target(name: "Curl", dependencies: ["CCurl", "POSIX"]),
        .target(name: "RESTTask", dependencies: ["Basics", "TaskRunner", "Spool", "Curl", "POSIX", "JSON"]),
        // The Python flow stub is a Python file, embedded in the FLOW runner when it is built.
        .target(name: "FlowTask", dependencies: ["Basics", "TaskRunner", "Spool", "POSIX", "JSON"], resources: [.embedInCode("flow_stub.py")]),
        .target(name: "SSH", dependencies: ["CLibSSH2", "POSIX"]),
        .target(name: "SSHTask", dependencies: ["Basics", "TaskRunner", "Spool", "SSH", "POSIX", "JSON"]),
        .target(name: "InputTask", dependencies: ["TaskRunner", "Spool", "POSIX", "JSON"]),
        .target(name: "Redis", dependencies: ["CHiredis", "POSIX"]),
        .target(name: "RedisTask", dependencies: ["Basics", "TaskRunner", "Spool", "Redis", "POSIX", "JSON"]),
        .target(name: "SMTPTask", dependencies: ["Basics", "TaskRunner", "Spool", "Curl", "POSIX", "JSON"]),
        .target(name: "Zlib", dependencies: ["CZlib"]),
        .target(name: "OpenSSL", dependencies: ["CCrypto"]),
        .target(name: "AWSTask", dependencies: ["Basics", "TaskRunner", "Spool", "Curl", "Zlib", "OpenSSL", "POSIX", "JSON"]),
        .target(name: "DropGate", dependencies: ["Basics", "Spool", "POSIX"]),
        // respond(1)'s side of the drop box, for respond and the cluster bridge; apart from DropGate,
        // so that the setgid gate does not carry it.
        .target(name: "Responder", dependencies: ["Basics", "DropGate", "Spool", "POSIX"]),
        .target(name: "Supervisor", dependencies: ["Basics", "Spool", "DropGate", "POSIX", "JSON"]),
        .target(name: "Cluster", dependencies: ["Basics", "Redis", "Spool", "Responder", "POSIX", "JSON"]),
        // What the commands of flowspool and respond do, over a local spool or a cluster (Backend),
        // with listing, tables and waiting: the programs only parse their command lines.
        .target(name: "Commands", dependencies: ["Basics", "Spool", "Responder", "Cluster", "POSIX", "JSON"]),

        // Programs: their command lines (ArgumentParser) over the library modules.
        .executableTarget(
            name: "flowspoold",
            dependencies: ["Basics", "Supervisor", "Cluster", "DropGate", "Spool", "POSIX", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(
            name: "flowspool",
            dependencies: ["Basics", "Commands", "Spool", "DropGate", "POSIX", "JSON", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // The setgid gate links nothing it does not need.
        .executableTarget(name: "flowspool-drop", dependencies: ["DropGate"]),
        .executableTarget(name: "flowspool-task-REST", dependencies: ["RESTTask"]),
        .executableTarget(name: "flowspool-task-FLOW", dependencies: ["FlowTask"]),
        .executableTarget(name: "flowspool-task-INPUT", dependencies: ["InputTask"]),
        .executableTarget(name: "flowspool-task-SSH", dependencies: ["SSHTask"]),
        .executableTarget(name: "flowspool-task-REDIS", dependencies: ["RedisTask"]),
        .executableTarget(name: "flowspool-task-SMTP", dependencies: ["SMTPTask"]),
        .executableTarget(name: "flowspool-task-AWS", dependencies: ["AWSTask"]),
        .executableTarget(
            name: "respond",
            dependencies: ["Basics", "Commands", "Responder", "Spool", "POSIX", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        // Tests mirror the modules.
        .target(name: "FlowspoolTestSupport", dependencies: ["Spool", "POSIX", "JSON"], path: "Tests/Support"),
        .testTarget(name: "POSIXTests", dependencies: ["POSIX", "FlowspoolTestSupport"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "TaskRunnerTests", dependencies: ["TaskRunner", "JSON"]),
        .testTarget(name: "CurlTests", dependencies: ["Curl", "CCurl", "FlowspoolTestSupport"]),
        .testTarget(name: "SpoolTests", dependencies: ["Spool", "FlowspoolTestSupport"]),
        .testTarget(name: "RESTTaskTests", dependencies: ["Basics", "FlowspoolTestSupport", "JSON"]),
        .testTarget(name: "SSHTaskTests", dependencies: ["Basics", "FlowspoolTestSupport", "Spool", "JSON", "POSIX"]),
        .testTarget(name: "RedisTaskTests", dependencies: ["Basics", "FlowspoolTestSupport", "Spool", "JSON", "POSIX"]),
        .testTarget(name: "ClusterTests", dependencies: ["Basics", "Cluster", "FlowspoolTestSupport", "Spool", "JSON", "POSIX"]),
        // The differential table, which boto3_cases.py reads too.
        .testTarget(name: "AWSTaskTests", dependencies: ["Basics", "AWSTask", "FlowspoolTestSupport", "Spool", "JSON", "POSIX"], exclude: ["differential-cases.json"]),
        .testTarget(name: "SMTPTaskTests", dependencies: ["FlowspoolTestSupport", "Spool", "JSON", "POSIX"]),
        .testTarget(name: "InputTaskTests", dependencies: ["FlowspoolTestSupport", "InputTask", "Spool", "JSON", "POSIX"]),
        .testTarget(name: "FlowTaskTests", dependencies: ["InputTask", "FlowspoolTestSupport", "Spool", "JSON", "POSIX"]),
        // The supervisor's decision core, in process with a fake clock; SupervisorTests runs flowspoold itself.
        .testTarget(name: "SupervisorCoreTests", dependencies: ["Supervisor", "Spool", "POSIX"]),
        .testTarget(name: "SupervisorTests", dependencies: ["Basics", "FlowspoolTestSupport", "Responder", "DropGate", "Spool", "JSON"]),
        .testTarget(name: "FlowspoolCommandTests", dependencies: ["Basics", "InputTask", "FlowspoolTestSupport", "JSON"]),
        .testTarget(name: "CommandsTests", dependencies: ["Basics", "Commands", "FlowspoolTestSupport", "Spool", "JSON", "POSIX"]),
        .testTarget(name: "ManPageTests", dependencies: ["Basics", "FlowspoolTestSupport", "Spool"]),
    ],
    swiftLanguageModes: [.v6]
)
