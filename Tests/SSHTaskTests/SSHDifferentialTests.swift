import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// flowspool's SSH task beside OpenSSH's ssh, the client its users know, on the same sshd: each case
/// runs one script through both, maps what ssh gave to the task's outputs (`retcode`, its exit
/// status; `report`, both streams as `ssh host script 2>&1` writes them), and compares the two field
/// by field. Every mismatch must be one of the differences flowspool-tasks(7) documents
/// (`Differences.ssh`), and each of those must be met by some case.
@Suite("SSH differential")
struct SSHDifferentialTests {
    /// One script, and the inputs flowspool gets besides the connection's.
    struct Case: Sendable {
        let name: String
        let script: String
        var inputs: JSONObject = [:]
        /// script-timeout for flowspool, and `timeout SECONDS ssh ...` for the reference.
        var timeout: Int?
        /// Log in with the password instead of the key (ssh uses the key: the login must not
        /// change what the script does).
        var password = false
    }

    /// Both cleanings off, for the cases that compare the bytes as ssh gives them.
    static let raw: JSONObject = ["remove-cr": false, "remove-ansi-escapes": false]

    static let cases: [Case] = [
        // Exit codes.
        Case(name: "one line, exit 0", script: "echo hello"),
        Case(name: "exit 1", script: "echo failing; exit 1"),
        Case(name: "exit 3 from a function", script: "f() { echo in f; return 3; }; f"),
        Case(name: "exit 255", script: "echo last words; exit 255"),
        Case(name: "exit 300 is 44", script: "exit 300"),
        Case(name: "a subshell's exit does not end the script", script: #"(exit 7); echo "subshell $?""#),
        Case(name: "exit 3 outside expected_retcode", script: "echo three; exit 3", inputs: ["expected_retcode": [0]]),
        // Streams.
        Case(name: "no output", script: "true"),
        Case(name: "no final newline", script: "printf 'no newline'"),
        Case(name: "standard error only", script: "echo to-stderr >&2; exit 2"),
        Case(name: "standard output, then standard error", script: "echo out; echo err >&2"),
        Case(name: "quotes, dollars, backslashes, tabs", script: #"printf '%s\n' "it's" 'say "hi"' '$HOME' 'back\slash' "$(printf 'a\tb')""#),
        Case(name: "the contract's example script, indented", script: """

                       echo "hostname" "'$(hostname)'"
                       echo "username" "'$(id -un)'"
                       echo "cpu" "'$(uname -p)'"

            """),
        // Signals.
        Case(name: "killed by SIGKILL", script: "echo before; kill -KILL $$; echo after"),
        Case(name: "killed by SIGTERM", script: "echo before; kill -TERM $$; echo after"),
        // (Its shell's "Killed" on standard error is left out: ssh writes what came on both streams
        // at once standard output first, which would make the order a race.)
        Case(name: "a child killed, the script goes on", script: #"{ sh -c 'kill -KILL $$'; } 2>/dev/null; echo "child ended $?""#),
        // Standard input.
        Case(name: "read finds end of file", script: #"read x; echo "read $? [$x]""#),
        Case(name: "cat reads nothing", script: "cat; echo after cat"),
        Case(name: "head -c reads nothing", script: #"head -c 10; echo "head $?""#),
        // Size.
        Case(name: "1 MB of lines", script: "seq 1 150000"),
        Case(name: "8 MiB in one line", script: "head -c 8388608 /dev/zero | tr '\\0' x"),
        Case(name: "600 kB on standard error", script: "seq 1 100000 >&2"),
        // Bytes and text.
        Case(name: "bytes that are not UTF-8", script: #"printf 'bytes \001\177\200\376\377 end\n'"#, inputs: raw),
        Case(name: "NUL bytes", script: #"printf 'a\000b\n'"#),
        Case(name: "unicode", script: "echo 'héllo wörld ✓ 日本語 🎉'; printf 'e\\314\\201 combined\\n'"),
        Case(name: "CRLF kept with remove-cr false", script: #"printf 'one\r\ntwo\r\n'"#, inputs: ["remove-cr": false]),
        Case(name: "CRLF by default", script: #"printf 'one\r\ntwo\r\n'"#),
        Case(name: "a progress bar's CRs by default", script: #"printf '10%%\r50%%\r100%%\n'"#),
        Case(name: "a script with CRLF line ends, by default", script: "echo a\r\necho b\r\n"),
        Case(name: "ANSI colours kept with remove-ansi-escapes false", script: #"printf '\033[1;31mred\033[0m\n'"#, inputs: ["remove-ansi-escapes": false]),
        Case(name: "ANSI colours by default", script: #"printf '\033[1;31mred\033[0m and \033[32mgreen\033[m\n'"#),
        Case(name: "ANSI title, charset, cursor by default", script: #"printf '\033]0;title\007\033(Bplain \0337saved\0338 \033[2K\033[1Gdone\n'"#),
        // The remote side.
        Case(name: "environment", script: #"env | sed -E 's/^(SSH_CLIENT|SSH_CONNECTION)=127\.0\.0\.1 [0-9]+ /\1=127.0.0.1 PORT /' | sort"#),
        Case(name: "not a login shell, no terminal", script: #"echo "$0 [$-] ${PS1-no PS1}"; tty; echo "tty $?"; pwd; umask"#),
        Case(name: "a login shell the script starts", script: #"sh -l -c 'echo "$0"; echo "$PATH"'"#),
        Case(name: "password login", script: "id -un; echo $HOME", password: true),
        Case(name: "a background job holding the output is waited for", script: "(sleep 0.3; echo late) & echo early"),
        Case(name: "a background job with its output elsewhere is not", script: "nohup sleep 3 >/dev/null 2>&1 & echo started"),
        // #OUTPUT_VAR.
        Case(name: "#OUTPUT_VAR", script: "#OUTPUT_VAR(GREETING)\nGREETING='hello world'\necho visible\nexit 4"),
        Case(name: "#OUTPUT_VAR keeps the script's line numbers", script: "#OUTPUT_VAR(X)\nX=1\necho before\nno-such-command-flowspool"),
        // script-timeout.
        Case(name: "script-timeout", script: "echo started; sleep 10; echo never", timeout: 1),
        Case(name: "script-timeout after the output closed", script: "echo started; exec >/dev/null 2>&1; sleep 10", timeout: 1),
    ]

    @Test("each case's outputs are ssh's, field by field, but for the documented differences")
    func differential() throws {
        let test = try TestSpool()
        try test.startSupervisor()
        let reference = try ReferenceSSH()
        let ledger = Differential.Ledger("SSH")
        for item in Self.cases {
            let ours = try test.run("SSH", inputs(item), timeout: 120)
            let theirs = try reference.run(item.script, timeout: item.timeout)
            ledger.record(item.name, Differential.mismatches(.object(ours.outputs), Self.outputs(of: theirs)))
        }
        ledger.finish()
    }

    func inputs(_ item: Case) -> JSONObject {
        var inputs: JSONObject = [
            "hostname": "127.0.0.1", "port": .int(TestEnvironment.sshPort), "username": .string(TestEnvironment.sshUser),
            "hostkey": .string(SSHTaskTests.hostKey()), "script": .string(item.script),
        ]
        inputs[item.password ? "password" : "key"] = .string(item.password ? TestEnvironment.sshPassword : TestEnvironment.sshFile("id_ed25519"))
        if let timeout = item.timeout { inputs["script-timeout"] = .int(timeout) }
        for (name, value) in item.inputs { inputs[name] = value }
        return inputs
    }

    /// What ssh gave, in the task's outputs: its exit status as `retcode`, and its output as
    /// `report`, text when it is UTF-8, else its bytes (JSON holds no other string).
    static func outputs(of result: ReferenceSSH.Result) -> JSON {
        let report: JSON = String(validating: result.output, as: UTF8.self).map(JSON.string)
            ?? .array(result.output.map { .int(Int($0)) })
        return .object(["retcode": result.exitCode.map { .int(Int($0)) } ?? .null, "report": report])
    }
}
