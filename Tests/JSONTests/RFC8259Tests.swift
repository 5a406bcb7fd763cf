import JSON
import Testing

/// The parser against RFC 8259: what it must accept, what it must refuse, and random input that
/// must never crash it.
@Suite("JSON and RFC 8259")
struct RFC8259Tests {
    static let accepted: [String] = [
        "{}", "[]", #""""#, "0", "-0", "12", "-12", "1.5", "1.5e10", "-1E-2", "1e+2", "0.0",
        "true", "false", "null", " \t\r\n[ 1 , 2 ]\n ", #""\u00e9""#, #""\ud83d\ude00""#, #""\/\b\f\n\r\t\\\"""#,
        #"{"a":{"b":[1,{"c":null}]}}"#, #"{"":0}"#, #"{"a":1,"a":2}"#, "[[[[[[[[[[1]]]]]]]]]]",
        #""\udcff""#,  // a lone surrogate is grammatical; it reads as U+FFFD
        "123456789012345678901234567890",
    ]

    static let refused: [String] = [
        "", " ", "{", "}", "[", "[1,]", "[,1]", #"{"a":1,}"#, #"{"a" 1}"#, "{a:1}", "{'a':1}", "[1 2]",
        "01", "-01", "1.", ".5", "+1", "-", "1e", "1e+", "--1", "0x10", "NaN", "Infinity", "-Infinity",
        "'a'", #""a"#, #""\x""#, #""\u12""#, #""\u12g4""#, "\"a\tb\"", "\"a\nb\"", "nul", "tru", "True", "null x",
        "{} {}", "[1]]", #"{"a":}"#, #"{:1}"#, "\u{FEFF}{}",
        "1e400",  // RFC 8259 lets a parser limit the range of numbers: refused as out of range, never inf
    ]

    @Test("accepts what RFC 8259 allows", arguments: accepted)
    func accepts(_ text: String) {
        #expect(throws: Never.self) { try JSON(parsing: text) }
    }

    @Test("refuses what RFC 8259 does not, saying where", arguments: refused)
    func refuses(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSON(parsing: text) }
    }

    @Test("nesting is limited, not a stack overflow")
    func deepNesting() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSON(parsing: deep) }
    }

    /// A small fixed-seed generator, so that a failure can be run again.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test("50,000 random and mutated inputs never crash it; what it accepts prints and reads back the same")
    func randomInputs() throws {
        var random = SplitMix(state: 0x5EED)
        let seeds = Self.accepted.map { Array($0.utf8) }
        let alphabet = Array(#"{}[],:"\ -+.eE0123456789truefalsnu\/bfnrt"#.utf8) + [0, 0x1f, 0x7f, 0xc3, 0xa9, 0xff]
        for round in 0..<50_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0...48, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
            } else {
                bytes = seeds.randomElement(using: &random)!
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &random)
                    switch Int.random(in: 0..<3, using: &random) {
                    case 0 where !bytes.isEmpty: bytes.remove(at: position)
                    case 1: bytes.insert(alphabet.randomElement(using: &random)!, at: position)
                    default: if !bytes.isEmpty { bytes[position] = alphabet.randomElement(using: &random)! }
                    }
                }
            }
            guard let value = try? JSON(parsing: bytes) else { continue }
            #expect(try JSON(parsing: value.compactText) == value, "round \(round): \(bytes)")
        }
    }
}
