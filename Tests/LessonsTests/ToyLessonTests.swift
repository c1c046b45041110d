import Data
import Foundation
import Kernels
@testable import Lessons
import XCTest

/// Lessons 2 and 3: their figures, their printed numbers, and their claims on seeded full runs.
final class ToyLessonTests: XCTestCase {
    func testQuickRunsWriteTheViews() throws {
        let out = temporaryFolder()
        let (two, _) = try runLesson(lessonPath(2), out: out)
        let names = Set(two.figures.map { ($0 as NSString).lastPathComponent })
        for name in ["data.png", "layers-epoch-0002.png", "layers.gif", "manifold-epoch-0002.png", "divergence.png", "filmstrip.png"] {
            XCTAssertTrue(names.contains(name), name)
        }
        let (three, printed) = try runLesson(lessonPath(3), out: out)
        let threeNames = Set(three.figures.map { ($0 as NSString).lastPathComponent })
        for name in ["features-g-epoch-0002.png", "features-d-epoch-0002.png", "features-sequence.png", "losses.png",
                     "filmstrip.png", "comparison.png"] {
            XCTAssertTrue(threeNames.contains(name), name)
        }
        // A generator update leaves the real features where they were (D did not change).
        let generatorLines = printed.split(separator: "\n").filter { $0.contains("one generator update: real centroid") }
        XCTAssertFalse(generatorLines.isEmpty)
        for line in generatorLines {
            let real = line.components(separatedBy: "real centroid ")[1].components(separatedBy: " · ")[0].components(separatedBy: " → ")
            XCTAssertEqual(real[0], real[1], String(line))
        }
    }

    /// Views draw from their own generator and record no gradients into training.
    func testViewsDoNotChangeTrainingNumbers() throws {
        let withViews = temporaryFolder(), without = temporaryFolder()
        try runLesson(lessonPath(1), out: withViews, stage: "works")
        try runLesson(lessonPath(1), out: without, stage: "works", overrides: ["views=samples"])
        let read = { (root: String) in try Data(contentsOf: URL(fileURLWithPath: "\(root)/lesson-01/metrics.csv")) }
        XCTAssertEqual(try read(withViews), try read(without))
    }

    func testSummaryHoldsThePrintedOutcomes() throws {
        let out = temporaryFolder()
        let (result, printed) = try runLesson(lessonPath(2), out: out, stage: "gan-lab")
        let metrics = try XCTUnwrap(result.metrics["gan-lab"])
        XCTAssertTrue(printed.contains("\(fixed(100 * metrics["inside_fraction"]!, 1)) % lie inside the unit disk"))
        XCTAssertTrue(printed.contains("JS \(fixed(metrics["js_bits"]!, 3)) bits (two real samples: \(fixed(metrics["js_floor_bits"]!, 3)))"))
        let (three, printedThree) = try runLesson(lessonPath(3), out: out, stage: "standardized")
        let curve = try XCTUnwrap(three.metrics["standardized"])
        XCTAssertTrue(printedThree.contains("median |y − (10 + x²)| = \(fixed(curve["median_curve_error"]!, 1))"))
        let fraction = try XCTUnwrap(curve["generator_updates_closer_fraction"])
        XCTAssertTrue(printedThree.contains("(\(fixed(100 * fraction, 1)) %)"))
    }

    /// The divergences printed at the end are the trained generator's, whether or not
    /// `divergence-every` falls on the last step (a quick run's few steps are no multiple of it).
    func testEndDivergenceIsTheLastSteps() throws {
        let rare = try runLesson(lessonPath(2), out: temporaryFolder(), stage: "gan-lab", overrides: ["divergence-every=1000000"])
        let everyStep = try runLesson(lessonPath(2), out: temporaryFolder(), stage: "gan-lab", overrides: ["divergence-every=1"])
        let (atEnd, measuredAlong) = (try XCTUnwrap(rare.result.metrics["gan-lab"]), try XCTUnwrap(everyStep.result.metrics["gan-lab"]))
        XCTAssertEqual(atEnd["js_bits"], measuredAlong["js_bits"])
        XCTAssertEqual(atEnd["kl_bits"], measuredAlong["kl_bits"])
    }

    /// Lesson 2's claims on the full seeded run (seed 1: the same numbers on every machine), and
    /// as a rate over seeds 1–4 (the prose's 1–6 take a minute more).
    func testUnitDiskIsFilled() throws {
        #if DEBUG
        throw XCTSkip("full-length training runs in release mode: swift test -c release")
        #else
        let sweep = try Sweep(lesson: Lesson(path: lessonPath(2)), stage: "gan-lab", seeds: [1, 2, 3, 4])
        let runs = try sweep.run(outputRoot: temporaryFolder(), quick: false, threads: RunOptions().threads) { _ in }
        let metrics = runs[0].metrics  // the lesson's own seed, as `gan-lab lesson 2` runs it
        XCTAssertEqual(try Lesson(path: lessonPath(2)).seed, 1)
        // Measured on seed 1 from the averaged generator (average-generator 0.995): 100 % inside,
        // 24 of 24 polar cells hold at least a quarter of their share; JS 0.111 bits against a
        // floor of 0.012; the last step's generator 0.22 off-centre in y.
        XCTAssertEqual(metrics["inside_fraction"]!, 1)
        XCTAssertEqual(metrics["covered_cells"]!, 24)
        XCTAssertEqual(metrics["js_bits"]!, 0.1, accuracy: 0.02)  // "near 0.1 bits"
        XCTAssertEqual(metrics["last_step_mean_y"]!, -0.2, accuracy: 0.03)
        for run in runs {
            XCTAssertGreaterThanOrEqual(run.metrics["inside_fraction"]!, 0.95, "seed \(run.seed)")
            XCTAssertGreaterThanOrEqual(run.metrics["occupied_cells"]!, 20, "seed \(run.seed)")
            XCTAssertLessThan(run.metrics["js_bits"]!, 0.35, "seed \(run.seed)")
        }
        XCTAssertGreaterThanOrEqual(runs.filter { $0.metrics["js_bits"]! < 0.25 }.count, 3)  // "five seeds of six"
        #endif
    }

    /// Lesson 3's claims on the full seeded run: the fakes follow the curve on both arms, the
    /// standardised variant gets closer than the raw one, and generator updates mostly bring the
    /// centroids together.
    func testQuadraticIsLearned() throws {
        #if DEBUG
        throw XCTSkip("full-length training runs in release mode: swift test -c release")
        #else
        let metrics = try runLesson(lessonPath(3), out: temporaryFolder(), quick: false, stage: "as-written").result.metrics
        let raw = metrics["as-written"]!, standardized = metrics["standardized"]!
        // Measured on seed 3 (the same on every machine): 9.1 standardised, 61.8 raw (the data's y spans 2,500).
        XCTAssertLessThan(standardized["median_curve_error"]!, 15)
        XCTAssertLessThan(raw["median_curve_error"]!, 100)
        XCTAssertLessThan(standardized["median_curve_error"]!, raw["median_curve_error"]!)
        for stage in [raw, standardized] {
            XCTAssertGreaterThan(stage["left_fraction"]!, 0.25)
            XCTAssertGreaterThan(stage["right_fraction"]!, 0.25)
            XCTAssertGreaterThan(stage["generator_updates_closer_fraction"]!, 0.5)
        }
        // Measured: 64.3 % of 5,000 observed generator updates (raw), 53.4 % (standardised, converged early).
        XCTAssertGreaterThan(raw["generator_updates_closer_fraction"]!, 0.58)
        #endif
    }
}

/// Step mode: a session can take a single update of either network and re-render its views.
final class SingleUpdateTests: XCTestCase {
    func session(lesson number: Int, stage id: String, out: String, overrides: [String] = []) throws -> TrainingSession {
        let lesson = try Lesson(path: lessonPath(number), overrides: overrides)
        let plan = try XCTUnwrap(lesson.stages.first { $0.id == id })
        let context = StageContext(plan: plan, folder: try OutputFolder(outputRoot: out, lessonNumber: number),
                                   console: Console(write: { _ in }), quick: true, format: .png,
                                   random: RandomSource(seed: 5))
        return try TrainingSession(context: context)
    }

    /// With `standardize: yes` the discriminator trains on real batches in the networks' units under
    /// every schedule, in full rounds and in single updates (the quadratic curve's y reaches 2,510).
    func testStandardizedStagesFeedDStandardizedRealBatches() throws {
        for update in ["alternating", "phases", "joint", "shared-fakes"] {
            let session = try session(lesson: 3, stage: "standardized", out: temporaryFolder(),
                                      overrides: ["standardized.update=\(update)", "standardized.discriminator-steps=1"])
            var batches: [Tensor] = []
            session.loop.observe = { _, real, _, update in
                batches.append(real)
                update()
            }
            try session.loop.step(.both)
            try session.loop.step(.discriminator)
            XCTAssertGreaterThanOrEqual(batches.count, update == "alternating" || update == "phases" ? 3 : 1, update)
            for batch in batches {
                let statistics = columnStatistics(batch)
                for column in 0..<2 {
                    XCTAssertEqual(statistics.means[column], 0, accuracy: 0.3, update)
                    XCTAssertEqual(statistics.stds[column], 1, accuracy: 0.3, update)
                }
            }
        }
    }

    func testOneGeneratorUpdateMovesOnlyTheFakeFeatures() throws {
        let out = temporaryFolder()
        let session = try session(lesson: 3, stage: "standardized", out: out)
        try session.loop.step(.generator)
        let generatorPair = try XCTUnwrap(session.views.lastPairs[.generator])
        XCTAssertEqual(generatorPair.before.realXs, generatorPair.after.realXs)
        XCTAssertEqual(generatorPair.before.realYs, generatorPair.after.realYs)
        XCTAssertNotEqual(generatorPair.before.fakeXs, generatorPair.after.fakeXs)
        try session.loop.step(.discriminator)
        let discriminatorPair = try XCTUnwrap(session.views.lastPairs[.discriminator])
        XCTAssertNotEqual(discriminatorPair.before.realXs, discriminatorPair.after.realXs)
        XCTAssertEqual(session.step, 2)
        XCTAssertEqual(session.rows.count, 2)
        try session.snapshot(label: "step-0002", title: "After one update of each network")
        let names = session.figures.map { ($0 as NSString).lastPathComponent }
        XCTAssertEqual(Set(names), ["features-d-step-0002.png", "features-g-step-0002.png"])
    }

    func testSingleUpdatesRedrawTheLayeredView() throws {
        let session = try session(lesson: 2, stage: "gan-lab", out: temporaryFolder())
        try session.snapshot(label: "step-0000", title: "Start")
        try session.loop.step(.discriminator)
        try session.snapshot(label: "step-0001", title: "After one discriminator update")
        try session.loop.step(.generator)
        try session.snapshot(label: "step-0002", title: "After one generator update")
        let names = session.figures.map { ($0 as NSString).lastPathComponent }
        for label in ["step-0000", "step-0001", "step-0002"] {
            XCTAssertTrue(names.contains("layers-\(label).png"), label)
            XCTAssertTrue(names.contains("manifold-\(label).png"), label)
        }
    }
}
