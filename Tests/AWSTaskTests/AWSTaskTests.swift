#if canImport(Glibc)
import Glibc
#endif
import Basics
import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// The AWS task end to end: jobs go through flowspoold to the AWS runner and moto's server, which
/// checks every signature; each result is compared with what boto3 gets for the same call.
@Suite("AWS task")
struct AWSTaskTests {
    let test: TestSpool

    init() throws {
        test = try TestSpool()
        try test.startSupervisor()
    }

    func aws(_ client: String, _ operation: String, _ parameters: JSONObject = [:], _ extra: JSONObject = [:]) throws -> Ended {
        var inputs: JSONObject = [
            "client": .string(client), "service": .string(operation), "parameters": .object(parameters),
            "region": "us-east-1", "endpoint_url": .string(TestEnvironment.awsEndpoint),
            "aws_access_key_id": .string(TestEnvironment.awsKeyID), "aws_secret_access_key": .string(TestEnvironment.awsSecret),
        ]
        for (name, value) in extra { inputs[name] = value }
        return try test.run("AWS", inputs)
    }

    /// The same call through boto3, as the reference.
    func boto3(_ client: String, _ operation: String, _ parameters: JSONObject = [:], paginate: Bool = false) throws -> JSON {
        let result = try runProgram("/usr/bin/env", [
            "python3", TestEnvironment.packageRoot + "/Tests/servers/boto3_call.py", client, operation, JSON.object(parameters).compactText,
        ] + (paginate ? ["paginate"] : []))
        #expect(result.exitCode == 0, "\(result.standardError)")
        return try JSON(parsing: Array(result.standardOutput.utf8))
    }

    /// boto3 as a user calls it, where boto3_call.py cannot show it: `region` nil makes the client
    /// without one, `environment` is the process's (HOME, AWS_DEFAULT_REGION), the endpoint may be
    /// another server, and an exception of any kind is shown as its type and str(), as a message
    /// shows it. A `waiter` waits instead of calling. Prints {"result": ...} or {"exception", "message"}.
    func boto3Call(
        _ client: String, _ operation: String, _ parameters: JSONObject = [:], region: String? = "us-east-1",
        endpoint: String? = TestEnvironment.awsEndpoint, waiter: Bool = false, environment: [String: String] = [:], unsetting: [String] = []
    ) throws -> JSON {
        let script = """
            import base64, datetime, json, sys
            import boto3
            def plain(value):
                if isinstance(value, dict): return {k: plain(v) for k, v in value.items()}
                if isinstance(value, list): return [plain(v) for v in value]
                if isinstance(value, datetime.datetime): return value.isoformat()
                if isinstance(value, (bytes, bytearray)): return {"base64": base64.b64encode(value).decode()}
                if hasattr(value, "read"): return {"base64": base64.b64encode(value.read()).decode()}
                return value
            client_name, operation, region, endpoint, waiter = sys.argv[1:6]
            parameters = sys.stdin.read()
            try:
                client = boto3.client(client_name, region_name=region or None, endpoint_url=endpoint or None,
                                      aws_access_key_id=sys.argv[6], aws_secret_access_key=sys.argv[7])
                if waiter == "waiter":
                    client.get_waiter(operation).wait(**json.loads(parameters))
                    print(json.dumps({"result": {}}))
                else:
                    print(json.dumps({"result": plain(getattr(client, operation)(**json.loads(parameters)))}))
            except Exception as error:
                print(json.dumps({"exception": type(error).__name__, "message": str(error)}))
            """
        let result = try runProgram("/usr/bin/env", unsetting.flatMap { ["-u", $0] } + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } + [
            "python3", "-c", script, client, operation, region ?? "", endpoint ?? "", waiter ? "waiter" : "call",
            TestEnvironment.awsKeyID, TestEnvironment.awsSecret,
        ], input: JSON.object(parameters).compactText)
        #expect(result.exitCode == 0, "\(result.standardError)")
        return try JSON(parsing: Array(result.standardOutput.utf8))
    }

    /// An AWS task against another server, with the test key (which a private moto takes as any).
    func aws(at endpoint: String, _ client: String, _ operation: String, _ parameters: JSONObject = [:], _ extra: JSONObject = [:]) throws -> Ended {
        var inputs = extra
        inputs["endpoint_url"] = .string(endpoint)
        return try aws(client, operation, parameters, inputs)
    }

    /// Compares two results field by field (`Differential.mismatches`): the same keys at every depth,
    /// and the same values but for ids, addresses, tokens and times, which differ from call to call
    /// (times count as the same within `AWSDifferentialTests.timeTolerance`), and for the request's
    /// own metadata, which a paginated result of boto3's does not have.
    func expectSameShape(_ ours: JSON?, _ reference: JSON?, path: String = "result", sourceLocation: SourceLocation = #_sourceLocation) {
        let reconciled = AWSDifferentialTests.reconcilingTimes(reference, with: ours)
        for mismatch in Differential.mismatches(ours, reconciled, at: path, volatile: Self.volatile) where !mismatch.path.contains(".ResponseMetadata") {
            Issue.record("\(mismatch)", sourceLocation: sourceLocation)
        }
    }

    static func volatile(_ path: String) -> Bool {
        let name = Mismatch(path: path, ours: nil, reference: nil).field
        return name.lowercased() == "id"
            || ["Id", "Ids", "ID", "Time", "Date", "At", "Modified", "Address", "DnsName", "MacAddress", "Ip", "Url", "Token"].contains { name.hasSuffix($0) }
    }

    @Test("sts get_caller_identity (query protocol) matches boto3, ResponseMetadata and all")
    func query() throws {
        let ended = try aws("sts", "get_caller_identity")
        #expect(ended.status == .success, "\(ended.message)")
        let reference = try boto3("sts", "get_caller_identity")
        expectSameShape(ended["result"], reference)
        #expect(ended["result"]?["Arn"] == reference["Arn"])
        #expect(ended["result"]?["ResponseMetadata"]?["HTTPStatusCode"] == 200)
        #expect(ended["result"]?["ResponseMetadata"]?["RequestId"]?.stringValue?.isEmpty == false)
    }

    @Test("sqs (json protocol): create_queue, send_message and receive_message match boto3")
    func json() throws {
        let name = "flowspool-" + Spool.randomToken()
        let created = try aws("sqs", "create_queue", ["QueueName": .string(name), "Attributes": ["DelaySeconds": "0"]])
        #expect(created.status == .success, "\(created.message)")
        let url = try #require(created["result"]?["QueueUrl"])
        expectSameShape(created["result"], try boto3("sqs", "create_queue", ["QueueName": .string(name), "Attributes": ["DelaySeconds": "0"]]))
        let sent = try aws("sqs", "send_message", ["QueueUrl": url, "MessageBody": "héllo"])
        #expect(sent["result"]?["MD5OfMessageBody"] == (try boto3("sqs", "send_message", ["QueueUrl": url, "MessageBody": "héllo"]))["MD5OfMessageBody"])
        let received = try aws("sqs", "receive_message", ["QueueUrl": url, "MaxNumberOfMessages": 1])
        #expect(received["result"]?["Messages"]?.arrayValue?.first?["Body"] == "héllo", "\(received.outputs)")
        let attributes = try aws("sqs", "get_queue_attributes", ["QueueUrl": url, "AttributeNames": ["All"]])
        expectSameShape(attributes["result"], try boto3("sqs", "get_queue_attributes", ["QueueUrl": url, "AttributeNames": ["All"]]))
    }

    @Test("ec2 (ec2 protocol): run_instances as in the spec, and describe_instances, match boto3 but for ids and times")
    func ec2() throws {
        let parameters: JSONObject = ["ImageId": "ami-12c6146b", "InstanceType": "t2.micro", "MinCount": 1, "MaxCount": 1]
        let ran = try aws("ec2", "run_instances", parameters)
        #expect(ran.status == .success, "\(ran.message)")
        let instance = try #require(ran["result"]?["Instances"]?.arrayValue?.first?["InstanceId"]?.stringValue)
        expectSameShape(ran["result"], try boto3("ec2", "run_instances", parameters))
        let filter: JSONObject = ["InstanceIds": [.string(instance)]]
        let described = try aws("ec2", "describe_instances", filter)
        expectSameShape(described["result"], try boto3("ec2", "describe_instances", filter))
        #expect(described["result"]?["Reservations"]?.arrayValue?.first?["Instances"]?.arrayValue?.first?["State"]?["Name"] == "running")
    }

    @Test("a wrong secret fails with AWS's SignatureDoesNotMatch, and the secret shows nowhere")
    func wrongSecret() throws {
        let ended = try aws("sts", "get_caller_identity", [:], ["aws_secret_access_key": "not-the-secret-at-all"])
        #expect(ended.status == .error)
        #expect(ended.message.hasPrefix("An error occurred (SignatureDoesNotMatch) when calling the GetCallerIdentity operation: "), "\(ended.message)")
        let log = try FileSystem.readText(test.execution(ended.id).path(.log)) ?? ""
        let shown = try runProgram(TestEnvironment.program("flowspool"), ["--spool", test.root, "show", "--json", ended.id]).standardOutput
        for text in [log, shown, ended.message] {
            #expect(!text.contains("not-the-secret-at-all") && !text.contains(TestEnvironment.awsSecret))
        }
    }

    @Test("an unknown client, operation or parameter, a missing one or a wrong type ends error naming it, before anything is sent")
    func validation() throws {
        #expect(try aws("nosuchservice", "get_thing").message.hasPrefix("unknown client 'nosuchservice'"))
        #expect(try aws("sts", "get_caller_identities").message.hasPrefix("sts has no operation 'get_caller_identities' (did you mean get_caller_identity"))
        #expect(try aws("sqs", "create_queue", ["QueueNam": "x"]).message.hasPrefix("Parameter validation failed:\nMissing required parameter in input: \"QueueName\""))
        #expect(try aws("sqs", "create_queue", ["QueueName": "x", "Colour": "red"]).message.hasPrefix("Parameter validation failed:\nUnknown parameter in input: \"Colour\", must be one of: QueueName, Attributes, tags"))
        #expect(try aws("ec2", "run_instances", ["ImageId": "ami-1", "MinCount": "one", "MaxCount": 1]).message.hasPrefix("Parameter validation failed:\nInvalid type for parameter MinCount, value: one, type: <class 'str'>"))
    }

    @Test("the contract's example runs unchanged but for its **credentials slip and the setting that holds the endpoint")
    func contractExample() throws {
        try Settings(spool: test.spool).set("aws creds", to: [
            "aws_access_key_id": .string(TestEnvironment.awsKeyID), "aws_secret_access_key": .string(TestEnvironment.awsSecret),
            "endpoint_url": .string(TestEnvironment.awsEndpoint),
        ])
        let script = test.directory.path + "/aws-example.py"
        // As cloudomation-tasks.md has it, with `**credentials` (a name it never sets) read as `**creds`.
        try FileSystem.writeFile(script, Array("""
            def handler(c):
                # get AWS credentials from setting
                creds = c.setting('aws creds')
                # create a child execution task which talks with AWS
                task = c.task(
                    'AWS',
                    region='eu-central-1',
                    client='ec2',
                    service='run_instances',
                    parameters={
                        'ImageId': 'ami-0f5dbc86dd9cbf7a8',
                        'InstanceType': 't2.micro',
                        'MaxCount': 1,
                        'MinCount': 1,
                    },
                    **creds
                ).run()  # run the task
                # provide the response back to the caller
                c.setOutput('task out', task.getOutputs())
                c.end('success', message='all done')
            """.utf8))
        let ended = try test.run("FLOW", ["script": .string(script)], timeout: 120)
        #expect(ended.status == .success, "\(ended.message)")
        #expect(ended.message == "all done\n")
        let instance = ended["task out"]?["result"]?["Instances"]?.arrayValue?.first
        #expect(instance?["ImageId"] == "ami-0f5dbc86dd9cbf7a8")
        #expect(instance?["InstanceType"] == "t2.micro")
        #expect(instance?["Placement"]?["AvailabilityZone"]?.stringValue?.hasPrefix("eu-central-1") == true)
    }

    @Test("s3 (rest-xml protocol): create_bucket, put_object with a body and metadata, get_object, list_objects_v2 match boto3")
    func restXML() throws {
        let bucket = "flowspool-" + Spool.randomToken()
        let created = try aws("s3", "create_bucket", ["Bucket": .string(bucket)])
        #expect(created.status == .success, "\(created.message)")
        let put: JSONObject = [
            "Bucket": .string(bucket), "Key": "reports/nightly report.txt", "Body": "All jobs ended success.\n",
            "ContentType": "text/plain", "Metadata": ["owner": "ops"],
        ]
        let stored = try aws("s3", "put_object", put)
        #expect(stored.status == .success, "\(stored.message)")
        expectSameShape(stored["result"], try boto3("s3", "put_object", put))
        let key: JSONObject = ["Bucket": .string(bucket), "Key": "reports/nightly report.txt"]
        let fetched = try aws("s3", "get_object", key)
        #expect(fetched["result"]?["Body"] == Base64.object(Array("All jobs ended success.\n".utf8)))
        #expect(fetched["result"]?["Metadata"] == ["owner": "ops"])
        expectSameShape(fetched["result"], try boto3("s3", "get_object", key))
        let listed = try aws("s3", "list_objects_v2", ["Bucket": .string(bucket)])
        expectSameShape(listed["result"], try boto3("s3", "list_objects_v2", ["Bucket": .string(bucket)]))
        #expect(listed["result"]?["Contents"]?.arrayValue?.first?["Key"] == "reports/nightly report.txt")
        let acl = try aws("s3", "get_object_acl", key)
        expectSameShape(acl["result"], try boto3("s3", "get_object_acl", key))
        #expect(acl["result"]?["Grants"]?.arrayValue?.first?["Grantee"]?["Type"] == "CanonicalUser", "\(acl.outputs)")
        let owner = try #require(acl["result"]?["Owner"]?["ID"])
        let grant: JSONObject = ["Bucket": .string(bucket), "Key": "reports/nightly report.txt", "AccessControlPolicy": [
            "Owner": ["ID": owner],
            "Grants": [["Grantee": ["Type": "CanonicalUser", "ID": owner], "Permission": "FULL_CONTROL"]],
        ]]
        let granted = try aws("s3", "put_object_acl", grant)
        #expect(granted.status == .success, "\(granted.message)")
        let sha: JSONObject = ["Bucket": .string(bucket), "Key": "sha", "Body": "x", "ChecksumAlgorithm": "SHA256"]
        let shaStored = try aws("s3", "put_object", sha)
        #expect(shaStored["result"]?["ChecksumSHA256"] != nil, "\(shaStored.outputs)")
        #expect(shaStored["result"]?["ChecksumSHA256"] == (try boto3("s3", "put_object", sha))["ChecksumSHA256"])
        let missing = try aws("s3", "get_object", ["Bucket": .string(bucket), "Key": "nothing here"])
        #expect(missing.message.hasPrefix("An error occurred (NoSuchKey) when calling the GetObject operation: "), "\(missing.message)")
    }

    /// moto checks the signatures of rest-json GETs wrongly, boto3's too: the calls here are POSTs.
    @Test("a header value holding CR, LF (alone or as a CRLF pair) or NUL is refused before anything is sent")
    func headerInjection() throws {
        for value in ["text/plain\r\nX-Injected: yes", "text/plain\nX-Injected: yes", "text/plain\0"] {
            let ended = try aws("s3", "put_object", ["Bucket": "no-such-bucket", "Key": "k", "Body": "x", "ContentType": .string(value)])
            #expect(ended.status == .error)
            #expect(ended.message.contains("the header Content-Type would hold a line break or NUL, which would start a header of its own; nothing was sent"), "\(ended.message)")
        }
    }

    @Test("apigateway (rest-json protocol): create_rest_api, and create_resource with members in the URI, match boto3")
    func restJSON() throws {
        let created = try aws("apigateway", "create_rest_api", ["name": "flowspool", "description": "made by a test"])
        #expect(created.status == .success, "\(created.message)")
        let reference = try boto3("apigateway", "create_rest_api", ["name": "flowspool", "description": "made by a test"])
        expectSameShape(created["result"], reference)
        let api = try #require(created["result"]?["id"]), root = try #require(created["result"]?["rootResourceId"])
        let resource = try aws("apigateway", "create_resource", ["restApiId": api, "parentId": root, "pathPart": "jobs"])
        #expect(resource["result"]?["path"] == "/jobs", "\(resource.message)")
        let referenceResource = try boto3("apigateway", "create_resource", [
            "restApiId": try #require(reference["id"]), "parentId": try #require(reference["rootResourceId"]), "pathPart": "jobs",
        ])
        expectSameShape(resource["result"], referenceResource)
        let missing = try aws("apigateway", "create_resource", ["restApiId": "nosuchapi", "parentId": root, "pathPart": "x"])
        #expect(missing.message.hasPrefix("An error occurred (NotFoundException) when calling the CreateResource operation"), "\(missing.message)")
    }

    @Test("paginate: true gathers every page of list_objects_v2, as boto3's paginator does")
    func pagination() throws {
        let bucket = "flowspool-" + Spool.randomToken()
        #expect(try aws("s3", "create_bucket", ["Bucket": .string(bucket)]).status == .success)
        for n in 1...5 {
            #expect(try aws("s3", "put_object", ["Bucket": .string(bucket), "Key": .string("job \(n)"), "Body": .string("\(n)")]).status == .success)
        }
        let parameters: JSONObject = ["Bucket": .string(bucket), "MaxKeys": 2]
        let onePage = try aws("s3", "list_objects_v2", parameters)
        #expect(onePage["result"]?["Contents"]?.arrayValue?.count == 2)
        let all = try aws("s3", "list_objects_v2", parameters, ["paginate": true])
        #expect(all.status == .success, "\(all.message)")
        #expect(all["result"]?["Contents"]?.arrayValue?.compactMap { $0["Key"]?.stringValue } == (1...5).map { "job \($0)" })
        expectSameShape(all["result"], try boto3("s3", "list_objects_v2", parameters, paginate: true))
        #expect(try aws("sts", "get_caller_identity", [:], ["paginate": true]).message
            == "sts.GetCallerIdentity cannot be paginated: botocore has no paginator for it (leave out 'paginate')\n")
    }

    @Test("the instance_running waiter on its own waits for an instance run_instances started; an unknown waiter is named")
    func waiter() throws {
        let ran = try aws("ec2", "run_instances", ["ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1])
        let instance = try #require(ran["result"]?["Instances"]?.arrayValue?.first?["InstanceId"])
        let waited = try aws("ec2", "", ["InstanceIds": [instance]], ["waiter": "instance_running", "waiter_config": ["Delay": 0.2]])
        #expect(waited.status == .success, "\(waited.message)")
        #expect(waited["result"]?["Reservations"]?.arrayValue?.first?["Instances"]?.arrayValue?.first?["State"]?["Name"] == "running")
        let log = try FileSystem.readText(test.execution(waited.id).path(.log)) ?? ""
        #expect(log.contains("waiter InstanceRunning: success after "), "\(log)")
        let stopped = try aws("ec2", "stop_instances", ["InstanceIds": [instance]], ["waiter": "instance_stopped", "waiter_config": ["Delay": 0.2]])
        #expect(stopped.status == .success, "\(stopped.message)")
        let unknown = try aws("ec2", "", ["InstanceIds": [instance]], ["waiter": "instance_dancing"])
        #expect(unknown.message.hasPrefix("ec2 has no waiter 'instance_dancing' (it has "))
        let failing = try aws("ec2", "", ["InstanceIds": ["i-00000000000000000"]], ["waiter": "instance_running", "waiter_config": ["Delay": 0.1, "MaxAttempts": 2]])
        #expect(failing.status == .error)
        #expect(failing.message.hasPrefix("Waiter InstanceRunning failed: "), "\(failing.message)")
    }

    @Test("sqs spoken as query, with Debian's botocore 1.29 model pinned: every message sent is received, and list_queues, get_queue_attributes and send_message_batch match boto3")
    func queryWithFlattenedListsAndMaps() throws {
        let debianModels = "/usr/lib/python3/dist-packages/botocore/data"
        try #require(FileSystem.exists(debianModels + "/sqs/2012-11-05"), "python3-botocore (Debian's) is installed by bin/test")
        let pinned = try TestSpool()
        try pinned.startSupervisor(environment: ["FLOWSPOOL_AWS_MODELS": debianModels])
        func query(_ operation: String, _ parameters: JSONObject) throws -> Ended {
            let ended = try pinned.run("AWS", [
                "client": "sqs", "service": .string(operation), "parameters": .object(parameters), "region": "us-east-1",
                "endpoint_url": .string(TestEnvironment.awsEndpoint),
                "aws_access_key_id": .string(TestEnvironment.awsKeyID), "aws_secret_access_key": .string(TestEnvironment.awsSecret),
            ])
            #expect(ended.status == .success, "\(operation): \(ended.message)")
            return ended
        }
        let name = "flowspool-query-" + Spool.randomToken()
        let url = try #require(try query("create_queue", ["QueueName": .string(name)])["result"]?["QueueUrl"])
        let entries: JSON = .array((0..<7).map { .object(["Id": .string("m\($0)"), "MessageBody": .string("body \($0)")]) })
        let batch = try query("send_message_batch", ["QueueUrl": url, "Entries": entries])
        #expect(batch["result"]?["Successful"]?.arrayValue?.count == 7, "\(batch.outputs)")
        // boto3 here speaks today's json model, whose answer lists an empty Failed; XML has no
        // element for an empty flattened list, so botocore's query parser leaves it out too.
        let reference = try boto3("sqs", "send_message_batch", ["QueueUrl": url, "Entries": entries])
        expectSameShape(batch["result"]?["Successful"], reference["Successful"], path: "result.Successful")
        #expect(reference["Failed"] == [] && batch["result"]?["Failed"] == nil)
        var bodies: [String] = []
        for _ in 0..<10 where bodies.count < 14 {
            let received = try query("receive_message", ["QueueUrl": url, "MaxNumberOfMessages": 10, "VisibilityTimeout": 300, "AttributeNames": ["All"]])
            let messages = received["result"]?["Messages"]?.arrayValue ?? []
            #expect(messages.allSatisfy { $0["Attributes"]?["SentTimestamp"] != nil && $0["ReceiptHandle"] != nil }, "\(received.outputs)")
            bodies += messages.compactMap { $0["Body"]?.stringValue }
        }
        #expect(bodies.sorted() == (0..<7).flatMap { ["body \($0)", "body \($0)"] }.sorted(), "the messages taken are the messages given")
        let listed = try query("list_queues", ["QueueNamePrefix": .string(name)])
        #expect(listed["result"]?["QueueUrls"] == [url])
        expectSameShape(listed["result"], try boto3("sqs", "list_queues", ["QueueNamePrefix": .string(name)]))
        let attributes = try query("get_queue_attributes", ["QueueUrl": url, "AttributeNames": ["All"]])
        #expect(attributes["result"]?["Attributes"]?["ApproximateNumberOfMessagesNotVisible"] == "14", "\(attributes.outputs)")
        expectSameShape(attributes["result"], try boto3("sqs", "get_queue_attributes", ["QueueUrl": url, "AttributeNames": ["All"]]))
    }

    @Test("binary values go out and come back as {\"base64\": ...}: a DynamoDB item read with get_item and written again with put_item keeps its bytes, as boto3 sees them")
    func blobsRoundTrip() throws {
        let table = "flowspool-" + Spool.randomToken()
        #expect(try aws("dynamodb", "create_table", [
            "TableName": .string(table), "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [["AttributeName": "pk", "KeyType": "HASH"]], "AttributeDefinitions": [["AttributeName": "pk", "AttributeType": "S"]],
        ]).status == .success)
        let bytes = Base64.object((0...255).map(UInt8.init))
        let item: JSON = ["pk": ["S": "first"], "b": ["B": bytes], "bs": ["BS": [["base64": "AAE="], ["base64": "/w=="]]]]
        #expect(try aws("dynamodb", "put_item", ["TableName": .string(table), "Item": item]).status == .success)
        let got = try aws("dynamodb", "get_item", ["TableName": .string(table), "Key": ["pk": ["S": "first"]]])
        var read = try #require(got["result"]?["Item"]?.objectValue)
        #expect(read["b"]?["B"] == bytes, "\(got.outputs)")
        read["pk"] = ["S": "second"]
        #expect(try aws("dynamodb", "put_item", ["TableName": .string(table), "Item": .object(read)]).status == .success)
        let reference = try boto3("dynamodb", "get_item", ["TableName": .string(table), "Key": ["pk": ["S": "second"]]])
        #expect(reference["Item"]?["b"]?["B"] == bytes)
        let set = (reference["Item"]?["bs"]?["BS"]?.arrayValue ?? []).compactMap { $0["base64"]?.stringValue }
        #expect(set.sorted() == ["/w==", "AAE="], "a set of binary values has no order")
    }
}
