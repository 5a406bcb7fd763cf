import JSON
import POSIX
import TaskRunner

/// Where a service is in a region, and the region its signature names, from botocore's
/// endpoints.json: the partition whose regions match, the service's own endpoint for the region or
/// its one global endpoint (iam, sts's aws-global), else the partition's hostname pattern.
struct Endpoint {
    var url: String
    var signingRegion: String

    /// botocore's NoRegionError, with what the operator can do about it.
    static func noRegion(_ model: ServiceModel, endpointURL: Bool) -> TaskFailure {
        let why = endpointURL && model.client != "s3"
            ? "with endpoint_url, \(model.client)'s calls are signed for the region given, and none is"
            : "\(model.client) has no global endpoint in botocore's endpoints.json"
        return TaskFailure("You must specify a region. (\(why): give the input 'region', or set AWS_DEFAULT_REGION, or a region in the profile of ~/.aws/config)")
    }

    /// The endpoint of a call: endpoint_url when given, signed for the region; else the model's
    /// endpoint for the region. Without a region, as boto3: a service with a global endpoint in
    /// the aws partition (iam, sts, route53, cloudfront, s3, organizations...) goes there, signed
    /// for its credential scope (us-east-1); with endpoint_url only s3 is signed (for us-east-1),
    /// and everything else is botocore's NoRegionError.
    static func resolve(_ model: ServiceModel, region: String?, endpointURL: String?) throws(TaskFailure) -> Endpoint {
        if let endpointURL {
            guard let region = region ?? (model.client == "s3" ? "us-east-1" : nil) else { throw noRegion(model, endpointURL: true) }
            return Endpoint(url: endpointURL, signingRegion: region)
        }
        if let region { return resolve(model, region: region) }
        guard let global = try readPartitions(in: model.dataDirectory).first(where: { $0["partition"] == "aws" }),
              let name = global["services"]?[model.endpointPrefix]?["partitionEndpoint"]?.stringValue else {
            throw noRegion(model, endpointURL: false)
        }
        return resolve(model, region: name, in: global)
    }

    static func resolve(_ model: ServiceModel, region: String) -> Endpoint {
        let fallback = Endpoint(url: "https://\(model.endpointPrefix).\(region).amazonaws.com", signingRegion: region)
        guard let partitions = partitions(in: model.dataDirectory) else { return fallback }
        let partition = partitions.first { $0["regions"]?[region] != nil }
            ?? partitions.first { partition in
                guard let pattern = partition["regionRegex"]?.stringValue, let regex = try? Regex(pattern) else { return false }
                return region.wholeMatch(of: regex) != nil
            }
        guard let partition else { return fallback }
        return resolve(model, region: region, in: partition)
    }

    /// The service's endpoint for `region` in one partition of endpoints.json.
    static func resolve(_ model: ServiceModel, region: String, in partition: JSON) -> Endpoint {
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

    static func partitions(in data: String) -> [JSON]? { try? readPartitions(in: data) }

    /// The partitions, or why endpoints.json cannot give them, in words for the operator.
    static func readPartitions(in data: String) throws(TaskFailure) -> [JSON] {
        let stamp = ServiceModel.stamp(of: data, files: ["endpoints.json"])
        if let read = partitionsRead[data], read.stamp == stamp { return read.partitions }
        let path = data + "/endpoints.json"
        let json: JSON
        do {
            json = try JSON(parsing: try FileSystem.readFile(path))
        } catch let error as SystemError {
            throw unreadable(path, error.reason ?? error.errno.description)
        } catch {
            throw unreadable(path, "it is not JSON: \(error)")
        }
        guard let partitions = json["partitions"]?.arrayValue else { throw unreadable(path, "it has no list of partitions") }
        partitionsRead[data] = (stamp, partitions)
        return partitions
    }

    static func unreadable(_ path: String, _ reason: String) -> TaskFailure {
        TaskFailure("botocore's \(path) cannot be read (\(reason)), and without a region the AWS task needs it to find the service's endpoint: repair or reinstall botocore, or give the input 'region'")
    }
}
