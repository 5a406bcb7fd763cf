import Basics
import JSON
import OpenSSL
import POSIX
import Spool
import TaskRunner
import Zlib

/// One service's API model, as botocore publishes it (service-2.json): its protocol, operations and
/// shapes. Read from an installed botocore's data directory, or from FLOWSPOOL_AWS_MODELS; never
/// copied into flowspool.
struct ServiceModel {
    let client: String
    /// Where the model was read: botocore's data/CLIENT/VERSION.
    var directory = ""
    let protocolName: String
    let apiVersion: String
    let endpointPrefix: String
    let signingName: String
    let targetPrefix: String?
    let jsonVersion: String
    let globalEndpoint: String?
    /// A json service that once spoke query (sqs): it is told so, and answers query's error codes.
    let isQueryCompatible: Bool
    let operations: JSONObject
    let shapes: JSONObject

    /// The environment variable that names a models directory (botocore's `data/` layout).
    static let modelsVariable = "FLOWSPOOL_AWS_MODELS"

    /// Where botocore's data is looked for: FLOWSPOOL_AWS_MODELS when set, then every botocore
    /// installed where flowspool's scripts, Debian's package, pip as root and pip --user put it, the
    /// newest version first (Debian 12's 1.29 of 2022 must not hide a current one).
    static func candidateDirectories(runnerDirectory: String = RunnerPath.ownDirectory()) -> [String] {
        var roots = ["/usr/lib/python3/dist-packages", "/usr/local/lib/python3/dist-packages"]
        for base in ["/usr/local/lib", "/usr/lib", (Environment.value("HOME") ?? "/root") + "/.local/lib"] {
            for name in ((try? FileSystem.listDirectory(base)) ?? []).sorted().reversed() where name.hasPrefix("python3") {
                roots += [base + "/" + name + "/site-packages", base + "/" + name + "/dist-packages"]
            }
        }
        let packages = ownPackages(runnerDirectory: runnerDirectory) + roots.map { $0 + "/botocore" }
        let installed = newestFirst(packages.filter { FileSystem.exists($0 + "/data") })
        let given = Environment.value(modelsVariable).flatMap { $0.isEmpty ? nil : [$0] } ?? []
        return given + installed.map { $0 + "/data" }
    }

    /// flowspool's own botocore: the one bin/flowspoold installs from PyPI into the checkout's
    /// .build/botocore (for a runner built anywhere under .build), and the copy bin/install puts in
    /// PREFIX/share/flowspool/botocore (for a runner in PREFIX/libexec/flowspool).
    static func ownPackages(runnerDirectory: String) -> [String] {
        if let build = runnerDirectory.firstRange(of: "/.build/") {
            return [runnerDirectory[..<build.lowerBound] + "/.build/botocore/botocore"]
        }
        if runnerDirectory.hasSuffix("/libexec/flowspool") {
            return [runnerDirectory.dropLast("/libexec/flowspool".count) + "/share/flowspool/botocore"]
        }
        return []
    }

    /// Which models a runner reads, as its --version and `flowspool doctor` say: "botocore 1.43.11
    /// models in DIR"; a line beginning "warning: " when it finds none.
    static func modelsInUse(_ directories: [String] = candidateDirectories()) -> String {
        guard let directory = directories.first(where: FileSystem.exists) else {
            return "warning: no AWS API models found, so AWS jobs fail: run ./bin/flowspoold once (it installs botocore), apt-get install python3-botocore, or name botocore's data directory in \(modelsVariable)"
        }
        let version = version(ofBotocore: directory.hasSuffix("/data") ? String(directory.dropLast(5)) : directory)
        let given = Environment.value(modelsVariable) == directory ? " (\(modelsVariable))" : ""
        return version.isEmpty ? "botocore models in \(directory)\(given), of no version it declares"
            : "botocore \(version.map(String.init).joined(separator: ".")) models in \(directory)\(given)"
    }

    /// botocore package directories ordered by the version each declares, newest first; the order
    /// given among equal or unreadable versions.
    static func newestFirst(_ packages: [String]) -> [String] {
        let versions = packages.map(version(ofBotocore:))
        return packages.indices.sorted { a, b in
            versions[a] != versions[b] ? versions[b].lexicographicallyPrecedes(versions[a]) : a < b
        }.map { packages[$0] }
    }

    /// The version botocore's __init__.py declares (`__version__ = '1.43.11'`), as numbers; empty
    /// when it cannot be read.
    static func version(ofBotocore package: String) -> [Int] {
        guard let text = (try? FileSystem.readText(package + "/__init__.py")) ?? nil,
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("__version__") }) else { return [] }
        let quoted = line.split(whereSeparator: { $0 == "'" || $0 == "\"" }).dropFirst().first ?? ""
        return quoted.split(separator: ".").map { Int($0.prefix { $0.isNumber }) ?? 0 }
    }

    /// The newest API version of `client`'s model in the first directory that has it.
    static func load(_ client: String, from directories: [String] = candidateDirectories()) throws(TaskFailure) -> ServiceModel {
        guard !client.isEmpty, client.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }), client.first != "-" else {
            throw TaskFailure("input 'client' must be a service name such as ec2, s3 or sts, not '\(client.escapingControlCharacters())'")
        }
        for directory in directories where FileSystem.exists(directory) {
            let serviceDirectory = directory + "/" + client
            guard let version = ((try? FileSystem.listDirectory(serviceDirectory)) ?? []).filter({ $0.first?.isNumber == true }).max() else {
                continue
            }
            let modelDirectory = serviceDirectory + "/" + version
            let stamp = Self.stamp(of: modelDirectory)
            if let cached = Self.loaded[modelDirectory], cached.stamp == stamp { return cached.model }
            do {
                let json = try readWithExtras(modelDirectory + "/service-2")
                var model = try ServiceModel(client: client, json: json)
                model.directory = modelDirectory
                Self.loaded[modelDirectory] = (stamp, model)
                return model
            } catch {
                throw TaskFailure("the model of \(client) in \(serviceDirectory)/\(version) cannot be read: \(error)")
            }
        }
        guard directories.contains(where: FileSystem.exists) else {
            throw TaskFailure("no AWS API models found: install botocore (apt-get install python3-botocore, or pip install botocore), or name its data directory in \(modelsVariable)")
        }
        throw TaskFailure("unknown client '\(client)': botocore has no model of that service (\(directories.first(where: FileSystem.exists)!))")
    }

    /// The models this runner process has read, by directory, with the stamp of their files then: a
    /// runner serves many executions (flowspoold --reuse), and the ec2 model alone takes some 70 ms to
    /// read. A model whose files changed since (botocore upgraded) is read again.
    nonisolated(unsafe) static var loaded: [String: (stamp: [Double], model: ServiceModel)] = [:]

    /// The modification times of the files a model is read from (by default) as they are now, 0 for
    /// one that is missing: what tells a runner process that what it keeps is out of date.
    static func stamp(of directory: String, files: [String] = ["service-2.json", "service-2.json.gz", "service-2.sdk-extras.json"]) -> [Double] {
        files.map { name in ((try? FileSystem.status(directory + "/" + name)) ?? nil)?.modificationTime ?? 0 }
    }

    /// One of the model's companion files (paginators-1, waiters-2), as JSON; nil when there is none.
    func companion(_ name: String) throws(TaskFailure) -> JSON? {
        let path = directory + "/" + name + ".json"
        guard FileSystem.exists(path) || FileSystem.exists(path + ".gz") else { return nil }
        do {
            return try Self.readWithExtras(directory + "/" + name)
        } catch {
            throw TaskFailure("cannot read \(path): \(error)")
        }
    }

    /// NAME.json (or .json.gz) with NAME.sdk-extras.json's "merge" merged in, as botocore's loader does.
    static func readWithExtras(_ base: String) throws -> JSON {
        var json = try JSON(parsing: readModel(base + ".json"))
        if FileSystem.exists(base + ".sdk-extras.json"), let extras = try JSON(parsing: FileSystem.readFile(base + ".sdk-extras.json"))["merge"] {
            json = deepMerge(json, extras)
        }
        return json
    }

    /// `extra` laid over `base`: objects merged key by key, anything else replaced.
    static func deepMerge(_ base: JSON, _ extra: JSON) -> JSON {
        guard case .object(var object) = base, case .object(let more) = extra else { return extra }
        for (key, value) in more { object[key] = object[key].map { deepMerge($0, value) } ?? value }
        return .object(object)
    }

    /// A model file, plain or gzipped (recent botocore ships NAME.json.gz).
    static func readModel(_ path: String) throws(TaskFailure) -> [UInt8] {
        do {
            if FileSystem.exists(path) { return try FileSystem.readFile(path) }
            return try Gzip.decompress(FileSystem.readFile(path + ".gz"))
        } catch {
            throw TaskFailure("cannot read the AWS model \(path)(.gz): \(error)")
        }
    }

    init(client: String, json: JSON) throws(TaskFailure) {
        guard let metadata = json["metadata"]?.objectValue, let operations = json["operations"]?.objectValue,
              let shapes = json["shapes"]?.objectValue,
              let protocolName = Self.resolvedProtocol(metadata) else {
            throw TaskFailure("the model of \(client) has no metadata, operations or shapes")
        }
        self.client = client
        self.protocolName = protocolName
        apiVersion = metadata["apiVersion"]?.stringValue ?? ""
        endpointPrefix = metadata["endpointPrefix"]?.stringValue ?? client
        signingName = metadata["signingName"]?.stringValue ?? endpointPrefix
        targetPrefix = metadata["targetPrefix"]?.stringValue
        jsonVersion = metadata["jsonVersion"]?.stringValue ?? "1.0"
        globalEndpoint = metadata["globalEndpoint"]?.stringValue
        isQueryCompatible = metadata["awsQueryCompatible"] != nil
        self.operations = operations
        self.shapes = shapes
    }

    /// The protocols flowspool speaks, in botocore's order of preference (resolved_protocol).
    static let spokenProtocols = ["json", "rest-json", "rest-xml", "query", "ec2"]

    /// The first protocol of the model's `protocols` that flowspool speaks, else its `protocol`.
    static func resolvedProtocol(_ metadata: JSONObject) -> String? {
        let offered = metadata["protocols"]?.arrayValue?.compactMap(\.stringValue) ?? []
        return spokenProtocols.first(where: offered.contains) ?? metadata["protocol"]?.stringValue
    }

    /// The operation boto3 calls `name` (its snake_case, as `xformName` makes it), or its own name.
    func operation(named name: String) throws(TaskFailure) -> Operation {
        for (operationName, definition) in operations where operationName == name || Self.xformName(operationName) == name {
            guard let object = definition.objectValue else { break }
            return Operation(name: operationName, definition: object)
        }
        let known = operations.map { Self.xformName($0.key) }
        let near = known.map { ($0, Self.distance($0, name)) }.filter { $0.1 <= max(3, name.count / 3) }
            .sorted { ($0.1, $0.0) < ($1.1, $1.0) }.prefix(3).map(\.0)
        throw TaskFailure("\(client) has no operation '\(name.escapingControlCharacters())'" + (near.isEmpty ? "" : " (did you mean \(near.joined(separator: ", "))?)"))
    }

    /// Levenshtein distance, for "did you mean".
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }

    static func uuid4() -> String {
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255) }
        bytes[6] = bytes[6] & 0x0f | 0x40
        bytes[8] = bytes[8] & 0x3f | 0x80
        let hex = Digest.hex(bytes)
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        return parts.joined(separator: "-")
    }

    /// botocore's data directory the model was read from (endpoints.json is there).
    var dataDirectory: String {
        directory.split(separator: "/", omittingEmptySubsequences: false).dropLast(2).joined(separator: "/")
    }

    func shape(_ name: String?) -> JSONObject? {
        name.flatMap { shapes[$0]?.objectValue }
    }

    /// botocore's xform_name: DescribeInstances -> describe_instances, ListObjectsV2 -> list_objects_v2,
    /// ListACLs -> list_acls.
    static func xformName(_ name: String) -> String {
        var characters = Array(name)
        // A run of capitals ending in a lower-case s at the end ("ACLs") is one word.
        var tail = ""
        if characters.last == "s" {
            var start = characters.count - 1
            while start > 0 && characters[start - 1].isUppercase { start -= 1 }
            if characters.count - 1 - start >= 2 {
                tail = "_" + String(characters[start...]).lowercased()
                characters = Array(characters[..<start])
            }
        }
        // (.)([A-Z][a-z]+) -> \1_\2, then ([a-z0-9])([A-Z]) -> \1_\2.
        var first: [Character] = []
        for (index, character) in characters.enumerated() {
            if index > 0, character.isUppercase, index + 1 < characters.count, characters[index + 1].isLowercase {
                first.append("_")
            }
            first.append(character)
        }
        var second: [Character] = []
        for (index, character) in first.enumerated() {
            if index > 0, character.isUppercase, first[index - 1].isLowercase || first[index - 1].isNumber {
                second.append("_")
            }
            second.append(character)
        }
        var result = String(second).lowercased() + tail
        for (old, new) in [("ipv-6", "ipv6"), ("ipv_6", "ipv6"), ("s_3_resources", "s3_resources"), ("_e_t_l", "_etl"), ("-e-t-l", "-etl")] {
            result = result.replacing(old, with: new)
        }
        return result.replacing("__", with: "_")
    }
}

/// One operation of a model.
struct Operation {
    let name: String
    let definition: JSONObject

    var inputShape: String? { definition["input"]?["shape"]?.stringValue }
    var outputShape: String? { definition["output"]?["shape"]?.stringValue }
    /// Where the output's members are wrapped in the query protocol's XML (GetCallerIdentityResult).
    var resultWrapper: String? { definition["output"]?["resultWrapper"]?.stringValue }
    var httpMethod: String { definition["http"]?["method"]?.stringValue ?? "POST" }
    var requestURI: String { definition["http"]?["requestUri"]?.stringValue ?? "/" }
}
