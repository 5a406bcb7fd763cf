import Basics
import Curl
import JSON
import Spool

/// botocore's handlers (handlers.py) that change what a call returns, so that the task's results are
/// boto3's: IAM's policy documents and CloudFormation's template body decoded from the JSON they are
/// sent as, EC2's console output from base64, and S3's Expires header kept as text in ExpiresString.
/// Each leaves a value it cannot decode as it is, as botocore does.
enum AfterCall {
    /// Called by `Customizations.result`, the one place a result is finished.
    static func apply(_ result: JSON, headers: [(name: String, value: String)], model: ServiceModel, operation: Operation) -> JSON {
        switch (model.client, operation.name) {
        case ("s3", _):
            return withExpiresString(result, headers: headers, output: model.shape(operation.outputShape), model: model)
        case ("iam", _):
            return decodingPolicies(result, shape: model.shape(operation.outputShape), model: model)
        case ("cloudformation", "GetTemplate"):
            return replacing("TemplateBody", in: result) { text in (try? JSON(parsing: text)) ?? .string(text) }
        case ("ec2", "GetConsoleOutput"):
            return replacing("Output", in: result) { text in
                Base64.decode(text).map { .string(String(decoding: $0, as: UTF8.self)) } ?? .string(text)
            }
        default:
            return result
        }
    }

    /// botocore's handle_expires_header: an output with a member Expires (of the shape Expires)
    /// gets the header's text as ExpiresString too; an Expires that is not a time is left out, of
    /// the member and of the headers.
    private static func withExpiresString(_ result: JSON, headers: [(name: String, value: String)], output: JSONObject?, model: ServiceModel) -> JSON {
        let members = output?["members"]?.objectValue ?? [:]
        guard let (name, _) = members.first(where: { $0.value["shape"] == "Expires" && $0.value["locationName"] == "Expires" }),
              let text = headers.last(where: { $0.name.lowercased() == "expires" })?.value, !text.isEmpty,
              var object = result.objectValue else { return result }
        object["ExpiresString"] = .string(text)
        if Timestamp.parse(text) == nil {
            object[name] = nil
            if case .object(var metadata)? = object["ResponseMetadata"], case .object(var headers)? = metadata["HTTPHeaders"] {
                headers["expires"] = nil
                metadata["HTTPHeaders"] = .object(headers)
                object["ResponseMetadata"] = .object(metadata)
            }
        }
        return .object(object)
    }

    /// A string member of the result's top level replaced by what `decode` makes of it.
    private static func replacing(_ member: String, in result: JSON, _ decode: (String) -> JSON) -> JSON {
        guard var object = result.objectValue, let text = object[member]?.stringValue else { return result }
        object[member] = decode(text)
        return .object(object)
    }

    /// botocore's json_decode_policies: each string member whose shape is policyDocumentType, in
    /// structures and lists at any depth, URL-decoded and read as JSON.
    private static func decodingPolicies(_ value: JSON, shape: JSONObject?, model: ServiceModel) -> JSON {
        switch (value, shape?["type"]?.stringValue) {
        case (.object(var object), "structure"?):
            for (name, member) in shape?["members"]?.objectValue ?? [:] {
                guard let present = object[name], let shapeName = member["shape"]?.stringValue else { continue }
                let memberShape = model.shape(shapeName)
                if shapeName == "policyDocumentType", memberShape?["type"] == "string", let text = present.stringValue {
                    object[name] = (try? JSON(parsing: PercentEncoding.decodedString(text))) ?? present
                } else {
                    object[name] = decodingPolicies(present, shape: memberShape, model: model)
                }
            }
            return .object(object)
        case (.array(let items), "list"?):
            let member = model.shape(shape?["member"]?["shape"]?.stringValue)
            return .array(items.map { decodingPolicies($0, shape: member, model: model) })
        default:
            return value
        }
    }
}
