@testable import AWSTask
import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import TaskRunner
import Testing

/// The parts of the AWS task that need no server: signatures against AWS's published test vector,
/// botocore's operation names, and the JMESPath paths of paginators and waiters.
@Suite("AWS task parts")
struct AWSPartsTests {
    @Test("SigV4 signs AWS's get-vanilla test request as AWS's test suite says")
    func signatureTestVector() {
        var request = SignedRequest(method: "GET", endpoint: "https://example.amazonaws.com", path: "/", query: [], headers: [], body: [])
        let credentials = Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: nil)
        SigV4.sign(&request, credentials: credentials, region: "us-east-1", service: "service", at: 1_440_938_160)
        #expect(request.headers.first { $0.0 == "Authorization" }?.1
            == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    @Test("a runner process reads a model once, and again when its files have changed (botocore upgraded)")
    func modelsKeptWhileUnchanged() throws {
        let data = try TemporaryDirectory()
        let directory = data.path + "/demo/2020-01-01"
        try FileSystem.makeDirectory(data.path + "/demo")
        try FileSystem.makeDirectory(directory)
        let model: JSON = ["metadata": ["protocol": "json", "apiVersion": "first"], "operations": [:], "shapes": [:]]
        try FileSystem.writeFile(directory + "/service-2.json", Array(model.compactText.utf8))
        #expect(try ServiceModel.load("demo", from: [data.path]).apiVersion == "first")
        #expect(ServiceModel.loaded[directory]?.model.apiVersion == "first")
        #expect(try ServiceModel.load("demo", from: [data.path]).apiVersion == "first")
        // As botocore's upgrade might: an sdk-extras file comes, changing the model.
        let extras: JSON = ["merge": ["metadata": ["apiVersion": "second"]]]
        try FileSystem.writeFile(directory + "/service-2.sdk-extras.json", Array(extras.compactText.utf8))
        #expect(try ServiceModel.load("demo", from: [data.path]).apiVersion == "second")
    }

    @Test("without a region, an endpoints.json that cannot be read is reported as such, not as a service without a global endpoint")
    func unreadableEndpoints() throws {
        let data = try TemporaryDirectory()
        let directory = data.path + "/demo/2020-01-01"
        try FileSystem.makeDirectory(data.path + "/demo")
        try FileSystem.makeDirectory(directory)
        let model: JSON = ["metadata": ["protocol": "json", "apiVersion": "2020-01-01"], "operations": [:], "shapes": [:]]
        try FileSystem.writeFile(directory + "/service-2.json", Array(model.compactText.utf8))
        let demo = try ServiceModel.load("demo", from: [data.path])
        for content in [nil, "{not json"] {
            if let content { try FileSystem.writeFile(data.path + "/endpoints.json", Array(content.utf8)) }
            do {
                _ = try Endpoint.resolve(demo, region: nil, endpointURL: nil)
                Issue.record("resolved without endpoints.json")
            } catch {
                #expect(error.message.hasPrefix("botocore's \(data.path)/endpoints.json cannot be read ("), "\(error.message)")
                #expect(!error.message.contains("global endpoint"))
            }
        }
    }

    @Test("operation names as boto3 spells them", arguments: [
        ("GetCallerIdentity", "get_caller_identity"), ("DescribeInstances", "describe_instances"), ("ListObjectsV2", "list_objects_v2"),
        ("DescribeDBInstances", "describe_db_instances"), ("ListACLs", "list_acls"), ("AssignIpv6Addresses", "assign_ipv6_addresses"),
        ("CreateVPCEndpoint", "create_vpc_endpoint"), ("GetObjectACL", "get_object_acl"),
    ])
    func operationNames(model: String, boto3: String) {
        #expect(ServiceModel.xformName(model) == boto3)
    }

    @Test("the JMESPath of waiters and paginators: projections flatten, indexes, ||, length and comparisons")
    func paths() throws {
        let result: JSON = ["Reservations": [["Instances": [["State": ["Name": "running"]], ["State": ["Name": "pending"]]]], ["Instances": [["State": ["Name": "running"]]]]],
                            "Contents": [["Key": "a"], ["Key": "b"]], "NextMarker": nil]
        #expect(try JMESPath("Reservations[].Instances[].State.Name").search(result) == ["running", "pending", "running"])
        #expect(try JMESPath("Contents[-1].Key").search(result) == "b")
        #expect(try JMESPath("NextMarker || Contents[-1].Key").search(result) == "b")
        #expect(try JMESPath("length(Reservations[]) > `0`").search(result) == true)
        #expect(try JMESPath("length(Reservations[].Instances[]) == `3`").search(result) == true)
        #expect(try JMESPath("Missing[].Key").search(result) == nil)
        #expect(throws: JMESPath.UnsupportedExpression.self) { try JMESPath("Contents[?Key=='a']") }
    }

    /// What python3 prints for `script` given `arguments`, as JSON: the reference of these tests.
    func python(_ script: String, _ arguments: [String] = [], environment: [String: String] = [:], unsetting: [String] = []) throws -> JSON {
        let result = try runProgram("/usr/bin/env", unsetting.flatMap { ["-u", $0] } + ["python3", "-c", script] + arguments, environment: environment)
        #expect(result.exitCode == 0, "\(result.standardError)")
        return try JSON(parsing: Array(result.standardOutput.utf8))
    }

    @Test("without a region, each service's endpoint is boto3's: the global ones of endpoints.json signed for us-east-1, the rest botocore's NoRegionError")
    func endpointsWithoutRegion() throws {
        let clients = ["s3", "iam", "route53", "cloudfront", "sts", "organizations", "budgets", "sqs", "ec2", "dynamodb", "s3control"]
        let reference = try python("""
            import json, sys, boto3
            answers = {}
            for name in sys.argv[1:]:
                try:
                    answers[name] = boto3.client(name, aws_access_key_id="a", aws_secret_access_key="b").meta.endpoint_url
                except Exception as error:
                    answers[name] = type(error).__name__ + ": " + str(error)
            print(json.dumps(answers))
            """, clients, environment: ["AWS_CONFIG_FILE": "/nonexistent", "HOME": "/nonexistent"], unsetting: ["AWS_DEFAULT_REGION", "AWS_PROFILE"])
        for client in clients {
            let expected = try #require(reference[client]?.stringValue)
            do {
                let endpoint = try Endpoint.resolve(try ServiceModel.load(client), region: nil, endpointURL: nil)
                #expect(endpoint.url == expected, "\(client)")
                #expect(endpoint.signingRegion == "us-east-1", "\(client)")
            } catch {
                #expect("NoRegionError: " + error.message == expected || error.message.hasPrefix(String(expected.dropFirst("NoRegionError: ".count)) + " ("), "\(client): \(error.message)")
            }
        }
        #expect(try Endpoint.resolve(try ServiceModel.load("s3"), region: nil, endpointURL: "http://127.0.0.1:1").signingRegion == "us-east-1")
        #expect(throws: TaskFailure.self) { try Endpoint.resolve(try ServiceModel.load("iam"), region: nil, endpointURL: "http://127.0.0.1:1") }
    }

    @Test("result times are what botocore's parse_timestamp makes of them, as isoformat() writes it (seconds since the epoch in UTC)")
    func resultTimes() throws {
        let inputs = [
            "2026-11-29T06:04:23Z", "2026-11-29T06:04:23.000Z", "2026-11-29T06:04:23.5Z", "2026-11-29T06:04:23.123456789Z",
            "2026-11-29T06:04:23.000001+02:00", "2026-11-29 06:04:23-0530", "2026-11-29T06:04:23", "2026-11-29T06:04:23+00:00",
            "Sun, 29 Nov 2026 05:56:00 GMT", "1700000000", "1700000000.123456", "0.0000005", "-1.5",
        ]
        let reference = try python("""
            import json, sys
            from botocore.utils import parse_timestamp
            print(json.dumps([parse_timestamp(float(v) if v.lstrip("-").replace(".", "", 1).isdigit() else v).isoformat() for v in sys.argv[1:]]))
            """, inputs, environment: ["TZ": "UTC"])
        for (index, input) in inputs.enumerated() {
            let given: JSON = Double(input).map { .double($0) } ?? .string(input)
            #expect(Timestamp.result(given) == reference.arrayValue?[index], "\(input)")
        }
    }

    @Test("seconds that are no time of years 1 to 9999 (nan, inf, huge) stay as they came")
    func timesOutOfRange() {
        #expect(Timestamp.result(.double(.nan)).doubleValue?.isNaN == true)
        for value: JSON in [.double(.infinity), .double(-.infinity), 1e300, -1e300, 253_402_300_800, -62_135_596_801, "nan", "inf", "1e300"] {
            #expect(Timestamp.result(value) == value, "\(value)")
        }
        #expect(Timestamp.result(253_402_300_799) == "9999-12-31T23:59:59+00:00")
        #expect(Timestamp.result(-62_135_596_800) == "0001-01-01T00:00:00+00:00")
    }

    @Test("values in messages are as Python's str() and repr() show them")
    func pythonText() throws {
        let values: [JSON] = [
            "plain", ["it's", "say \"hi\"", "both ' and \"", "tab\tnew\nline\\", "\u{7}bell \u{A0}nbsp \u{200B}zwsp é ☃ \u{1F600}"],
            ["n": nil, "t": true, "f": false, "i": -3, "d": 1.5, "w": 2.0, "big": 1e16, "small": 0.00001, "e": 123456789.125],
        ]
        let reference = try python("""
            import json, sys
            print(json.dumps([str(v) for v in json.loads(sys.argv[1])]))
            """, [JSON.array(values).compactText])
        for (index, value) in values.enumerated() {
            #expect(.string(PythonText.str(value)) == reference.arrayValue?[index])
        }
    }

    @Test("EC2's console output is base64-decoded once: an output whose text is itself base64 stays that text")
    func consoleOutputDecodedOnce() throws {
        let model = try ServiceModel.load("ec2")
        let customizations = Customizations(model: model, operation: try model.operation(named: "get_console_output"))
        // "UVVKRA==" is base64 of "QUJD", itself base64 of "ABC".
        let result = customizations.result(["InstanceId": "i-1", "Output": "UVVKRA=="], body: [], headers: [])
        #expect(result["Output"] == "QUJD")
    }

    @Test("S3's XML bodies keep CR and LF as character references, as botocore's escape_xml_payload writes them")
    func lineBreaksInXML() {
        let body = Array("<Delete><Object><Key>a\r\nb</Key></Object></Delete>".utf8)
        #expect(String(decoding: Customizations.escapingLineBreaks(body), as: UTF8.self) == "<Delete><Object><Key>a&#xD;&#xA;b</Key></Object></Delete>")
    }

    @Test("flowspool's own botocore is found beside a build under .build and an installed runner, and comes first when it is the newest")
    func ownBotocore() throws {
        #expect(ServiceModel.ownPackages(runnerDirectory: "/src/flowspool/.build/x86_64-unknown-linux-gnu/release") == ["/src/flowspool/.build/botocore/botocore"])
        #expect(ServiceModel.ownPackages(runnerDirectory: "/usr/local/libexec/flowspool") == ["/usr/local/share/flowspool/botocore"])
        #expect(ServiceModel.ownPackages(runnerDirectory: "/opt/somewhere/bin").isEmpty)
        let checkout = try TemporaryDirectory()
        let package = checkout.path + "/.build/botocore/botocore"
        for directory in [".build", ".build/botocore", ".build/botocore/botocore", ".build/botocore/botocore/data", ".build/debug"] {
            try FileSystem.makeDirectory(checkout.path + "/" + directory)
        }
        try FileSystem.writeFile(package + "/__init__.py", Array("__version__ = '99.0.1'\n".utf8))
        let candidates = ServiceModel.candidateDirectories(runnerDirectory: checkout.path + "/.build/debug")
        let given = Environment.value(ServiceModel.modelsVariable).map { [$0] } ?? []
        #expect(Array(candidates.prefix(given.count)) == given, "FLOWSPOOL_AWS_MODELS comes first")
        #expect(candidates.dropFirst(given.count).first == package + "/data")
        #expect(ServiceModel.modelsInUse([package + "/data"]) == "botocore 99.0.1 models in \(package)/data")
        #expect(ServiceModel.modelsInUse([checkout.path + "/nothing"]).hasPrefix("warning: no AWS API models found"))
    }

    @Test("endpoints come from botocore's endpoints.json: regional ones, and IAM's one global endpoint signed for us-east-1")
    func endpoints() throws {
        let iam = Endpoint.resolve(try ServiceModel.load("iam"), region: "eu-central-1")
        #expect(iam.url == "https://iam.amazonaws.com" && iam.signingRegion == "us-east-1")
        let ec2 = Endpoint.resolve(try ServiceModel.load("ec2"), region: "eu-central-1")
        #expect(ec2.url == "https://ec2.eu-central-1.amazonaws.com" && ec2.signingRegion == "eu-central-1")
        #expect(Endpoint.resolve(try ServiceModel.load("s3"), region: "us-east-1").url == "https://s3.us-east-1.amazonaws.com")
        #expect(Endpoint.resolve(try ServiceModel.load("sts"), region: "ap-southeast-2").url == "https://sts.ap-southeast-2.amazonaws.com")
    }

    @Test("a hostile XML response is refused with a message, never a crash: an open attribute, endless nesting")
    func hostileXML() {
        #expect(throws: XMLError.self) { try XMLParser.parse(Array("<a b=\"".utf8)) }
        #expect(throws: XMLError.self) { try XMLParser.parse(Array(String(repeating: "<a>", count: 100_000).utf8)) }
        #expect((try? XMLParser.parse(Array("<a x='1'><b>t&amp;u</b><b/></a>".utf8)))?.children("b").first?.text == "t&u")
    }

    @Test("the XML reader's conformance table: text, entities, CDATA as it is, namespaces, comments; a closing tag must name its element", arguments: [
        ("<a>t&amp;u&lt;&#x263A;&#65;</a>", "t&u<☺A"),
        ("<a>&quot;&apos;&gt;&#x1F600;&#9;</a>", "\"'>\u{1F600}\t"),
        ("<a><![CDATA[&amp; <b> ]]]]></a>", "&amp; <b> ]]"),
        ("<a>x&amp;<![CDATA[&lt;]]>&gt;y</a>", "x&&lt;>y"),
        ("<?xml version=\"1.0\"?><!-- c --><ns:a xmlns:ns=\"urn:x\">t<!-- inner -->u</ns:a>", "tu"),
        ("<a>\u{1F600} ü</a>", "\u{1F600} ü"),
        ("<a>  x \n </a>", "  x \n "),
        ("<a>l1\r\nl2\rl3</a>", "l1\nl2\nl3"),
        ("<a><![CDATA[c\r\nd]]></a>", "c\nd"),
        ("\u{FEFF}<a>bom</a>", "bom"),
        ("<?xml version=\"1.0\"?>\n<!DOCTYPE a>\n<a>d</a>\n<!-- after -->\n", "d"),
        ("<a>t</a >", "t"),
        ("<a/>", ""),
        ("<a></a>", ""),
    ])
    func xmlConformance(document: String, text: String) throws {
        #expect(try XMLParser.parse(Array(document.utf8)).text == text)
    }

    /// An element as the table below writes it: its name, attributes, text in quotes and children.
    static func outline(_ element: XMLElement) -> String {
        let attributes = element.attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return element.name + (attributes.isEmpty ? "" : "[" + attributes.joined(separator: ",") + "]") + "'\(element.text)'"
            + (element.children.isEmpty ? "" : "(" + element.children.map(outline).joined(separator: " ") + ")")
    }

    @Test("the XML reader reads names, attributes and children as botocore's ElementTree does: prefixes and namespaces left out of names, whitespace in attributes read as spaces, the text before the first child", arguments: [
        ("<ns:a xmlns:ns=\"urn:x\"><ns:b>t</ns:b></ns:a>", "a[xmlns:ns=urn:x]''(b't')"),
        ("<a xmlns=\"urn:x\"><b>t</b></a>", "a[xmlns=urn:x]''(b't')"),
        ("<a>\n  <b>1</b>\n  <c/>\n  <d></d>\n</a>", "a'\n  '(b'1' c'' d'')"),
        ("<a x='1' y=\"&lt;2&gt;\" z='a\nb\tc' w='a&#10;b'/>", "a[w=a\nb,x=1,y=<2>,z=a b c]''"),
        ("<a>x<!-- c -->y<b/>z</a>", "a'xy'(b'')"),
        ("<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\"><ID>1</ID></Grantee>",
         "Grantee[xmlns:xsi=http://www.w3.org/2001/XMLSchema-instance,xsi:type=CanonicalUser]''(ID'1')"),
        ("<a xml:lang=\"en\"><x:b xmlns:x=\"u\"><x:c/></x:b></a>", "a[xml:lang=en]''(b[xmlns:x=u]''(c''))"),
    ])
    func xmlElements(document: String, outline: String) throws {
        #expect(Self.outline(try XMLParser.parse(Array(document.utf8))) == outline)
    }

    @Test("XML that is not well formed is refused, naming the problem, where Python's expat refuses it for botocore", arguments: [
        ("<a><b></a></b>", "<b> is closed by </a>"),
        ("<a></b>", "<a> is closed by </b>"),
        ("<ns:a xmlns:ns=\"u\"></a>", "<ns:a> is closed by </a>"),
        ("<a></ a>", "<a> is closed by </>"),
        ("<a>x</a", "a malformed closing tag </a"),
        ("< a/>", "a malformed tag"),
        ("<a><![CDATA[x</a>", "']]>' never comes"),
        ("<a>]]></a>", "']]>' in text"),
        ("<a>&nbsp;</a>", "the entity &nbsp; is not one XML has"),
        ("<a>&#X41;</a>", "the entity &#X41; is not one XML has"),
        ("<a>&#xD800;</a>", "the entity &#xD800; is not one XML has"),
        ("<a>&#x110000;</a>", "the entity &#x110000; is not one XML has"),
        ("<a>&#0;</a>", "&#0; names a character XML does not allow"),
        ("<a>a & b</a>", "an & that starts no entity"),
        ("<a>&#65</a>", "an & that starts no entity"),
        ("<a><b/>tail &</a>", "an & that starts no entity"),
        ("<ns:a/>", "the prefix of ns:a is not declared"),
        ("<a><ns:b/></a>", "the prefix of ns:b is not declared"),
        ("<a z:y='1'/>", "the prefix of z:y is not declared"),
        ("<a x='1' x='2'/>", "the attribute x twice in <a>"),
        ("<a x='<'/>", "a '<' in an attribute of <a>"),
        ("<a/>junk", "something after the root element"),
        ("<a/><b/>", "something after the root element"),
    ])
    func xmlRefusals(document: String, problem: String) {
        #expect {
            try XMLParser.parse(Array(document.utf8))
        } throws: { error in
            "\(error)".contains(problem)
        }
    }

    @Test("of several botocore installations, the newest by its declared version comes first, whatever its place")
    func newestBotocoreFirst() throws {
        let root = try TemporaryDirectory()
        var packages: [String] = []
        for (name, version) in [("debian", "1.29.27"), ("pip", "1.43.11"), ("older-pip", "1.9.100"), ("unreadable", "")] {
            let package = root.path + "/" + name + "/botocore"
            try FileSystem.makeDirectory(root.path + "/" + name)
            try FileSystem.makeDirectory(package)
            if !version.isEmpty { try FileSystem.writeFile(package + "/__init__.py", Array("import os\n__version__ = '\(version)'\n".utf8)) }
            packages.append(package)
        }
        #expect(ServiceModel.version(ofBotocore: packages[1]) == [1, 43, 11])
        #expect(ServiceModel.newestFirst(packages).map { $0.split(separator: "/").dropLast().last.map(String.init) ?? "" }
            == ["pip", "debian", "older-pip", "unreadable"])
    }

    @Test("S3 bucket names as botocore's validate_bucket_name takes them: names and access point ARNs, never a path", arguments: [
        ("flowspool-shared.b_1", true), ("arn:aws:s3:us-east-1:123456789012:accesspoint/reports", true),
        ("a/../b", false), ("no such bucket", false), ("", false), (String(repeating: "b", count: 256), false),
    ])
    func bucketNames(bucket: String, valid: Bool) {
        #expect(S3Parameters.isBucketName(bucket) == valid)
    }

    @Test("every service but S3 signs its path without empty, . and .. segments")
    func normalizedPaths() {
        #expect(SigV4.normalized("/a//b/./c/../d") == "/a/b/d")
        #expect(SigV4.normalized("/") == "/")
        #expect(SigV4.normalized("/a/b/") == "/a/b/")
    }

    @Test("a model offering several protocols is spoken in botocore's order; a session token is as secret as the key")
    func protocolsAndSecrets() throws {
        #expect(ServiceModel.resolvedProtocol(["protocols": ["smithy-rpc-v2-cbor", "json", "query"], "protocol": "smithy-rpc-v2-cbor"]) == "json")
        #expect(ServiceModel.resolvedProtocol(["protocol": "rest-xml"]) == "rest-xml")
        #expect(Protection.maskedInputs(["aws_session_token": "FQoGZXIvYXdzE", "region": "us-east-1"])["aws_session_token"] == Protection.mask)
    }
}
