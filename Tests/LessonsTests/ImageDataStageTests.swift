import Foundation
@testable import Lessons
import XCTest

final class ImageDataStageTests: XCTestCase {
    private func lessonFile(_ stage: String, in folder: String) -> String {
        let path = folder + "/images.md"
        let text = "---\nlesson: 51\ntitle: Images\nsummary: Image data.\n---\nIntro.\n\n## Look\n\n```stage\nid: look\nkind: data\n\(stage)\n```\n\nDone.\n"
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    /// A CSV of 2×2 images with labels: a grid with one row per class and the class counts.
    func testImagesFromAFileShowOneRowPerClassAndTheCounts() throws {
        let folder = temporaryFolder()
        _ = FileManager.default.createFile(atPath: folder + "/tiny.csv", contents: Data("0,255,255,0,1\n255,0,0,255,2\n0,0,0,0,1\n".utf8))
        let (result, printed) = try runLesson(lessonFile("data: images\ndata-file: \(folder)/tiny.csv\nsamples-per-class: 2", in: folder),
                                              out: folder, quick: false)
        let metrics = try XCTUnwrap(result.metrics["look"])
        XCTAssertEqual(metrics["images"], 3)
        XCTAssertEqual(metrics["classes"], 2)
        XCTAssertEqual(metrics["pixel_mean"]!, (4 * 255 / 127.5 - 12) / 12, accuracy: 1e-9)
        XCTAssertEqual(metrics["black_fraction"]!, 8.0 / 12, accuracy: 1e-9)
        XCTAssertTrue(printed.contains("3 images of 2×2 pixels, grey"), printed)
        XCTAssertTrue(printed.contains("2 classes: 1 2 · 2 1"), printed)
        for figure in ["stage-1/samples.png", "stage-1/classes.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/lesson-51/" + figure), figure)
        }
    }

    func testMissingOrBadDataFilesAreOneLineErrors() throws {
        let folder = temporaryFolder()
        XCTAssertThrowsError(try runLesson(lessonFile("data: images\ndata-file: \(folder)/nope.idx", in: folder), out: folder)) { error in
            XCTAssertEqual((error as? LessonError)?.problems, ["data-file \(folder)/nope.idx: no such file or folder"])
        }
        _ = FileManager.default.createFile(atPath: folder + "/bad.csv", contents: Data("1,2,3\n".utf8))
        XCTAssertThrowsError(try runLesson(lessonFile("data: images\ndata-file: \(folder)/bad.csv", in: folder), out: folder)) { error in
            XCTAssertTrue("\(error)".contains("bad.csv:1: 3 values"), "\(error)")
        }
        XCTAssertThrowsError(try Lesson(path: lessonFile("data: images", in: folder))) { error in
            XCTAssertTrue("\(error)".contains("data: images needs data-file"), "\(error)")
        }
    }

    func testTrainingStagesOnPointsRejectImageSets() throws {
        XCTAssertThrowsError(try Lesson(path: lessonPath(1), overrides: ["works.data=mnist"])) { error in
            XCTAssertTrue("\(error)".contains("data: mnist is an image set; this stage trains on 2-D points"), "\(error)")
        }
    }

    /// The lab's own shapes need nothing installed: 5,000 colour images of 64×64, ten named classes.
    func testShapesStageShowsTheClassesByName() throws {
        let folder = temporaryFolder()
        let (result, printed) = try runLesson(lessonFile("data: shapes\nsamples-per-class: 8", in: folder), out: folder)
        let metrics = try XCTUnwrap(result.metrics["look"])
        XCTAssertEqual(metrics["images"], 5000)
        XCTAssertEqual(metrics["channels"], 3)
        XCTAssertEqual(metrics["height"], 64)
        XCTAssertEqual(metrics["classes"], 10)
        XCTAssertTrue(printed.contains("5,000 images of 64×64 pixels, colour (RGB)"), printed)
        XCTAssertTrue(printed.contains("circle 500 · square 500"), printed)
        XCTAssertTrue(printed.contains("crescent 500"), printed)
        for figure in ["stage-1/samples.png", "stage-1/classes.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/lesson-51/" + figure), figure)
        }
    }

    /// The installed sets, where scripts/setup.sh has put them.
    func testMNISTAndFashionMNISTStages() throws {
        guard FileManager.default.fileExists(atPath: ImageDataView.dataFolder + "/mnist_5k.csv.gz"),
              FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist") else {
            throw XCTSkip("run scripts/setup.sh first: it fetches the MNIST digits and installs Fashion-MNIST")
        }
        let folder = temporaryFolder()
        let digits = try runLesson(lessonFile("data: mnist", in: folder), out: folder).result.metrics["look"]!
        XCTAssertEqual(digits["images"], 5000)
        XCTAssertEqual(digits["classes"], 10)
        let (fashion, printed) = try runLesson(lessonFile("data: fashion-mnist", in: folder), out: folder)
        XCTAssertEqual(fashion.metrics["look"]?["images"], 60000)
        XCTAssertTrue(printed.contains("T-shirt/top 6,000"), printed)
    }
}
