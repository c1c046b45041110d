import ArgumentParser
import Foundation
@testable import CLI
import Lessons
import XCTest

final class CommandLineTests: XCTestCase {
    func testLessonCommandParsesItsOptions() throws {
        let command = try XCTUnwrap(GanLab.parseAsRoot(["lesson", "3", "--quick", "--seed", "9", "--set", "fit.epochs=2",
                                                        "--out", "/tmp/x", "--format", "svg", "--no-pause"]) as? RunLesson)
        XCTAssertEqual(command.lesson, "3")
        XCTAssertEqual(command.number, 3)
        XCTAssertEqual(command.flags.seed, 9)
        XCTAssertEqual(command.flags.overrides, ["fit.epochs=2"])
        XCTAssertEqual(command.flags.format, "svg")
        XCTAssertTrue(command.flags.quick && command.flags.noPause)
    }

    func testBadOptionValuesAreRejected() {
        XCTAssertThrowsError(try GanLab.parseAsRoot(["lesson", "1", "--format", "gif"]))
        XCTAssertThrowsError(try GanLab.parseAsRoot(["lesson", "1", "--seed", "-4"]))
    }

    /// `gan-lab lesson` takes a lesson number or the path of a lesson file, and says which it wanted.
    func testLessonCommandTakesAPath() throws {
        let command = try XCTUnwrap(GanLab.parseAsRoot(["lesson", "Lessons/examples/dcgan-models.md", "--quick"]) as? RunLesson)
        XCTAssertEqual(command.lesson, "Lessons/examples/dcgan-models.md")
        XCTAssertNil(command.number)
        let folder = NSTemporaryDirectory()
        for (argument, message) in [
            ("one", "one: no such lesson file; give a lesson number (see `gan-lab lessons`) or the path of a lesson file"),
            (folder, "\(folder) is a folder; give the path of a lesson file (a .md file in it)"),
        ] {
            let command = try XCTUnwrap(GanLab.parseAsRoot(["lesson", argument, "--no-pause"]) as? RunLesson)
            XCTAssertThrowsError(try command.run()) { error in
                XCTAssertEqual((error as? LessonError)?.problems, [message])
            }
        }
    }
}
