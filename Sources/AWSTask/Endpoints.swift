import JSON
import POSIX

/// Where a service is in a region, and the region its signature names, from botocore's
/// endpoints.json: the partition whose regions match, the service's own endpoint for the region or
/// its one global endpoint (iam, sts's aws-global), else the partition's hostname pattern.
struct Endpoint {
    var url: String
    var signingRegion: String

    static func resolve(_ model: ServiceModel, region: String) -> Endpoint {
        let fallback = Endpoint(url: "https://\(model.endpointPrefix).\(region).amazonaws.com", signingRegion: region)
        let data = model.directory.split(separator: "/", omittingEmptySubsequences: false).dropLast(2).joined(separator: "/")
        guard let partitions = partitions(in: data) else { return fallback }
        let partition = partitions.first { $0["regions"]?[region] != nil }
            ?? partitions.first { partition in
                guard let pattern = partition["regionRegex"]?.stringValue, let regex = try? Regex(pattern) else { return false }
                return region.wholeMatch(of: regex) != nil
            }
        guard let partition else { return fallback }
        let dnsSuffix = partition["dnsSuffix"]?.stringValue ?? "amazonaws.com"
        let service = partition["services"]?[model.endpointPrefix]?.objectValue ?? [:]
        var entry = service["endpoints"]?[region]?.objectValue ?? [:]
        if service["isRegionalized"]?.boolValue == false, let global = service["partitionEndpoint"]?.stringValue {
            entry = service["endpoints"]?[global]?.objectValue ?? entry
        }
        let template = entry["hostname"]?.stringValue ?? service["defaults"]?["hostname"]?.stringValue
            ?? partition["defaults"]?["hostname"]?.stringValue ?? "{service}.{region}.{dnsSuffix}"
        let host = template.replacing("{service}", with: model.endpointPrefix).replacing("{region}", with: region)
            .replacing("{dnsSuffix}", with: dnsSuffix)
        return Endpoint(url: "https://" + host, signingRegion: entry["credentialScope"]?["region"]?.stringValue ?? region)
    }

    /// The partitions of endpoints.json in botocore's data directory `data`, kept for the runner
    /// process's next executions as the models are (1.3 MB of JSON), and read again when it changes.
    nonisolated(unsafe) static var partitionsRead: [String: (stamp: [Double], partitions: [JSON])] = [:]

    static func partitions(in data: String) -> [JSON]? {
        let stamp = ServiceModel.stamp(of: data, files: ["endpoints.json"])
        if let read = partitionsRead[data], read.stamp == stamp { return read.partitions }
        guard let bytes = try? FileSystem.readFile(data + "/endpoints.json"), let json = try? JSON(parsing: bytes),
              let partitions = json["partitions"]?.arrayValue else { return nil }
        partitionsRead[data] = (stamp, partitions)
        return partitions
    }
}
