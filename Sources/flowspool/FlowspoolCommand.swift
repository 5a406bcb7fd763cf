import ArgumentParser
import Basics
import Commands
import POSIX
import Spool

/// `flowspool`: the user's command line over a spool or a cluster (flowspool(1)). It only parses:
/// what each command does is in the Commands module, over a Backend.
public struct FlowspoolCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "flowspool",
        abstract: "Submit, run, inspect and cancel flowspool executions.",
        usage: "flowspool [--spool <dir> | --cluster <url>] <subcommand> [<arguments>]",
        discussion: """
            Every command works on the spool given by --spool <dir> (before or after the command), \
            else $FLOWSPOOL_SPOOL, else ./spool. With --cluster redis://... (or $FLOWSPOOL_CLUSTER), \
            submit, run, status, wait, show, list, cancel and gc work on a cluster's queue, and nodes \
            lists its hosts; an option the cluster lacks is refused. See flowspool(1) and \
            flowspool-cluster(7).
            """,
        version: FlowspoolVersion.line(for: "flowspool"),
        subcommands: [
            Submit.self, Run.self, Status.self, Show.self, Wait.self, List.self, Log.self, Cancel.self,
            Inputs.self, Top.self, SettingsCommand.self, GC.self, Doctor.self, Nodes.self,
        ])

    /// ArgumentParser takes these before the command or after it: the root's options are looked
    /// for in the whole command line, and a command that has the same group is given the root's
    /// values (and shows the options in its help).
    @OptionGroup var place: BackendOptions

    public init() {}

    public static func runCommandLine() {
        CurrentProcess.openStandardDescriptors()
        main()
    }
}

/// Where the commands act: --spool DIR or --cluster URL, else $FLOWSPOOL_CLUSTER, else the spool
/// $FLOWSPOOL_SPOOL or ./spool names.
struct BackendOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The spool directory (default: $FLOWSPOOL_SPOOL, else ./spool).", valueName: "dir"))
    var spool: String?

    @Option(help: ArgumentHelp("Work on the cluster at redis://[USER:PASSWORD@]HOST:PORT[/DB] (default: $FLOWSPOOL_CLUSTER).", valueName: "url"))
    var cluster: String?

    var clusterURL: String? { ClusterBackend.url(cluster: cluster, spool: spool) }

    /// The back-end the command line names, once the options it lacks of `given` are refused
    /// (Backend.refuse), before it is reached.
    func backend(refusing given: [CommandOption] = []) throws -> any Backend {
        guard let url = clusterURL else {
            try LocalSpoolBackend.refuse(given)
            return LocalSpoolBackend(spool: try openSpool(spool))
        }
        return try ClusterBackend(url: url, spool: spool, refusing: given)
    }

    /// The spool of a command that reads a local spool's own files: --cluster is refused, as
    /// $FLOWSPOOL_CLUSTER is not looked at.
    func localSpool(for command: String) throws -> Spool {
        try refuseCluster(for: command)
        return try openSpool(spool)
    }

    func refuseCluster(for command: String) throws {
        guard cluster == nil else {
            throw CommandFailure.usage("--cluster is not supported with \(command): it reads a local spool's own files; run it on a host, with --spool")
        }
    }

    /// The cluster `nodes` lists.
    func cluster(for command: String) throws -> ClusterBackend {
        guard let url = clusterURL else {
            let why = spool != nil && Environment.value("FLOWSPOOL_CLUSTER") != nil ? "; --spool sets $FLOWSPOOL_CLUSTER aside" : ""
            throw CommandFailure.usage("\(command) lists a cluster's hosts: give --cluster redis://HOST:PORT, or set $FLOWSPOOL_CLUSTER\(why)")
        }
        return try ClusterBackend(url: url, spool: spool)
    }
}

extension ParsableCommand {
    /// Runs `body`, turning a CommandFailure, or a SpoolError or SystemError it let through, into
    /// its message on stderr and its exit code: 77 for a permission denial, in every command.
    func reportingFailures(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error where error is CommandFailure || error is SystemErrorCarrying {
            let failure = CommandFailure(error)
            if !failure.description.isEmpty { OperatorLine.write(failure.description) }
            throw ExitCode(failure.exitCode)
        }
    }
}
