import JSON
import POSIX
import SSH
import Spool
import TaskRunner

/// The SSH task: runs a script on a remote host through its user's shell, with libssh2. The host
/// key is always checked against the `hostkey` input before anything else is sent.
public enum SSHTask {
    public static let taskType = "SSH"

    /// Work a runner started to be reused does before its first execution arrives.
    public static func prepare() {
        SSHConnection.initializeLibrary()
    }

    /// The libssh2 this runner loaded, for `--version` (and so `flowspool doctor`):
    /// "libssh2 1.11.1 from /path/libssh2.so.1".
    public static func libraryDescription() -> String {
        "libssh2 \(SSHConnection.libraryVersion) from \(SSHConnection.libraryPath ?? "an unknown file")"
    }

    public static func run(_ inputs: inout TaskInputs, context: TaskContext) throws(TaskFailure) -> TaskResult {
        let request = try SSHRequest(&inputs)
        let target = "\(request.username)@\(request.hostname):\(request.port)"
        let connectDeadline = Clock.monotonic() + request.connectTimeout
        let connection = try connect(request, deadline: connectDeadline)
        defer { connection.close() }
        connection.setTimeout(until: connectDeadline)
        try authenticate(connection, request, target: target)
        context.log.line("connected to \(target)")
        let variables = OutputVariables(script: request.script)
        var collected = ReportBuffer()
        let ending: SSHConnection.Ending
        do {
            ending = try connection.run(variables.wrapping(request.script), timeout: request.scriptTimeout) { _, bytes in
                collected.append(bytes)
            }
        } catch {
            throw TaskFailure("the script on \(target) failed: \(error.detail)", outputs: outputs(collected, request, variables, retcode: nil))
        }
        switch ending {
        case .timedOut:
            throw TaskFailure(
                "script timeout after \(describe(request.scriptTimeout)) s", outputs: outputs(collected, request, variables, retcode: nil))
        case .signaled(let signal):
            // 255, as ssh exits when the remote command was killed by a signal.
            throw TaskFailure("the script on \(target) was killed by SIG\(signal) (retcode 255, as ssh gives)", outputs: outputs(collected, request, variables, retcode: Self.signaledRetcode))
        case .exited(let code):
            let result = outputs(collected, request, variables, retcode: Int(code))
            context.log.line("the script on \(target) exited with \(code)")
            if let expected = request.expectedRetcodes, !expected.contains(Int(code)) {
                let list = expected.map(String.init).joined(separator: ", ")
                throw TaskFailure("the script on \(target) returned \(code) (expected \(list))", outputs: result)
            }
            return TaskResult(outputs: result)
        }
    }

    static func describe(_ seconds: Double) -> String {
        seconds.rounded() == seconds ? String(Int(seconds)) : String(seconds)
    }

    /// Connects to a server that proves it holds one of the pinned keys, or fails before any
    /// authentication, showing the keys it offered in the form to paste into `hostkey`. A server
    /// with keys of several kinds is asked for each pinned kind in turn.
    static func connect(_ request: SSHRequest, deadline: Double) throws(TaskFailure) -> SSHConnection {
        let place = "\(request.hostname):\(request.port)"
        let kinds: [String?] = request.hostKeys.kinds.isEmpty ? [nil] : request.hostKeys.kinds
        var offered: [String] = []
        var rsaRefused = false
        for kind in kinds {
            let connection: SSHConnection
            do {
                connection = try SSHConnection(
                    host: request.hostname, port: request.port, deadline: deadline, hostKeyAlgorithms: kind.map(hostKeyMethods))
            } catch {
                if error.isTimeout {
                    throw TaskFailure("connect timeout after \(describe(request.connectTimeout)) s connecting to \(place) (\(error.detail))")
                }
                if error.call == "libssh2_session_handshake" && kind != nil {  // no key of that kind, or no method for it
                    if kind == "ssh-rsa" && error.isNegotiationFailure { rsaRefused = true }
                    continue
                }
                throw TaskFailure("cannot connect to \(place): \(error.detail)")
            }
            guard let key = connection.hostKey else { continue }
            if kind != nil && request.hostKeys.accepts(key) { return connection }
            offered.append(HostKeys.pasteForm(of: key))
            connection.close()
        }
        if request.hostKeys.keys.isEmpty {
            throw TaskFailure("input 'hostkey' is required: \(place) offered this key; if it is the right one, give it as the hostkey input:\n\(offered.joined(separator: "\n"))")
        }
        if offered.isEmpty && rsaRefused && !supportsRSASHA2 {
            throw TaskFailure("""
                cannot check the RSA host key pinned for \(place): the server refuses ssh-rsa (SHA-1) signatures, \
                as OpenSSH 8.8 and later do, and libssh2 \(SSHConnection.libraryVersion) can check RSA host keys only as ssh-rsa. \
                Pin the host's ed25519 or ECDSA key instead (ssh-keyscan -t ed25519 -p \(request.port) \(request.hostname) prints it), \
                or run with libssh2 1.11 (./bin/flowspoold and bin/install set it up); nothing was sent
                """)
        }
        if offered.isEmpty {
            throw TaskFailure("host key mismatch for \(place): it has no key of the kinds in the hostkey input (\(request.hostKeys.kinds.joined(separator: ", "))); nothing was sent")
        }
        throw TaskFailure("host key mismatch for \(place): it offered\n\(offered.joined(separator: "\n"))\nwhich is none of the keys in the hostkey input; nothing was sent")
    }

    /// The host-key methods to ask for a pinned kind: an RSA key as rsa-sha2-512, rsa-sha2-256 and
    /// ssh-rsa, those the loaded libssh2 has, so that one binary does the right thing with 1.10 and 1.11.
    static func hostKeyMethods(_ kind: String) -> String {
        guard kind == "ssh-rsa" else { return kind }
        let supported = SSHConnection.supportedHostKeyAlgorithms
        let methods = ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"].filter { supported.isEmpty || supported.contains($0) }
        return methods.joined(separator: ",")
    }

    /// Whether the loaded libssh2 signs and checks RSA with SHA-2 (1.11 and later).
    static var supportsRSASHA2: Bool { SSHConnection.supportedHostKeyAlgorithms.contains("rsa-sha2-256") }

    static func authenticate(_ connection: SSHConnection, _ request: SSHRequest, target: String) throws(TaskFailure) {
        var failures: [String] = []
        if let key = request.key {
            if key.isEncrypted && request.passphrase == nil {
                throw TaskFailure("the key for \(target) is encrypted: give its passphrase in the passphrase input")
            }
            do {
                try connection.authenticate(user: request.username, privateKey: key.text, passphrase: request.passphrase)
                return
            } catch {
                failures.append("key: \(reason(error, key: key))")
            }
        }
        if let password = request.password {
            do {
                try connection.authenticate(user: request.username, password: password)
                return
            } catch {
                failures.append("password: \(error.detail)")
            }
        }
        if failures.isEmpty {
            throw TaskFailure("give a password or a key input to log in to \(target)")
        }
        throw TaskFailure("authentication failed for \(target) (\(failures.joined(separator: "; ")))")
    }

    /// Why a key was refused, each failure with its own reason.
    static func reason(_ error: SSHError, key: PrivateKey) -> String {
        if error.isUnusableKey {
            return key.isEncrypted ? "the passphrase does not open this encrypted key" : "libssh2 cannot read this key (\(error.detail))"
        }
        if key.isRSA && !supportsRSASHA2 {
            // libssh2 1.10 signs with RSA keys only as ssh-rsa (SHA-1), which OpenSSH 8.8 and later refuse.
            return "\(error.detail); libssh2 \(SSHConnection.libraryVersion) signs with RSA keys only as ssh-rsa (SHA-1), which OpenSSH 8.8 and later refuse unless PubkeyAcceptedAlgorithms allows it: log in with an ed25519 key, or run with libssh2 1.11 (./bin/flowspoold and bin/install set it up)"
        }
        return error.detail
    }

    /// The retcode of a script killed by a signal: what ssh(1) exits with then.
    static let signaledRetcode = 255

    static func outputs(_ collected: ReportBuffer, _ request: SSHRequest, _ variables: OutputVariables, retcode: Int?) -> JSONObject {
        let (values, extracted) = variables.extract(from: String(decoding: collected.bytes, as: UTF8.self))
        let raw = collected.dropped > 0 ? "[the first \(collected.dropped) bytes of the report were dropped]\n" + extracted : extracted
        func clean(_ text: String) -> String {
            var text = text
            if request.removeCarriageReturns { text = Report.removingCarriageReturns(text) }
            if request.removeANSIEscapes { text = Report.removingANSIEscapes(text) }
            return text
        }
        var result: JSONObject = ["retcode": retcode.map(JSON.int) ?? .null, "report": .string(clean(raw))]
        if !variables.names.isEmpty {
            result["var"] = .object(JSONObject(variables.names.map { ($0, values[$0].map { .string(clean($0)) } ?? .null) }))
        }
        return result
    }
}

/// The SSH task's inputs, with the platform's later underscore spellings accepted too.
struct SSHRequest {
    let hostname: String
    let hostKeys: HostKeys
    let port: Int
    let username: String
    let password: String?
    let key: PrivateKey?
    let passphrase: String?
    let script: String
    let connectTimeout: Double
    let scriptTimeout: Double
    let removeCarriageReturns: Bool
    let removeANSIEscapes: Bool
    let expectedRetcodes: [Int]?

    init(_ inputs: inout TaskInputs) throws(TaskFailure) {
        try inputs.refuseNULCharacters("libssh2 would cut the text at")
        hostname = try inputs.requiredString("hostname")
        let pasted = try inputs.string("hostkey") ?? ""
        hostKeys = HostKeys(parsing: pasted)
        if !pasted.isEmpty && hostKeys.keys.isEmpty {
            throw TaskFailure("input 'hostkey' holds no key: give lines like 'ssh-ed25519 AAAA...' (what ssh-keyscan prints)")
        }
        let portNumber = try inputs.number("port") ?? 22
        guard portNumber.rounded() == portNumber, (1...65535).contains(portNumber) else {
            throw TaskFailure("input 'port' must be a port number (1 to 65535), not \(portNumber)")
        }
        port = Int(portNumber)
        username = try inputs.requiredString("username")
        password = try inputs.string("password")
        key = try inputs.string("key").map(PrivateKey.init)
        passphrase = try inputs.string("passphrase")
        script = try inputs.requiredString("script")
        connectTimeout = try Self.seconds(&inputs, "connect-timeout", "connect_timeout", default: 10)
        scriptTimeout = try Self.seconds(&inputs, "script-timeout", "script_timeout", default: 60)
        removeCarriageReturns = try Self.flag(&inputs, "remove-cr", "remove_cr")
        removeANSIEscapes = try Self.flag(&inputs, "remove-ansi-escapes", "remove_ansi_escapes")
        // One return code or a list of them, as REST's expected_status_code takes.
        let expected = inputs.value("expected_retcode")
        expectedRetcodes = try expected.map { (value) throws(TaskFailure) -> [Int] in
            if let single = value.intValue { return [single] }
            guard let list = value.arrayValue else {
                throw TaskFailure("input 'expected_retcode' must be a return code or a list of them, not \(value.kindDescription)")
            }
            return try list.map { (element) throws(TaskFailure) -> Int in
                guard let code = element.intValue else {
                    throw TaskFailure("input 'expected_retcode' must be a list of return codes, not \(element.compactText)")
                }
                return code
            }
        }
        try inputs.rejectUnknown()
    }

    static func seconds(_ inputs: inout TaskInputs, _ name: String, _ alias: String, default value: Double) throws(TaskFailure) -> Double {
        let given = try inputs.number(name)
        let spelledLater = try inputs.number(alias)
        let seconds = given ?? spelledLater ?? value
        guard seconds > 0, seconds <= 2_000_000 else {
            throw TaskFailure("input '\(name)' must be a positive number of seconds, not \(seconds)")
        }
        return seconds
    }

    static func flag(_ inputs: inout TaskInputs, _ name: String, _ alias: String) throws(TaskFailure) -> Bool {
        let given = try inputs.bool(name)
        let spelledLater = try inputs.bool(alias)
        return given ?? spelledLater ?? true
    }
}

/// A script's output as it comes, keeping at most the last `limit` bytes (64 MiB), so that a script
/// printing without end cannot fill memory or the spool; the end, where #OUTPUT_VAR values come, stays.
struct ReportBuffer {
    private(set) var bytes: [UInt8] = []
    private(set) var dropped = 0
    let limit = 64 << 20

    mutating func append(_ chunk: [UInt8]) {
        bytes += chunk
        if bytes.count > limit + limit / 4 {
            let excess = bytes.count - limit
            bytes.removeFirst(excess)
            dropped += excess
        }
    }
}
