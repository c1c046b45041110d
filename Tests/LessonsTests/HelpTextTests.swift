import ArgumentParser
@testable import CLI
import XCTest

/// The exact help of each command, so a change to what a teacher reads is a deliberate one.
final class HelpTextTests: XCTestCase {
    private func help(_ command: ParsableCommand.Type) -> String {
        GanLab.helpMessage(for: command, columns: 80)
    }

    func testHelpOfRunLesson() {
        XCTAssertEqual(help(RunLesson.self), #"""
OVERVIEW: Walk through lesson N of Lessons/, or a lesson file given by its path.

USAGE: gan-lab lesson <lesson> [--out <folder>] [--seed <n>] [--threads <n>] [--quick] [--no-pause] [--format <format>] [--stage <stage>] [--set <setting> ...] [--resume <file>]

ARGUMENTS:
  <lesson>                A lesson number (see `gan-lab lessons`) or the path
                          of a lesson file.

OPTIONS:
  --out <folder>          Folder the run writes into (a lesson-NN folder
                          inside). (default: Output)
  --seed <n>              Seed of every random draw (default: the lesson's own).
  --threads <n>           Threads for matrix products and convolutions (the
                          numbers do not depend on it). (default: 2)
  --quick                 A few steps per stage: a smoke test that finishes in
                          seconds.
  --no-pause              Never wait for a key, even on a terminal.
  --format <format>       Figure format: png, svg or pdf. (default: png)
  --stage <stage>         Start at this stage (number or id).
  --set <setting>         Change a setting: key=value (every stage) or
                          stage.key=value.
  --resume <file>         Continue a stopped train-images stage from its
                          checkpoint (training.safetensors in its folder).
  -h, --help              Show help information.

"""#)
    }

    func testHelpOfRunFile() {
        XCTAssertEqual(help(RunFile.self), #"""
OVERVIEW: Run a lesson file from anywhere.

USAGE: gan-lab run <file> [--out <folder>] [--seed <n>] [--threads <n>] [--quick] [--no-pause] [--format <format>] [--stage <stage>] [--set <setting> ...] [--resume <file>]

ARGUMENTS:
  <file>                  Path of a lesson file (Markdown with ```stage blocks).

OPTIONS:
  --out <folder>          Folder the run writes into (a lesson-NN folder
                          inside). (default: Output)
  --seed <n>              Seed of every random draw (default: the lesson's own).
  --threads <n>           Threads for matrix products and convolutions (the
                          numbers do not depend on it). (default: 2)
  --quick                 A few steps per stage: a smoke test that finishes in
                          seconds.
  --no-pause              Never wait for a key, even on a terminal.
  --format <format>       Figure format: png, svg or pdf. (default: png)
  --stage <stage>         Start at this stage (number or id).
  --set <setting>         Change a setting: key=value (every stage) or
                          stage.key=value.
  --resume <file>         Continue a stopped train-images stage from its
                          checkpoint (training.safetensors in its folder).
  -h, --help              Show help information.

"""#)
    }

    func testHelpOfCheckLesson() {
        XCTAssertEqual(help(CheckLesson.self), #"""
OVERVIEW: Validate a lesson file without running it.

USAGE: gan-lab check <file>

ARGUMENTS:
  <file>                  Path of a lesson file.

OPTIONS:
  -h, --help              Show help information.

"""#)
    }

    func testHelpOfListLessons() {
        XCTAssertEqual(help(ListLessons.self), #"""
OVERVIEW: List the lessons.

USAGE: gan-lab lessons

OPTIONS:
  -h, --help              Show help information.

"""#)
    }

    func testHelpOfGallery() {
        XCTAssertEqual(help(Gallery.self), #"""
OVERVIEW: Render every chart kind from synthetic data, to see them all at once.

USAGE: gan-lab gallery [--out <out>] [--format <format>]

OPTIONS:
  --out <out>             Folder to write the figures into. (default:
                          Output/gallery)
  --format <format>       Figure format: png, svg or pdf. (default: png)
  -h, --help              Show help information.

"""#)
    }
}
