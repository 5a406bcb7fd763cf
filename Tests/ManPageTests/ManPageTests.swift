import Basics
import FlowspoolTestSupport
import POSIX
import Spool
import Testing

@Suite("man pages")
struct ManPageTests {
    static let pages = ["flowspoold.8", "flowspool-install.8", "flowspool-cluster.7", "flowspool.1", "flowspool-spool.5", "flowspool-tasks.7", "flowspool-flows.7", "respond.1", "flowspool-drop.8"]

    @Test("every page is there and lint-clean under mandoc -T lint -W warning", arguments: pages)
    func lint(page: String) throws {
        let path = TestEnvironment.manPage(page)
        #expect(FileSystem.exists(path), "\(path) is missing")
        let result = try runProgram("/usr/bin/mandoc", ["-T", "lint", "-W", "warning", path])
        #expect(result.exitCode == 0 && result.standardOutput.isEmpty && result.standardError.isEmpty,
                "mandoc: \(result.standardOutput)\(result.standardError)")
    }

    @Test("every page in man/ is one the test knows, so none goes unchecked; each is in its section's folder")
    func allPagesChecked() throws {
        let root = TestEnvironment.packageRoot + "/man"
        let sections = try FileSystem.listDirectory(root).filter { $0.first != "." }
        #expect(Set(sections) == ["man1", "man5", "man7", "man8"])
        let present = try sections.flatMap { section in
            try FileSystem.listDirectory(root + "/" + section).filter { $0.first != "." }.map { section + "/" + $0 }
        }
        #expect(Set(present) == Set(Self.pages.map { page in "man" + String(page.split(separator: ".").last ?? "") + "/" + page }))
    }

    @Test("man finds every page with MANPATH=$PWD/man")
    func manPathFindsThem() throws {
        for page in Self.pages {
            let name = String(page[..<page.lastIndex(of: ".")!]), section = String(page[page.index(after: page.lastIndex(of: ".")!)...])
            let result = try runProgram("/usr/bin/man", ["-w", section, name], environment: ["MANPATH": TestEnvironment.packageRoot + "/man"])
            #expect(result.standardOutput == TestEnvironment.manPage(page) + "\n", "\(page): \(result.standardError)")
        }
    }

    @Test("the programs' pages have one EXIT STATUS table, the codes of ProgramExit")
    func oneExitStatusTable() throws {
        let tables = try ["flowspool.1", "respond.1", "flowspoold.8"].map { page -> [Substring] in
            let lines = try #require(try FileSystem.readText(TestEnvironment.manPage(page))).split(separator: "\n")
            let section = lines.drop { $0 != ".Sh EXIT STATUS" }.dropFirst()
            return Array(section.prefix { !$0.hasPrefix(".Sh ") })
        }
        #expect(!tables[0].isEmpty && tables.allSatisfy { $0 == tables[0] })
        let codes = tables[0].filter { $0.hasPrefix(".It ") }.compactMap { Int32($0.dropFirst(4)) }
        #expect(codes == ProgramExit.all)
    }

    @Test("flowspool-tasks(7) has one subsection per built-in task type (Sources/Spool/task-types), in order, and no other")
    func oneSectionPerTaskType() throws {
        let lines = try #require(try FileSystem.readText(TestEnvironment.manPage("flowspool-tasks.7"))).split(separator: "\n")
        let description = lines.drop { $0 != ".Sh DESCRIPTION" }.dropFirst().prefix { !$0.hasPrefix(".Sh ") }
        #expect(description.filter { $0.hasPrefix(".Ss ") }.map { String($0.dropFirst(4)) } == TaskType.builtIn)
    }

    @Test("every difference from a reference client the differential suite allows is named in flowspool-tasks(7), under its task type")
    func differencesDocumented() throws {
        // The page as mandoc renders it, a paragraph to a line, so that a name wrapped over two
        // source lines is still found; overstrike (a character, a backspace) is taken out.
        let rendered = try runProgram("/usr/bin/mandoc", ["-T", "ascii", "-O", "width=1000", TestEnvironment.manPage("flowspool-tasks.7")]).standardOutput
        var plain: [Character] = []
        for character in rendered {
            if character == "\u{8}" { _ = plain.popLast() } else { plain.append(character) }
        }
        // Each task type's subsection: a line of three spaces and the type's name, up to the next.
        var sections: [String: String] = [:], current = ""
        for line in String(plain).split(separator: "\n") {
            if line.hasPrefix("   "), !line.hasPrefix("    "), line.dropFirst(3).allSatisfy(\.isUppercase) { current = String(line.dropFirst(3)) }
            sections[current, default: ""] += line.trimmingPrefix(while: { $0 == " " }) + "\n"
        }
        for difference in Differences.all {
            #expect(sections[difference.taskType]?.contains(difference.name) == true,
                    "flowspool-tasks(7) does not name the \(difference.taskType) difference '\(difference.name)' in its \(difference.taskType) section")
        }
    }
}
