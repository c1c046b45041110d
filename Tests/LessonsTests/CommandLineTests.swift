import ArgumentParser
@testable import CLI
import XCTest

final class CommandLineTests: XCTestCase {
    func testLessonCommandParsesItsOptions() throws {
        let command = try XCTUnwrap(GanLab.parseAsRoot(["lesson", "3", "--quick", "--seed", "9", "--set", "fit.epochs=2",
                                                        "--out", "/tmp/x", "--format", "svg", "--no-pause"]) as? RunLesson)
        XCTAssertEqual(command.number, 3)
        XCTAssertEqual(command.flags.seed, 9)
        XCTAssertEqual(command.flags.overrides, ["fit.epochs=2"])
        XCTAssertEqual(command.flags.format, "svg")
        XCTAssertTrue(command.flags.quick && command.flags.noPause)
    }

    func testBadOptionValuesAreRejected() {
        XCTAssertThrowsError(try GanLab.parseAsRoot(["lesson", "1", "--format", "gif"]))
        XCTAssertThrowsError(try GanLab.parseAsRoot(["lesson", "one"]))
        XCTAssertThrowsError(try GanLab.parseAsRoot(["lesson", "1", "--seed", "-4"]))
    }
}
