import JSON
import TaskRunner
import Testing

@Suite("Task inputs")
struct TaskInputsTests {
    @Test("a missing or null input takes its default")
    func defaults() throws {
        var inputs = TaskInputs(taskType: "REST", values: ["method": nil])
        #expect(try inputs.string("method") == nil)
        #expect(try inputs.number("timeout") == nil)
    }

    @Test("an input of the wrong type is named with what it should be and what it is; a string that reads as the type says how to write it on the command line")
    func wrongType() {
        var inputs = TaskInputs(taskType: "REST", values: ["port": "22", "timeout": "soon"])
        #expect {
            try inputs.integer("port")
        } throws: { error in
            "\(error)" == "input 'port' must be an integer, not a string (\"22\"); on flowspool's command line, write port:=22"
        }
        #expect {
            try inputs.number("timeout")
        } throws: { error in
            "\(error)" == "input 'timeout' must be a number, not a string (\"soon\")"
        }
    }

    @Test("the value of a protected input of the wrong type is not repeated in the message")
    func protectedValueNotShown() {
        var inputs = TaskInputs(taskType: "SSH", values: ["password": 123456, "token": 42, "protect_inputs": ["token"]])
        for name in ["password", "token"] {
            #expect {
                try inputs.string(name)
            } throws: { error in
                "\(error)" == "input '\(name)' must be a string, not an integer"
            }
        }
    }

    @Test("protect_inputs and protect_outputs must be lists of names")
    func protectionLists() throws {
        var inputs = TaskInputs(taskType: "REST", values: ["protect_outputs": "json"])
        #expect {
            try inputs.rejectUnknown()
        } throws: { error in
            "\(error)" == "input 'protect_outputs' must be a list of names, not a string"
        }
        _ = try inputs.string("unused")
    }

    @Test("a required input that is missing is named")
    func required() {
        var inputs = TaskInputs(taskType: "REST", values: [:])
        #expect {
            try inputs.requiredString("url")
        } throws: { error in
            "\(error)" == "input 'url' is required for the REST task"
        }
    }

    @Test("inputs the task did not read are unknown; protect_inputs and protect_outputs are always known")
    func unknown() throws {
        var inputs = TaskInputs(taskType: "REST", values: ["url": "u", "urll": "v", "protect_inputs": ["url"], "protect_outputs": []])
        _ = try inputs.string("url")
        #expect {
            try inputs.rejectUnknown()
        } throws: { error in
            "\(error)" == "unknown input 'urll' for the REST task (its inputs: url)"
        }
    }

    @Test("numbers: integers are numbers, whole floats are integers")
    func numbers() throws {
        var inputs = TaskInputs(taskType: "X", values: ["a": 3, "b": 2.0, "c": 2.5])
        #expect(try inputs.number("a") == 3)
        #expect(try inputs.integer("b") == 2)
        #expect(throws: TaskFailure.self) { try inputs.integer("c") }
    }

    @Test("string dictionaries take numbers and booleans in their JSON spelling, and refuse lists")
    func stringDictionary() throws {
        var inputs = TaskInputs(taskType: "REST", values: ["headers": ["A": "x", "B": 3, "C": true], "cookies": ["D": ["no"]]])
        let headers = try #require(try inputs.stringDictionary("headers"))
        #expect(headers.map { "\($0.0)=\($0.1)" } == ["A=x", "B=3", "C=true"])
        #expect(throws: TaskFailure.self) { try inputs.stringDictionary("cookies") }
    }
}
