#if canImport(Glibc)
import Glibc
#endif
import Basics
import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// boto3's fix-ups (botocore's handlers.py), each against boto3 on the same server.
extension AWSTaskTests {
    @Test("EC2 UserData and autoscaling's go base64-encoded, as boto3 encodes them: the instance holds what boto3's holds")
    func userDataEncoded() throws {
        let script = "#!/bin/sh\necho héllo\n"
        let parameters: JSONObject = ["ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1, "UserData": .string(script)]
        let ran = try aws("ec2", "run_instances", parameters)
        #expect(ran.status == .success, "\(ran.message)")
        let ours = try #require(ran["result"]?["Instances"]?.arrayValue?.first?["InstanceId"])
        let theirs = try #require(try boto3Call("ec2", "run_instances", parameters)["result"]?["Instances"]?.arrayValue?.first?["InstanceId"])
        let attribute = { (id: JSON) in ["InstanceId": id, "Attribute": "userData"] as JSONObject }
        let stored = try aws("ec2", "describe_instance_attribute", attribute(ours))["result"]?["UserData"]?["Value"]
        #expect(stored == .string(Base64.encode(Array(script.utf8))))
        #expect(stored == (try boto3Call("ec2", "describe_instance_attribute", attribute(theirs)))["result"]?["UserData"]?["Value"])
        let name = "flowspool-" + Spool.randomToken()
        func configuration(_ name: String) -> JSONObject {
            ["LaunchConfigurationName": .string(name), "ImageId": "ami-12c6146b", "InstanceType": "t2.micro", "UserData": .string(script)]
        }
        #expect(try aws("autoscaling", "create_launch_configuration", configuration(name)).status == .success)
        _ = try boto3Call("autoscaling", "create_launch_configuration", configuration(name + "-boto3"))
        let described = try aws("autoscaling", "describe_launch_configurations", ["LaunchConfigurationNames": [.string(name), .string(name + "-boto3")]])
        let userData = described["result"]?["LaunchConfigurations"]?.arrayValue?.map { $0["UserData"] }
        #expect(userData?.count == 2 && userData?[0] == userData?[1], "\(described.outputs)")
    }

    @Test("S3 CopySource as a dictionary {Bucket, Key, VersionId} and as a string, quoted as boto3 quotes it: keys with + & # % ü and spaces copy")
    func copySource() throws {
        let bucket = "flowspool-" + Spool.randomToken(), key = "a+b&c#d%e ü f.txt"
        #expect(try aws(at: TestEnvironment.awsOpenEndpoint, "s3", "create_bucket", ["Bucket": .string(bucket)]).status == .success)
        #expect(try aws(at: TestEnvironment.awsOpenEndpoint, "s3", "put_bucket_versioning", ["Bucket": .string(bucket), "VersioningConfiguration": ["Status": "Enabled"]]).status == .success)
        let first = try aws(at: TestEnvironment.awsOpenEndpoint, "s3", "put_object", ["Bucket": .string(bucket), "Key": .string(key), "Body": "first"])
        let version = try #require(first["result"]?["VersionId"]?.stringValue, "\(first.message)")
        #expect(try aws(at: TestEnvironment.awsOpenEndpoint, "s3", "put_object", ["Bucket": .string(bucket), "Key": .string(key), "Body": "second"]).status == .success)
        let sources: [(String, JSON, String)] = [
            ("dict", ["Bucket": .string(bucket), "Key": .string(key)], "second"),
            ("dict-version", ["Bucket": .string(bucket), "Key": .string(key), "VersionId": .string(version)], "first"),
            ("string", .string(bucket + "/" + key), "second"),
            ("string-version", .string(bucket + "/" + key + "?versionId=" + version), "first"),
        ]
        for (target, source, body) in sources {
            let copied = try aws(at: TestEnvironment.awsOpenEndpoint, "s3", "copy_object", ["Bucket": .string(bucket), "Key": .string(target), "CopySource": source])
            #expect(copied.status == .success, "\(target): \(copied.message)")
            let reference = try boto3Call("s3", "copy_object", ["Bucket": .string(bucket), "Key": .string(target + "-boto3"), "CopySource": source], endpoint: TestEnvironment.awsOpenEndpoint)
            expectSameShape(copied["result"], reference["result"])
            let got = try aws(at: TestEnvironment.awsOpenEndpoint, "s3", "get_object", ["Bucket": .string(bucket), "Key": .string(target)])
            #expect(got["result"]?["Body"] == Base64.object(Array(body.utf8)), "\(target)")
        }
        let upload = try aws(at: TestEnvironment.awsOpenEndpoint, "s3", "create_multipart_upload", ["Bucket": .string(bucket), "Key": "parts"])
        let part = try aws(at: TestEnvironment.awsOpenEndpoint, "s3", "upload_part_copy", [
            "Bucket": .string(bucket), "Key": "parts", "PartNumber": 1, "UploadId": try #require(upload["result"]?["UploadId"]),
            "CopySource": ["Bucket": .string(bucket), "Key": .string(key), "VersionId": .string(version)],
        ])
        #expect(part["result"]?["CopyPartResult"]?["ETag"] != nil, "\(part.message)")
        let incomplete = try aws(at: TestEnvironment.awsOpenEndpoint, "s3", "copy_object", ["Bucket": .string(bucket), "Key": "x", "CopySource": ["Bucket": .string(bucket)]])
        let referenceError = try boto3Call("s3", "copy_object", ["Bucket": .string(bucket), "Key": "x", "CopySource": ["Bucket": .string(bucket)]], endpoint: TestEnvironment.awsOpenEndpoint)
        #expect(incomplete.message == (referenceError["message"]?.stringValue ?? "-") + "\n")
    }

    @Test("Route 53 ids as other calls give them (/hostedzone/..., /change/..., /delegationset/...) name what they name, as boto3 strips them")
    func route53IDs() throws {
        let created = try aws(at: TestEnvironment.awsOpenEndpoint, "route53", "create_hosted_zone", ["Name": "flowspool.example", "CallerReference": .string(Spool.randomToken())])
        let zone = try #require(created["result"]?["HostedZone"]?["Id"]?.stringValue, "\(created.message)")
        let change = try #require(created["result"]?["ChangeInfo"]?["Id"]?.stringValue)
        #expect(zone.hasPrefix("/hostedzone/") && change.hasPrefix("/change/"))
        let delegation = try aws(at: TestEnvironment.awsOpenEndpoint, "route53", "create_reusable_delegation_set", ["CallerReference": .string(Spool.randomToken())])
        let set = "/delegationset/" + (try #require(delegation["result"]?["DelegationSet"]?["Id"]?.stringValue)).split(separator: "/").last.map(String.init)!
        for (operation, id) in [("get_hosted_zone", zone), ("get_change", change), ("get_reusable_delegation_set", set)] {
            let ended = try aws(at: TestEnvironment.awsOpenEndpoint, "route53", operation, ["Id": .string(id)])
            #expect(ended.status == .success, "\(operation) \(id): \(ended.message)")
            expectSameShape(ended["result"], try boto3Call("route53", operation, ["Id": .string(id)], endpoint: TestEnvironment.awsOpenEndpoint)["result"])
        }
    }

    @Test("Glacier: accountId '-' when left out, and an upload's SHA-256 tree hash, as boto3 adds them")
    func glacier() throws {
        let vault = "flowspool-" + Spool.randomToken()
        let created = try aws(at: TestEnvironment.awsOpenEndpoint, "glacier", "create_vault", ["vaultName": .string(vault)])
        #expect(created.status == .success, "\(created.message)")
        // Over a MiB: the tree hash is not the body's SHA-256. moto answers with the hash it was sent.
        let body = String(repeating: "flowspool ", count: 110_000)
        let ours = try aws(at: TestEnvironment.awsOpenEndpoint, "glacier", "upload_archive", ["vaultName": .string(vault), "body": .string(body)])
        #expect(ours.status == .success, "\(ours.message)")
        let theirs = try boto3Call("glacier", "upload_archive", ["vaultName": .string(vault), "body": .string(body)], endpoint: TestEnvironment.awsOpenEndpoint)
        #expect(ours["result"]?["checksum"] != nil && ours["result"]?["checksum"] == theirs["result"]?["checksum"], "\(ours.outputs)")
    }

    @Test("SSE-C keys go base64-encoded with their MD5, as boto3 sends them (both read back from the test HTTP server's /echo)")
    func customerKeys() throws {
        let parameters: JSONObject = ["Bucket": "echo", "Key": "secret", "SSECustomerAlgorithm": "AES256", "SSECustomerKey": "0123456789abcdef0123456789abcdef"]
        func sentHeaders(_ body: JSON?) throws -> JSONObject {
            let bytes = try #require(body.flatMap(Base64.bytes(ofObject:)))
            let headers = try #require(try JSON(parsing: bytes)["headers"]?.objectValue)
            return JSONObject(headers.map { ($0.key.lowercased(), $0.value) })
        }
        let ours = try sentHeaders(try aws(at: TestEnvironment.httpURL, "s3", "get_object", parameters)["result"]?["Body"])
        let theirs = try sentHeaders(try boto3Call("s3", "get_object", parameters, endpoint: TestEnvironment.httpURL)["result"]?["Body"])
        for name in ["x-amz-server-side-encryption-customer-key", "x-amz-server-side-encryption-customer-key-md5"] {
            #expect(ours[name] != nil && ours[name] == theirs[name], "\(name): \(ours[name] ?? "none") and boto3's \(theirs[name] ?? "none")")
        }
    }

    @Test("IAM's policy documents come as dictionaries, EC2's console output as text and CloudFormation's JSON template as a dictionary, as boto3 gives them")
    func decodedResults() throws {
        let policy: JSON = ["Version": "2012-10-17", "Statement": [["Effect": "Allow", "Principal": ["Service": "ec2.amazonaws.com"], "Action": "sts:AssumeRole"]]]
        let role = "flowspool-" + Spool.randomToken()
        #expect(try aws("iam", "create_role", ["RoleName": .string(role), "AssumeRolePolicyDocument": .string(policy.compactText)]).status == .success)
        let got = try aws("iam", "get_role", ["RoleName": .string(role)])
        #expect(got["result"]?["Role"]?["AssumeRolePolicyDocument"] == policy, "\(got.outputs)")
        #expect(got["result"]?["Role"]?["AssumeRolePolicyDocument"] == (try boto3Call("iam", "get_role", ["RoleName": .string(role)]))["result"]?["Role"]?["AssumeRolePolicyDocument"])
        let ran = try aws("ec2", "run_instances", ["ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1])
        let instance = try #require(ran["result"]?["Instances"]?.arrayValue?.first?["InstanceId"])
        let output = try aws("ec2", "get_console_output", ["InstanceId": instance])["result"]?["Output"]
        #expect(output?.stringValue?.hasPrefix("Linux version") == true, "\(output ?? "none")")
        #expect(output == (try boto3Call("ec2", "get_console_output", ["InstanceId": instance]))["result"]?["Output"])
        let stack = "flowspool-" + Spool.randomToken()
        let template: JSON = ["Resources": ["Queue": ["Type": "AWS::SQS::Queue", "Properties": ["QueueName": .string(stack)]]]]
        #expect(try aws("cloudformation", "create_stack", ["StackName": .string(stack), "TemplateBody": .string(template.compactText)]).status == .success)
        let body = try aws("cloudformation", "get_template", ["StackName": .string(stack)])["result"]?["TemplateBody"]
        #expect(body == template)
        #expect(body == (try boto3Call("cloudformation", "get_template", ["StackName": .string(stack)]))["result"]?["TemplateBody"])
    }

    @Test("S3's Expires header comes as ExpiresString too, as boto3 gives it")
    func expiresString() throws {
        let bucket = "flowspool-" + Spool.randomToken()
        #expect(try aws("s3", "create_bucket", ["Bucket": .string(bucket)]).status == .success)
        #expect(try aws("s3", "put_object", ["Bucket": .string(bucket), "Key": "k", "Body": "x", "Expires": "2030-01-02T03:04:05Z"]).status == .success)
        let ours = try aws("s3", "head_object", ["Bucket": .string(bucket), "Key": "k"])["result"]
        let theirs = try boto3Call("s3", "head_object", ["Bucket": .string(bucket), "Key": "k"])["result"]
        #expect(ours?["ExpiresString"] != nil && ours?["ExpiresString"] == theirs?["ExpiresString"], "\(ours ?? "none")")
        #expect(ours?["Expires"] == theirs?["Expires"])
    }

    @Test("SQS's QueueUrl is a parameter, not the endpoint: a queue URL naming another host reaches endpoint_url, as boto3's does")
    func queueURLIsNoEndpoint() throws {
        let name = "flowspool-" + Spool.randomToken()
        let created = try aws("sqs", "create_queue", ["QueueName": .string(name)])
        let account = try #require(created["result"]?["QueueUrl"]?.stringValue?.split(separator: "/").dropLast().last)
        let elsewhere = JSON.string("https://sqs.eu-west-3.amazonaws.com/\(account)/\(name)")
        let sent = try aws("sqs", "send_message", ["QueueUrl": elsewhere, "MessageBody": "here"])
        #expect(sent.status == .success, "\(sent.message)")
        expectSameShape(sent["result"], try boto3Call("sqs", "send_message", ["QueueUrl": elsewhere, "MessageBody": "here"])["result"])
    }

    // MARK: validation as botocore's ParamValidator

    @Test("parameters are checked as botocore checks them, and every problem is told at once in boto3's very words", arguments: [
        ("sqs", "create_queue", #"{"QueueNam": "x", "Colour": "red", "Attributes": {"DelaySeconds": 5}}"#),
        ("ec2", "run_instances", #"{"ImageId": "ami-1", "MinCount": "one", "MaxCount": 0.5, "TagSpecifications": [{"Tags": [{"Key": 1}]}]}"#),
        ("dynamodb", "create_table", #"{"TableName": "t", "KeySchema": [], "AttributeDefinitions": [{"AttributeName": "", "AttributeType": "S"}], "ProvisionedThroughput": {"ReadCapacityUnits": 0, "WriteCapacityUnits": -1}}"#),
        ("iam", "create_user", #"{"UserName": ""}"#),
        ("sqs", "create_queue", #"{"QueueName": {"a": [1, "b'c", true, null, 1.5, "d\"e'f"]}}"#),
        ("sqs", "create_queue", #"{"QueueName": null}"#),
        ("sqs", "get_queue_attributes", #"{"QueueUrl": "u", "AttributeNames": "All"}"#),
        ("cloudwatch", "get_metric_statistics", #"{"Namespace": "n", "MetricName": "m", "StartTime": "not a time", "EndTime": 1700000000, "Period": 60}"#),
        ("cloudwatch", "put_metric_alarm", #"{"AlarmName": "a", "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanThreshold", "EvaluationCriteria": {}}"#),
        ("kinesis", "put_record", #"{"StreamName": "s", "PartitionKey": "p", "Data": 5}"#),
        ("s3", "put_object", #"{"Bucket": "no/slashes", "Key": "k"}"#),
        ("s3", "put_object", #"{"Bucket": "b", "Key": "k", "Metadata": {"colour": "grün"}}"#),
        ("ec2", "run_instances", #"{"ImageId": "ami-1", "MinCount": true, "MaxCount": 1, "DryRun": 1}"#),
    ])
    func validationAsBotocore(client: String, operation: String, parameters: String) throws {
        let given = try #require(try JSON(parsing: Array(parameters.utf8)).objectValue)
        let ended = try aws(client, operation, given)
        let reference = try boto3Call(client, operation, given)
        #expect(reference["exception"] == "ParamValidationError", "\(reference)")
        #expect(ended.status == .error)
        #expect(ended.message == (reference["message"]?.stringValue ?? "-") + "\n")
    }

    @Test("a value the model calls sensitive is masked in the message, where boto3 would show it")
    func sensitiveValueMasked() throws {
        let given: JSONObject = ["UserName": "flowspool", "Password": 271828182]
        let ended = try aws("iam", "create_login_profile", given)
        let reference = try #require(try boto3Call("iam", "create_login_profile", given)["message"]?.stringValue)
        #expect(reference.contains("value: 271828182,"))
        #expect(ended.message == reference.replacing("value: 271828182,", with: "value: ****,") + "\n")
    }

    @Test("with protect_inputs naming parameters, a validation message shows every value as ****")
    func protectedParametersMasked() throws {
        let ended = try aws("ec2", "run_instances", ["ImageId": "ami-1", "MinCount": "secret-count", "MaxCount": 1], ["protect_inputs": ["parameters"]])
        #expect(ended.status == .error)
        #expect(ended.message.hasPrefix("Parameter validation failed:\nInvalid type for parameter MinCount, value: ****, type: <class 'str'>"), "\(ended.message)")
        #expect(!ended.message.contains("secret-count"))
        let bucket = try aws("s3", "get_object", ["Bucket": "secret/../bucket", "Key": "k"], ["protect_inputs": ["parameters"]])
        #expect(bucket.message.hasPrefix("Parameter validation failed:\nInvalid bucket name \"****\""), "\(bucket.message)")
        #expect(!bucket.message.contains("secret"))
    }

    // MARK: no region

    @Test("without a region, as boto3: s3 goes on (signed for us-east-1), sqs, ec2, dynamodb and, with endpoint_url, sts end with botocore's NoRegionError; AWS_REGION alone is no region; the profile's region in ~/.aws/config counts")
    func noRegion() throws {
        let home = try TemporaryDirectory()
        // The supervisor's environment as a service has it: no ~/.aws, no region variable (an empty
        // one is none to the task; boto3 here runs without them).
        let environment = ["HOME": home.path, "AWS_CONFIG_FILE": home.path + "/.aws/config", "AWS_SHARED_CREDENTIALS_FILE": home.path + "/.aws/credentials"]
        let noRegion = try TestSpool()
        try noRegion.startSupervisor(environment: environment.merging(["AWS_DEFAULT_REGION": "", "AWS_REGION": "eu-west-3"]) { $1 })
        func run(_ client: String, _ operation: String, _ parameters: JSONObject, in spool: TestSpool) throws -> Ended {
            try spool.run("AWS", [
                "client": .string(client), "service": .string(operation), "parameters": .object(parameters), "region": nil,
                "endpoint_url": .string(TestEnvironment.awsEndpoint),
                "aws_access_key_id": .string(TestEnvironment.awsKeyID), "aws_secret_access_key": .string(TestEnvironment.awsSecret),
            ])
        }
        func reference(_ client: String, _ operation: String, _ parameters: JSONObject, environment: [String: String]) throws -> JSON {
            try boto3Call(client, operation, parameters, region: nil, environment: environment, unsetting: ["AWS_DEFAULT_REGION", "AWS_REGION"])
        }
        let bucket = "flowspool-" + Spool.randomToken()
        let created = try run("s3", "create_bucket", ["Bucket": .string(bucket)], in: noRegion)
        #expect(created.status == .success, "\(created.message)")
        #expect(created["result"]?["Location"] == .string("/" + bucket))
        let boto3Created = try reference("s3", "create_bucket", ["Bucket": .string(bucket + "-boto3")], environment: environment)
        #expect(boto3Created["result"]?["Location"] == .string("/" + bucket + "-boto3"), "\(boto3Created)")
        for (client, operation, parameters) in [
            ("sqs", "create_queue", ["QueueName": "flowspool-no-region"] as JSONObject), ("ec2", "describe_instances", [:]),
            ("dynamodb", "list_tables", [:]), ("sts", "get_caller_identity", [:]),
        ] {
            let ended = try run(client, operation, parameters, in: noRegion)
            let boto3 = try reference(client, operation, parameters, environment: environment.merging(["AWS_REGION": "eu-west-3"]) { $1 })
            #expect(boto3["exception"] == "NoRegionError", "\(boto3)")
            #expect(ended.status == .error)
            #expect(ended.message.hasPrefix((boto3["message"]?.stringValue ?? "-") + " ("), "\(client): \(ended.message)")
        }
        // The profile's region, as boto3 reads it from ~/.aws/config: where moto starts the instance.
        try FileSystem.makeDirectory(home.path + "/.aws")
        try FileSystem.writeFile(home.path + "/.aws/config", Array("[default]\nregion = eu-west-3\n".utf8))
        let configured = try TestSpool()
        try configured.startSupervisor(environment: environment.merging(["AWS_DEFAULT_REGION": ""]) { $1 })
        let parameters: JSONObject = ["ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1]
        let ran = try run("ec2", "run_instances", parameters, in: configured)
        let zone = ran["result"]?["Instances"]?.arrayValue?.first?["Placement"]?["AvailabilityZone"]
        #expect(zone?.stringValue?.hasPrefix("eu-west-3") == true, "\(ran.message)")
        let boto3Zone = try reference("ec2", "run_instances", parameters, environment: environment)["result"]?["Instances"]?.arrayValue?.first?["Placement"]?["AvailabilityZone"]
        #expect(zone == boto3Zone)
    }

    // MARK: waiters

    @Test("a waiter takes WaiterConfig among its parameters, as boto3's waiters do; wrong values are named")
    func waiterConfigParameter() throws {
        let missing: JSONObject = ["InstanceIds": ["i-00000000000000000"], "WaiterConfig": ["Delay": 0.1, "MaxAttempts": 2]]
        let ended = try aws("ec2", "", missing, ["waiter": "instance_running"])
        let reference = try boto3Call("ec2", "instance_running", missing, waiter: true)
        #expect(reference["exception"] == "WaiterError", "\(reference)")
        #expect(reference["message"]?.stringValue?.hasPrefix("Waiter InstanceRunning failed: Max attempts exceeded") == true)
        #expect(ended.message == (reference["message"]?.stringValue ?? "-") + "\n")
        // After an operation: WaiterConfig is the waiter's, not a parameter of stop_instances.
        let ran = try aws("ec2", "run_instances", ["ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1])
        let instance = try #require(ran["result"]?["Instances"]?.arrayValue?.first?["InstanceId"])
        let stopped = try aws("ec2", "stop_instances", ["InstanceIds": [instance], "WaiterConfig": ["Delay": 0.1]], ["waiter": "instance_stopped"])
        #expect(stopped.status == .success, "\(stopped.message)")
        #expect(stopped["result"]?["Reservations"]?.arrayValue?.first?["Instances"]?.arrayValue?.first?["State"]?["Name"] == "stopped")
        let wrong = try aws("ec2", "", ["InstanceIds": ["i-00000000000000000"], "WaiterConfig": ["MaxAttempts": "two"]], ["waiter": "instance_running"])
        #expect(wrong.message == "WaiterConfig's MaxAttempts must be a whole number, not \"two\"\n")
    }

    // MARK: times and headers

    @Test("times keep what the server sent, to the microsecond, written as boto3's isoformat() writes them")
    func fullPrecisionTimes() throws {
        let table = "flowspool-" + Spool.randomToken()
        #expect(try aws("dynamodb", "create_table", [
            "TableName": .string(table), "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [["AttributeName": "pk", "KeyType": "HASH"]], "AttributeDefinitions": [["AttributeName": "pk", "AttributeType": "S"]],
        ]).status == .success)
        let described = try aws("dynamodb", "describe_table", ["TableName": .string(table)])["result"]?["Table"]?["CreationDateTime"]
        let referenceTable = try boto3Call("dynamodb", "describe_table", ["TableName": .string(table)])["result"]?["Table"]
        #expect(described != nil && described == referenceTable?["CreationDateTime"])
        let user = "flowspool-" + Spool.randomToken()
        #expect(try aws("iam", "create_user", ["UserName": .string(user)]).status == .success)
        let created = try aws("iam", "get_user", ["UserName": .string(user)])["result"]?["User"]?["CreateDate"]
        let referenceUser = try boto3Call("iam", "get_user", ["UserName": .string(user)])["result"]?["User"]
        #expect(created != nil && created == referenceUser?["CreateDate"])
        let bucket = "flowspool-" + Spool.randomToken()
        #expect(try aws("s3", "create_bucket", ["Bucket": .string(bucket)]).status == .success)
        #expect(try aws("s3", "put_object", ["Bucket": .string(bucket), "Key": "k", "Body": "x"]).status == .success)
        let modified = try aws("s3", "head_object", ["Bucket": .string(bucket), "Key": "k"])["result"]?["LastModified"]
        let referenceHead = try boto3Call("s3", "head_object", ["Bucket": .string(bucket), "Key": "k"])["result"]
        #expect(modified != nil && modified == referenceHead?["LastModified"])
    }

    @Test("a header sent twice is one value, joined with \", \" as boto3 joins it: moto's two Server headers, and header-bound members")
    func repeatedHeaders() throws {
        let ours = try aws("sts", "get_caller_identity")["result"]?["ResponseMetadata"]?["HTTPHeaders"]?["server"]
        let theirs = try boto3Call("sts", "get_caller_identity")["result"]?["ResponseMetadata"]?["HTTPHeaders"]?["server"]
        #expect(ours?.stringValue?.contains(", ") == true && ours == theirs, "\(ours ?? "none") and boto3's \(theirs ?? "none")")
        // A server of the test's own that answers HEAD with Cache-Control and x-amz-meta-colour twice.
        let server = try StartedProgram("/usr/bin/env", ["python3", "-c", """
            import http.server, sys
            class Twice(http.server.BaseHTTPRequestHandler):
                def do_HEAD(self):
                    self.send_response(200)
                    for name, value in [("Cache-Control", "no-cache"), ("Cache-Control", "no-store"),
                                        ("x-amz-meta-colour", "red"), ("X-Amz-Meta-Colour", "blue"), ("Content-Length", "0")]:
                        self.send_header(name, value)
                    self.end_headers()
                def log_message(self, *arguments):
                    pass
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Twice)
            print("listening", server.server_address[1], file=sys.stderr, flush=True)
            server.serve_forever()
            """])
        defer {
            kill(server.pid, SIGTERM)
            _ = try? server.finish(within: 10)
        }
        try server.awaitStandardError(containing: "listening ")
        let endpoint = "http://127.0.0.1:" + (server.standardError.split(separator: " ").last?.prefix { $0.isNumber } ?? "")
        let head = try aws(at: endpoint, "s3", "head_object", ["Bucket": "b", "Key": "k"])["result"]
        let reference = try boto3Call("s3", "head_object", ["Bucket": "b", "Key": "k"], endpoint: endpoint)["result"]
        #expect(head?["CacheControl"] == "no-cache, no-store")
        #expect(head?["CacheControl"] == reference?["CacheControl"])
        #expect(head?["Metadata"] == reference?["Metadata"], "\(head ?? "none")")
        #expect(head?["ResponseMetadata"]?["HTTPHeaders"]?["cache-control"] == reference?["ResponseMetadata"]?["HTTPHeaders"]?["cache-control"])
    }
}
