import Basics
import CCurl
import Curl
import JSON
import POSIX
import Spool
import TaskRunner

/// The AWS task: one operation of any service, as boto3's low-level client calls it, driven by
/// botocore's API models and signed with SigV4. Nothing of an execution outlives the call that runs
/// it; the models read are kept for the runner's next executions (`ServiceModel.loaded`).
public enum AWSTask {
    public static let taskType = "AWS"

    public static func prepare() {
        CurlEasy.initializeLibrary()
    }

    /// What --version says besides the version: the botocore whose models the runner reads.
    public static func versionDetails() -> [String] {
        let given = Environment.value(ServiceModel.modelsVariable) ?? ""
        let missing = given.isEmpty || FileSystem.exists(given) ? [] : ["warning: \(ServiceModel.modelsVariable) names \(given), which does not exist"]
        return [ServiceModel.modelsInUse()] + missing
    }

    public static func run(_ inputs: inout TaskInputs, context: TaskContext) throws(TaskFailure) -> TaskResult {
        let request = try AWSRequest(&inputs)
        let started = Clock.monotonic()
        let model = try ServiceModel.load(request.client)
        let loaded = Clock.monotonic()
        var result: JSON = .object([:])
        if !request.operation.isEmpty {
            let operation = try model.operation(named: request.operation)
            let call = try Call(model: model, operation: operation, request: request)
            result = request.paginate
                ? try Pagination(model: model, call: call).collect(request.operationParameters)
                : try call.perform(request.operationParameters).json
            context.log.line("\(request.client).\(operation.name) at \(call.shownEndpoint) in \(Clock.describeDuration(Clock.monotonic() - loaded)) (model read in \(Clock.describeDuration(loaded - started)))")
        }
        if let name = request.waiter {
            let waiter = try Waiter(model: model, name: name, request: request)
            result = try waiter.wait(log: context.log)
        }
        return TaskResult(outputs: ["result": result])
    }
}

/// The AWS task's inputs.
struct AWSRequest {
    var client: String
    /// The operation (the `service` input); empty for a waiter on its own.
    var operation: String
    var waiter: String?
    /// boto3's WaiterConfig: Delay and MaxAttempts instead of the model's, from the input
    /// waiter_config, or from parameters as boto3's waiters take it (that one first).
    var waiterConfig: JSONObject
    var paginate: Bool
    var parameters: JSONObject
    /// Whether `protect_inputs` names `parameters`: then messages show each of their values as ****.
    var masksParameters: Bool
    /// The input region, else AWS_DEFAULT_REGION, else the profile's; none (the default
    /// flowspool-tasks(7) gives) leaves the endpoint to the service (`Endpoint.resolve`). An empty one is none.
    var region: String?
    var credentials: Credentials
    var endpointURL: String?
    var timeout: Double

    static let defaultTimeout = 60.0

    init(_ inputs: inout TaskInputs) throws(TaskFailure) {
        client = try inputs.requiredString("client")
        operation = try inputs.string("service") ?? ""
        waiter = try inputs.string("waiter").flatMap { $0.isEmpty ? nil : $0 }
        guard !operation.isEmpty || waiter != nil else {
            throw TaskFailure("input 'service' is required: the operation, such as get_caller_identity (or a 'waiter' on its own)")
        }
        parameters = try inputs.dictionary("parameters") ?? [:]
        masksParameters = inputs.protectedInputs.contains("parameters")
        paginate = try inputs.bool("paginate") ?? false
        waiterConfig = try inputs.dictionary("waiter_config") ?? [:]
        if waiter != nil, let given = parameters["WaiterConfig"] {
            guard let config = given.objectValue else {
                throw TaskFailure("parameter WaiterConfig must be a dictionary such as {\"Delay\": 5, \"MaxAttempts\": 20}, not \(masksParameters ? Protection.mask.compactText : String(given.compactText.prefix(80)))")
            }
            for (key, value) in config { waiterConfig[key] = value }
        }
        try Self.checkWaiterConfig(waiterConfig, masksValues: masksParameters)
        let profile = try inputs.string("profile") ?? Environment.value("AWS_PROFILE") ?? "default"
        let files = SharedConfig(profile: profile)
        // botocore reads AWS_DEFAULT_REGION, not AWS_REGION (configprovider.py).
        region = [try inputs.string("region"), Environment.value("AWS_DEFAULT_REGION"), files.value("region")]
            .compactMap { $0 }.first { !$0.isEmpty }
        let keyID = try inputs.string("aws_access_key_id"), secret = try inputs.string("aws_secret_access_key")
        let token = try inputs.string("aws_session_token")
        if let keyID, let secret {
            credentials = Credentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: token)
        } else if keyID != nil || secret != nil {
            throw TaskFailure("inputs 'aws_access_key_id' and 'aws_secret_access_key' go together: give both, or neither")
        } else if let keyID = Environment.value("AWS_ACCESS_KEY_ID"), let secret = Environment.value("AWS_SECRET_ACCESS_KEY") {
            credentials = Credentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: Environment.value("AWS_SESSION_TOKEN"))
        } else if let keyID = files.value("aws_access_key_id"), let secret = files.value("aws_secret_access_key") {
            credentials = Credentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: files.value("aws_session_token"))
        } else {
            throw TaskFailure("no AWS credentials: give aws_access_key_id and aws_secret_access_key, set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add profile '\(profile)' to ~/.aws/credentials")
        }
        endpointURL = try inputs.string("endpoint_url").map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        if let endpointURL, !(endpointURL.hasPrefix("http://") || endpointURL.hasPrefix("https://")) {
            throw TaskFailure("input 'endpoint_url' must start with http:// or https://, not '\(endpointURL.escapingControlCharacters())'")
        }
        timeout = try inputs.duration("timeout")?.value ?? Self.defaultTimeout
        try inputs.rejectUnknown()
    }

    /// The operation's own parameters: without WaiterConfig, which is the waiter's.
    var operationParameters: JSONObject {
        waiter == nil ? parameters : JSONObject(parameters.filter { $0.key != "WaiterConfig" }.map { ($0.key, $0.value) })
    }

    /// Delay a number of seconds, not negative, and MaxAttempts a whole number (1 or less is one
    /// call, as botocore's loop makes it); other keys are ignored, as botocore's waiter ignores them.
    static func checkWaiterConfig(_ config: JSONObject, masksValues: Bool = false) throws(TaskFailure) {
        func shown(_ value: JSON) -> String { masksValues ? Protection.mask.compactText : String(value.compactText.prefix(80)) }
        if let delay = config["Delay"], delay.doubleValue.map({ $0 >= 0 && $0.isFinite }) != true {
            throw TaskFailure("WaiterConfig's Delay must be a number of seconds, 0 or more, not \(shown(delay))")
        }
        if let attempts = config["MaxAttempts"], attempts.intValue == nil {
            throw TaskFailure("WaiterConfig's MaxAttempts must be a whole number, not \(shown(attempts))")
        }
    }
}

/// ~/.aws/credentials and ~/.aws/config (or the files AWS_SHARED_CREDENTIALS_FILE and
/// AWS_CONFIG_FILE name): the values of one profile, the credentials file first.
struct SharedConfig {
    var values: [String: String] = [:]

    init(profile: String) {
        let home = Environment.value("HOME") ?? "/root"
        let credentials = Environment.value("AWS_SHARED_CREDENTIALS_FILE") ?? home + "/.aws/credentials"
        let config = Environment.value("AWS_CONFIG_FILE") ?? home + "/.aws/config"
        for (path, section) in [(config, profile == "default" ? "default" : "profile " + profile), (credentials, profile)] {
            guard let text = (try? FileSystem.readText(path)) ?? nil else { continue }
            var current = ""
            for line in text.split(separator: "\n") {
                let trimmed = line.trimming()
                if trimmed.hasPrefix("[") && trimmed.hasSuffix("]") {
                    current = String(trimmed.dropFirst().dropLast()).trimming()
                } else if current == section, let equals = trimmed.firstIndex(of: "="), !trimmed.hasPrefix("#"), !trimmed.hasPrefix(";") {
                    values[String(trimmed[..<equals]).trimming()] = String(trimmed[trimmed.index(after: equals)...]).trimming()
                }
            }
        }
    }

    func value(_ name: String) -> String? { values[name] }
}

/// One signed HTTP call of an operation, and its result shaped as boto3 shapes it.
struct Call {
    let model: ServiceModel
    let operation: Operation
    let request: AWSRequest

    /// endpoint_url when given (signed for the region asked), else the model's endpoint for the region:
    /// resolved once, as endpoints.json is read for it, however many calls a waiter or pages make.
    let resolved: Endpoint

    init(model: ServiceModel, operation: Operation, request: AWSRequest) throws(TaskFailure) {
        self.model = model
        self.operation = operation
        self.request = request
        resolved = try Endpoint.resolve(model, region: request.region, endpointURL: request.endpointURL)
    }

    var endpoint: String { resolved.url }

    /// The endpoint as messages and the log show it: without a user and password.
    var shownEndpoint: String { Protection.redactingUserInfo(endpoint) }

    /// How a call ended: the result, or the service's error.
    enum Outcome {
        case success(status: Int, json: JSON)
        case failure(status: Int, code: String, message: String)
    }

    struct Result {
        let status: Int
        let json: JSON
    }

    /// The call's result; the service's error as the task's, in boto3's words.
    func perform(_ given: JSONObject) throws(TaskFailure) -> Result {
        switch try send(given) {
        case .success(let status, let json):
            return Result(status: status, json: json)
        case .failure(_, let code, let message):
            throw TaskFailure("An error occurred (\(code)) when calling the \(operation.name) operation: \(message)")
        }
    }

    func send(_ given: JSONObject) throws(TaskFailure) -> Outcome {
        var customizations = Customizations(model: model, operation: operation)
        let parameters = try customizations.parameters(given, masksValues: request.masksParameters)
        try ParameterValidator(model: model, masksValues: request.masksParameters).validate(parameters, shape: operation.inputShape)
        var http = try build(parameters)
        http.endpoint = try withHostPrefix(http.endpoint, parameters: parameters)
        try customizations.request(&http, parameters: parameters)
        SigV4.sign(&http, credentials: request.credentials, region: resolved.signingRegion, service: model.signingName)
        let response: CurlEasy.Response
        do {
            let easy = try CurlEasy()
            try easy.setTransfer(url: http.url, protocols: "http,https", timeout: request.timeout)
            try easy.set(CURLOPT_CUSTOMREQUEST, http.method)
            if http.method == "HEAD" { try easy.set(CURLOPT_NOBODY, 1) }
            // No Content-Type but the request's own: libcurl would add a form's to any body.
            let contentType = http.headers.contains { $0.0.lowercased() == "content-type" } ? [] : ["Content-Type:"]
            // "Name;" is libcurl's way to send a header whose value is empty (it drops "Name:").
            try easy.set(CURLOPT_HTTPHEADER, list: http.headers.map { $0.1.isEmpty ? "\($0.0);" : "\($0.0): \($0.1)" } + ["Expect:"] + contentType)
            try easy.set(CURLOPT_PATH_AS_IS, 1)  // the path as signed: no dot segments resolved
            if http.method != "GET" && http.method != "HEAD" { try easy.setBody(http.body) }
            easy.bodyLimit = 256 << 20
            response = try easy.perform()
        } catch {
            throw TaskFailure(error.isConnectFailure ? "could not connect to \(shownEndpoint): \(error)"
                : error.isTimeout ? "timed out after \(Clock.describeDuration(request.timeout)) (the timeout input) calling \(shownEndpoint)"
                : "calling \(shownEndpoint) failed: \(error)")
        }
        let headers = response.joinedHeaders
        guard (200..<300).contains(response.statusCode) && !Customizations.isErrorDespite200(response, operation: operation, model: model) else {
            let (code, message) = errorDetails(response)
            return .failure(status: response.statusCode, code: code, message: message)
        }
        let checkedWith = try ResponseChecksum.validate(response, operation: operation, parameters: parameters)
        let result = try parse(response)
        let requestID = result.requestID ?? headers["x-amzn-requestid"]?.stringValue ?? headers["x-amz-request-id"]?.stringValue ?? ""
        var object = result.json.objectValue ?? [:]
        object["ResponseMetadata"] = [
            "RequestId": .string(requestID), "HTTPStatusCode": .int(response.statusCode),
            "HTTPHeaders": .object(headers), "RetryAttempts": 0,
        ]
        if case .object(var metadata)? = object["ResponseMetadata"] {
            if let checkedWith { metadata["ChecksumAlgorithm"] = .string(checkedWith) }
            if let hostID = hostID(headers) { metadata["HostId"] = hostID }
            object["ResponseMetadata"] = .object(metadata)
        }
        return .success(status: response.statusCode, json: customizations.result(.object(object), body: response.body, headers: response.headers))
    }

    /// S3's x-amz-id-2, which botocore's rest parsers give as HostId (possibly empty) when the
    /// request id came in x-amz-request-id rather than x-amzn-requestid.
    func hostID(_ headers: JSONObject) -> JSON? {
        guard model.protocolName.hasPrefix("rest-"), headers["x-amzn-requestid"] == nil, headers["x-amz-request-id"] != nil else { return nil }
        return headers["x-amz-id-2"] ?? ""
    }

    /// The endpoint with the operation's host prefix ("{AccountId}." for s3control, "data-" for
    /// servicediscovery), its labels filled from the parameters, as botocore's _expand_host_prefix does.
    func withHostPrefix(_ endpoint: String, parameters: JSONObject) throws(TaskFailure) -> String {
        guard var prefix = operation.definition["endpoint"]?["hostPrefix"]?.stringValue,
              let schemeEnd = endpoint.firstRange(of: "://") else { return endpoint }
        for (name, value) in parameters {
            guard prefix.contains("{\(name)}"), let label = value.stringValue else { continue }
            guard !label.isEmpty, label.count <= 63, label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }), label.first != "-" else {
                throw TaskFailure("parameter \(name) ('\(request.masksParameters ? Protection.mask.stringValue ?? "" : label.escapingControlCharacters())') goes into the host name, so it must be letters, digits and hyphens")
            }
            prefix = prefix.replacing("{\(name)}", with: label)
        }
        return String(endpoint[..<schemeEnd.upperBound]) + prefix + endpoint[schemeEnd.upperBound...]
    }

    /// The unsigned request, as the service's protocol wants it.
    func build(_ given: JSONObject) throws(TaskFailure) -> SignedRequest {
        let parameters = JSON.object(given)
        switch model.protocolName {
        case "query", "ec2":
            let fields = [("Action", operation.name), ("Version", model.apiVersion)]
                + QuerySerializer(model: model).fields(parameters, shape: operation.inputShape)
            return SignedRequest(
                method: "POST", endpoint: endpoint, path: "/", query: [],
                headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
                body: Array(PercentEncoding.formEncoded(fields).utf8))  // as botocore: fields in their order, spaces as +
        case "json":
            let body = JSONShapes(model: model).serialize(parameters, shape: operation.inputShape)
            return SignedRequest(
                method: "POST", endpoint: endpoint, path: "/", query: [],
                headers: [("Content-Type", "application/x-amz-json-\(model.jsonVersion)"),
                          ("X-Amz-Target", "\(model.targetPrefix ?? model.endpointPrefix).\(operation.name)")]
                    + (model.isQueryCompatible ? [("x-amzn-query-mode", "true")] : []),
                body: Array(body.compactText.utf8))
        case "rest-json", "rest-xml":
            return try RestProtocol(model: model, operation: operation).request(given, endpoint: endpoint)
        default:
            throw TaskFailure("\(model.client) speaks the \(model.protocolName) protocol, which the AWS task does not know")
        }
    }

    func parse(_ response: CurlEasy.Response) throws(TaskFailure) -> (json: JSON, requestID: String?) {
        switch model.protocolName {
        case "query", "ec2":
            guard operation.outputShape != nil else { return (.object([:]), nil) }
            let root: XMLElement
            do {
                root = try XMLParser.parse(response.body)
            } catch {
                throw TaskFailure("\(model.client).\(operation.name): \(error)")
            }
            let parser = XMLShapeParser(model: model)
            if model.protocolName == "ec2" {
                return (parser.parse(root, shape: operation.outputShape), root.child("requestId")?.text)
            }
            let result = operation.resultWrapper.flatMap(root.child) ?? root
            return (parser.parse(result, shape: operation.outputShape), root.child("ResponseMetadata")?.child("RequestId")?.text)
        case "rest-json", "rest-xml":
            return (try RestProtocol(model: model, operation: operation).result(response), nil)
        default:
            guard !response.body.isEmpty, operation.outputShape != nil else { return (.object([:]), nil) }
            do {
                return (JSONShapes(model: model).parse(try JSON(parsing: response.body), shape: operation.outputShape), nil)
            } catch {
                throw TaskFailure("\(model.client).\(operation.name): the response is not JSON: \(error)")
            }
        }
    }

    /// The AWS error code and message of a failed call, wherever the protocol puts them.
    func errorDetails(_ response: CurlEasy.Response) -> (code: String, message: String) {
        if let root = try? XMLParser.parse(response.body) {
            let error = root.child("Error") ?? root.child("Errors")?.child("Error") ?? root
            if let code = error.child("Code")?.text {
                return (code, error.child("Message")?.text ?? "")
            }
        }
        let json = try? JSON(parsing: response.body)
        let queryError = response.headers.last { $0.name.lowercased() == "x-amzn-query-error" }?.value.split(separator: ";").first.map(String.init)
        let header = response.headers.last { $0.name.lowercased() == "x-amzn-errortype" }?.value
        if let type = queryError ?? header ?? json?["__type"]?.stringValue ?? json?["code"]?.stringValue ?? json?["Code"]?.stringValue {
            // "aws.protocols#Name:http://..." and "Name:http://..." name the code Name.
            let code = type.split(separator: ":").first.map { $0.split(separator: "#").last ?? $0 } ?? Substring(type)
            return (String(code), json?["message"]?.stringValue ?? json?["Message"]?.stringValue ?? "")
        }
        // No body to say it (a HEAD, an empty 404): the status, as botocore gives it.
        return (String(response.statusCode), response.body.isEmpty ? Self.reason(response.statusCode)
            : String(decoding: response.body.prefix(300), as: UTF8.self))
    }

    static func reason(_ status: Int) -> String {
        [400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
         409: "Conflict", 412: "Precondition Failed", 429: "Too Many Requests", 500: "Internal Server Error",
         503: "Service Unavailable"][status] ?? "HTTP \(status)"
    }
}
