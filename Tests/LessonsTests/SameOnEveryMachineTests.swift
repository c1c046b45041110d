import Foundation
import Kernels
@testable import Lessons
import XCTest

/// The toy lessons run every product on the portable kernels, whose every element is one fixed
/// chain of fused multiply–adds: the instruction set only decides how many elements run at once.
/// So the same seeded run on the scalar kernels (what any x86-64 CPU runs), on AVX2 and, where the
/// CPU has it, on AVX-512 must write the same bytes. OpenBLAS runs none of these products, so its
/// kernel set (and `OPENBLAS_CORETYPE`) cannot change them either.
final class SameOnEveryMachineTests: XCTestCase {
    private let sets = processorFeatures().portableInstructionSets

    override func tearDown() {
        setPortableInstructionSet(sets.last!)
    }

    /// Every file a run wrote, by path inside its folder (summary.json aside: it names the machine).
    private func written(_ folder: String) throws -> [String: Data] {
        let paths = try FileManager.default.subpathsOfDirectory(atPath: folder)
            .filter { !$0.hasSuffix("summary.json") && !$0.hasSuffix("index.html") }
        var files: [String: Data] = [:]
        for path in paths {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: "\(folder)/\(path)", isDirectory: &isFolder), !isFolder.boolValue {
                files[path] = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(path)"))
            }
        }
        return files
    }

    func testQuickLessonsWriteTheSameBytesOnEveryInstructionSet() throws {
        XCTAssertGreaterThan(sets.count, 1, "this CPU has no vector kernels to compare with the scalar ones")
        for lesson in 1...4 {
            var first: (set: PortableInstructionSet, files: [String: Data])?
            for set in sets.reversed() {
                setPortableInstructionSet(set)
                let out = temporaryFolder()
                try runLesson(lessonPath(lesson), out: out)
                let files = try written(out + String(format: "/lesson-%02d", lesson))
                XCTAssertNotNil(files["metrics.csv"])
                guard let first else {
                    first = (set, files)
                    continue
                }
                XCTAssertEqual(files.keys.sorted(), first.files.keys.sorted(), "lesson \(lesson)")
                for (path, data) in files where first.files[path] != data {
                    XCTFail("lesson \(lesson): \(path) differs between \(first.set.name) and \(set.name)")
                }
            }
        }
    }

    /// One full-length training stage (lesson 3's standardised curve, 5,000 steps) on the widest
    /// and the scalar kernels: every loss, D(x) and D(G(z)) the same.
    func testAFullTrainingStageIsTheSameOnEveryInstructionSet() throws {
        #if DEBUG
        throw XCTSkip("full-length training runs in release mode: swift test -c release")
        #else
        var metrics: [String] = []
        for set in [sets.last!, .scalar] {
            setPortableInstructionSet(set)
            let out = temporaryFolder()
            try runLesson(lessonPath(3), out: out, quick: false, stage: "standardized",
                          overrides: ["standardized.compare-with=none"])
            metrics.append(try String(contentsOfFile: out + "/lesson-03/metrics.csv", encoding: .utf8))
        }
        XCTAssertGreaterThan(metrics[0].split(separator: "\n").count, 5000)
        XCTAssertEqual(metrics[0], metrics[1])
        #endif
    }
}
