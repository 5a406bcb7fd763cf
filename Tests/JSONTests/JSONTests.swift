import JSON
import Testing

@Suite("JSON")
struct JSONTests {
    @Test("parses every kind of value and prints it back the same")
    func roundTrip() throws {
        let text = #"{"s":"a\"b\\c\n","i":-12,"d":1.5,"t":true,"f":false,"n":null,"l":[1,[2]],"o":{"k":"v"}}"#
        let value = try JSON(parsing: text)
        #expect(value["s"] == "a\"b\\c\n")
        #expect(value["i"] == .int(-12))
        #expect(value["d"] == .double(1.5))
        #expect(value["n"] == .null)
        #expect(value.compactText == text)
        #expect(try JSON(parsing: value.prettyText) == value)
    }

    @Test("keeps the order in which an object's keys were written")
    func keyOrder() throws {
        let value = try JSON(parsing: #"{"zebra":1,"apple":2,"mango":3}"#)
        #expect(value.objectValue?.keys == ["zebra", "apple", "mango"])
    }

    @Test("decodes \\u escapes, surrogate pairs included, and writes UTF-8 as it is")
    func unicode() throws {
        let value = try JSON(parsing: #""caf\u00e9 \ud83d\ude00 ü""#)
        #expect(value == "café 😀 ü")
        #expect(value.compactText == "\"café 😀 ü\"")
        #expect(JSON.string("\u{1}").compactText == #""\u0001""#)
    }

    @Test("says what is wrong and where", arguments: [
        ("", "empty document"),
        ("{\"a\":1,}", "expected a string key"),
        ("[1 2]", "expected ',' or ']'"),
        ("{\"a\" 1}", "expected ':'"),
        ("\"open", "unterminated string"),
        ("01", "unexpected '1' after the JSON value"),
        ("{} x", "after the JSON value"),
        ("\"\\x\"", "invalid escape"),
        ("tru", "expected a JSON value"),
        ("1e400", "number out of range"),
    ])
    func errors(text: String, reason: String) {
        #expect {
            try JSON(parsing: text)
        } throws: { error in
            "\(error)".contains(reason) && "\(error)".contains("line 1")
        }
    }

    @Test("reports the line and column of an error")
    func errorPosition() {
        #expect(throws: JSONParseError(reason: "unexpected '?': expected a JSON value", line: 2, column: 8)) {
            try JSON(parsing: "{\n  \"a\": ?}")
        }
    }

    @Test("refuses nesting deeper than 512 levels instead of overflowing the stack")
    func depthLimit() {
        let deep = String(repeating: "[", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSON(parsing: deep) }
        let fine = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(throws: Never.self) { try JSON(parsing: fine) }
    }

    @Test("tells integers from other numbers")
    func numbers() throws {
        #expect(try JSON(parsing: "42") == .int(42))
        #expect(try JSON(parsing: "4.0").intValue == 4)
        #expect(try JSON(parsing: "1e3") == .double(1000))
        #expect(try JSON(parsing: "0.25").doubleValue == 0.25)
        #expect(JSON.double(2).compactText == "2.0")
    }

    @Test("an integer of any length is kept exactly, and -0.0 keeps its sign", arguments: [
        "9223372036854775807", "9223372036854775808", "-9223372036854775809", "18446744073709551616",
        "123456789012345678901234567890", "-0.0", "[1e400]",
    ])
    func exactNumbers(text: String) throws {
        guard text != "[1e400]" else {
            #expect(throws: JSONParseError.self) { try JSON(parsing: text) }
            return
        }
        #expect(try JSON(parsing: text).compactText == text)
        #expect(try JSON(parsing: "[\(text)]").compactText == "[\(text)]")
    }
}
