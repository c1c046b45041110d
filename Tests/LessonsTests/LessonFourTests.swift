import Data
import Foundation
import GAN
import Kernels
@testable import Lessons
import XCTest

/// Runs one stage of a lesson on its own, with the seed, threads and product kernels a lesson run
/// gives it (so that the test does not inherit whatever an earlier test left).
func runStageAlone(_ lessonNumber: Int, _ id: String, quick: Bool = false, threads: Int = RunOptions().threads,
                   overrides: [String] = []) throws
    -> (outcome: StageOutcome, printed: String) {
    let lesson = try Lesson(path: lessonPath(lessonNumber), overrides: overrides)
    let plan = try XCTUnwrap(lesson.stages.first { $0.id == id })
    setMatrixThreads(threads)
    defer { resetMatrixThreads() }
    var printed = ""
    let context = StageContext(plan: plan, folder: try OutputFolder(outputRoot: temporaryFolder(), lessonNumber: lessonNumber),
                               console: Console(write: { printed += $0 }), quick: quick, format: .png,
                               random: RandomSource(seed: stageSeed(lesson.seed, plan.number)), threads: threads)
    let outcome = try plan.run(context)
    return (outcome, printed)
}

final class LessonFourTests: XCTestCase {
    func testQuickRunWritesEveryFigureAndPrintsTheSummaryNumbers() throws {
        let out = temporaryFolder()
        let (result, printed) = try runLesson(lessonPath(4), out: out)
        let folder = out + "/lesson-04"
        for figure in ["stage-1/mixtures.png", "stage-2/filmstrip.png", "stage-2/modes-over-time.png", "stage-2/modes-final.png",
                       "stage-3/filmstrip.png", "stage-4/scoreboard.png", "stage-4/samples-ring.png", "stage-4/modes-ring.png",
                       "stage-4/samples-grid.png", "stage-4/modes-grid.png", "stage-5/critic-surfaces.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(folder)/\(figure)"), figure)
        }
        XCTAssertTrue(printed.contains("QUICK MODE: 1 seed and at most 40 steps per run"))
        let collapse = try XCTUnwrap(result.metrics["collapse"])
        XCTAssertTrue(printed.contains("\(Int(collapse["modes_captured"]!))/8 modes captured, \(fixed(collapse["high_quality_percent"]!, 1)) % high quality"))
        let scoreboard = try XCTUnwrap(result.metrics["scoreboard"])
        XCTAssertEqual(scoreboard["seeds"], 1)
        XCTAssertNotNil(scoreboard["grid_combined_quality_mean"])
        XCTAssertNotNil(scoreboard["ring_vanilla_16_modes_mean"])
        let mixtures = try XCTUnwrap(result.metrics["mixtures"])
        XCTAssertEqual(mixtures["ring_modes_captured"], 8)
        XCTAssertEqual(mixtures["grid_modes_captured"], 25)
        for key in ["ring", "ring_picture", "grid"] {
            XCTAssertEqual(mixtures[key + "_high_quality_percent"]!, 98.9, accuracy: 0.7, key)
        }
        XCTAssertTrue(printed.contains("8/8 captured, \(fixed(mixtures["ring_high_quality_percent"]!, 1)) % high quality"))
    }

    /// The scoreboard's runs share the run's threads; the table must not depend on how many.
    func testScoreboardNumbersDoNotDependOnThreads() throws {
        let overrides = ["scoreboard.methods=vanilla, combined", "scoreboard.seeds=3", "scoreboard.steps=60", "scoreboard.grid-steps=60",
                         "scoreboard.combined-steps=0", "scoreboard.combined-grid-steps=0"]
        let (one, printedOne) = try runStageAlone(4, "scoreboard", threads: 1, overrides: overrides)
        let (two, printedTwo) = try runStageAlone(4, "scoreboard", threads: 2, overrides: overrides)
        let measured = { (outcome: StageOutcome) in outcome.metrics.filter { !$0.key.contains("seconds") } }
        XCTAssertEqual(measured(one), measured(two))
        XCTAssertEqual(measured(one).count, 2 * 2 * 10 + 1)
        XCTAssertTrue(printedOne.contains("12 runs in") && printedOne.contains("on 1 thread\n"), printedOne)
        XCTAssertTrue(printedTwo.contains("on 2 threads"), printedTwo)
        // Each method's line lists its seeds in seed order, whichever run finished first.
        let rows = { (printed: String) in
            printed.split(separator: "\n").filter { ($0.contains(" modes ") && $0.contains("s/run")) || $0.contains("collapsed in") }
                .map { $0.components(separatedBy: "(")[0] }
        }
        XCTAssertEqual(rows(printedOne), rows(printedTwo))
        XCTAssertEqual(rows(printedOne).count, 8)
    }

    /// Ctrl-C stops the scoreboard's runs at their next step (on every thread) and the stage says so.
    func testCtrlCStopsTheScoreboardRuns() throws {
        Interruption.requested = true
        defer { Interruption.requested = false }
        let started = Date()
        XCTAssertThrowsError(try runStageAlone(4, "scoreboard", overrides: ["scoreboard.seeds=2"])) { error in
            let interrupted = error as? TrainingInterrupted
            XCTAssertNotNil(interrupted, "\(error)")
            XCTAssertEqual(interrupted?.outcome.metrics["runs_completed"], 0)
        }
        XCTAssertThrowsError(try runStageAlone(4, "collapse")) { XCTAssertTrue($0 is TrainingInterrupted, "\($0)") }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "stopped at once, not after the runs")
    }

    func testSettingsThatCannotWorkTogetherAreRejected() throws {
        XCTAssertThrowsError(try Lesson(path: lessonPath(4), overrides: ["scoreboard.methods=vanilla, unrolled"])) { error in
            XCTAssertTrue("\(error)".contains("unknown method \"unrolled\""), "\(error)")
        }
        XCTAssertThrowsError(try Lesson(path: lessonPath(4), overrides: ["collapse.loss=wgan-gp", "collapse.minibatch-kernels=4"])) { error in
            XCTAssertTrue("\(error)".contains("minibatch discrimination cannot be combined with wgan-gp"), "\(error)")
        }
        XCTAssertNoThrow(try Lesson(path: lessonPath(4), overrides: ["collapse.loss=wgan", "collapse.discriminator-steps=5", "collapse.pack=2"]))
    }

    func testRecipesAreSettingsOfTheSameLab() throws {
        XCTAssertEqual(CollapseRecipe.names.count, Set(CollapseRecipe.names).count)
        for recipe in CollapseRecipe.all {
            for key in recipe.overrides.keys { XCTAssertNotNil(CollapseStage.settings.first { $0.name == key }, "\(recipe.name): \(key)") }
        }
        XCTAssertEqual(standardError([1, 2, 3, 4]), (1.6667 / 4).squareRoot(), accuracy: 1e-4)
        XCTAssertEqual(standardError([7]), 0)
        XCTAssertEqual(meanAndError([8, 8, 7, 8, 8], 1), "7.8 ± 0.2")
        for recipe in CollapseRecipe.all { XCTAssertLessThan(recipe.label.count, ScoreboardStage.labelWidth, recipe.label) }
    }

    func testOnlyTheCombinedRecipeHasItsOwnBudgetAndCollapseIsStated() throws {
        let plan = try XCTUnwrap(Lesson(path: lessonPath(4)).stages.first { $0.id == "scoreboard" })
        let settings = plan.settings
        let combined = try XCTUnwrap(CollapseRecipe.named("combined")), vanilla = try XCTUnwrap(CollapseRecipe.named("vanilla"))
        XCTAssertEqual(ScoreboardStage.steps(settings, recipe: combined, mixture: "ring"), 3000)  // 0: as every method
        XCTAssertEqual(ScoreboardStage.steps(settings, recipe: combined, mixture: "grid"), 12000)
        XCTAssertEqual(ScoreboardStage.steps(settings, recipe: vanilla, mixture: "grid"), 6000)
        XCTAssertTrue(ScoreboardStage.collapsed(modes: 7, divergence: 0, modeCount: 8, threshold: 0.1))
        XCTAssertTrue(ScoreboardStage.collapsed(modes: 8, divergence: 0.1, modeCount: 8, threshold: 0.1))
        XCTAssertTrue(ScoreboardStage.collapsed(modes: 0, divergence: .infinity, modeCount: 8, threshold: 0.1))
        XCTAssertFalse(ScoreboardStage.collapsed(modes: 8, divergence: 0.09, modeCount: 8, threshold: 0.1))
        // The lesson's sense of scale for the threshold: four ring modes with three times the share
        // of the other four give 0.13; 2,500 samples of the true mixture stay below 0.01.
        let ring = GaussianMixture.ring(std: 0.01)
        let lopsided = ring.means.enumerated().flatMap { index, mode in
            Array(repeating: [Float(mode.x), Float(mode.y)], count: index < 4 ? 3 : 1).flatMap { $0 }
        }
        let crowded = ModeCoverage(samples: Tensor(shape: [16, 2], scalars: lopsided), means: ring.means, std: ring.std)
        XCTAssertEqual(crowded.reverseKL, 0.13, accuracy: 0.005)
        var random = RandomSource(seed: 4)
        for mixture in [ring, GaussianMixture.grid(std: 0.05)] {
            for _ in 0..<3 {
                let ideal = ModeCoverage(samples: mixture.sample(count: 2500, using: &random), means: mixture.means, std: mixture.std)
                XCTAssertLessThan(ideal.reverseKL, 0.01)
            }
        }
    }

    /// The lesson's claims on its own seed (release builds only: debug is ~50× slower). The toy
    /// lessons' numbers are the same on every machine (portable products), so these hold anywhere;
    /// the bounds leave room only for the rounding of the numbers the lesson prints.
    func testCollapseHopsAndPackingCoversEveryMode() throws {
        #if DEBUG
        throw XCTSkip("full-length training runs in release mode: swift test -c release")
        #else
        let (collapse, printed) = try runStageAlone(4, "collapse")
        let metrics = collapse.metrics
        XCTAssertEqual(metrics["min_modes_captured"], 1)        // on one mode at a time early on
        XCTAssertGreaterThanOrEqual(metrics["distinct_occupied_modes"]!, 3)  // and hopping between modes
        XCTAssertEqual(metrics["modes_captured"], 8)
        XCTAssertEqual(metrics["reverse_kl"]!, 0.66, accuracy: 0.01)  // "four hold nearly every sample"
        XCTAssertEqual(metrics["collapsed"], 1)
        XCTAssertTrue(printed.contains("8/8 modes captured, \(fixed(metrics["high_quality_percent"]!, 1)) % high quality"))
        let packed = try runStageAlone(4, "packed").outcome.metrics
        XCTAssertEqual(packed["modes_captured"], 8)
        XCTAssertEqual(packed["reverse_kl"]!, 0.3, accuracy: 0.02)
        XCTAssertLessThan(packed["reverse_kl"]!, metrics["reverse_kl"]!)
        XCTAssertLessThan(packed["high_quality_percent"]!, metrics["high_quality_percent"]!)
        #endif
    }

    /// The lesson's claim about chance, as a rate: the collapse stage's GAN ends collapsed in most
    /// seeds (8 of seeds 1–10, the prose says; a margin of one seed here).
    func testVanillaCollapsesOnTheRingInMostSeeds() throws {
        #if DEBUG
        throw XCTSkip("full-length training runs in release mode: swift test -c release")
        #else
        let sweep = try Sweep(lesson: Lesson(path: lessonPath(4)), stage: "collapse", seeds: Array(1...10))
        let runs = try sweep.run(outputRoot: temporaryFolder(), quick: false, threads: RunOptions().threads) { _ in }
        let collapsed = runs.filter { $0.metrics["collapsed"] == 1 }.count
        XCTAssertGreaterThanOrEqual(collapsed, 7, "collapsed in \(collapsed) of 10")
        XCTAssertGreaterThanOrEqual(runs.filter { $0.metrics["modes_captured"] == 0 }.count, 1)
        // The scoreboard's first two rows on the ring (the grid runs cut to one step).
        let (outcome, printed) = try runStageAlone(4, "scoreboard", overrides: ["scoreboard.methods=vanilla-16, vanilla", "scoreboard.grid-steps=1"])
        XCTAssertTrue(printed.contains("collapsed: fewer modes captured than there are, or reverse KL of the mode histogram ≥ 0.1"))
        XCTAssertGreaterThanOrEqual(outcome.metrics["ring_vanilla_16_collapsed_seeds"]!, 3)  // 4 of 5, the prose says
        XCTAssertLessThanOrEqual(outcome.metrics["ring_vanilla_collapsed_seeds"]!, 1)       // 0 of 5: even cover
        XCTAssertTrue(printed.contains(": collapsed in \(Int(outcome.metrics["ring_vanilla_16_collapsed_seeds"]!)) of 5"))
        #endif
    }

    /// The best recipe's first seed, the same runs as in the 5-seed table.
    func testBestRecipeCapturesEveryModeAboveNinetyPercent() throws {
        #if DEBUG
        throw XCTSkip("full-length training runs in release mode: swift test -c release")
        #else
        let (outcome, printed) = try runStageAlone(4, "scoreboard", overrides: ["scoreboard.methods=combined", "scoreboard.seeds=1"])
        XCTAssertTrue(printed.contains("PacGAN2, 3 D steps, G 4×128, batch 128 has its own budget: ring 3,000 steps, grid 12,000 steps"))
        let metrics = outcome.metrics
        XCTAssertEqual(metrics["ring_combined_modes_min"], 8)
        XCTAssertEqual(metrics["grid_combined_modes_min"], 25)
        XCTAssertGreaterThan(metrics["ring_combined_quality_min"]!, 90)
        XCTAssertGreaterThan(metrics["grid_combined_quality_min"]!, 90)
        XCTAssertEqual(metrics["ring_combined_collapsed_seeds"], 0)
        XCTAssertEqual(metrics["grid_combined_collapsed_seeds"], 0)
        for mixture in ["ring", "grid"] {
            let quality = fixed(metrics["\(mixture)_combined_quality_mean"]!, 0)
            XCTAssertTrue(printed.contains("\(mixture) PacGAN2, 3 D steps, G 4×128, batch 128   modes \(mixture == "ring" ? 8 : 25)  high quality \(quality) %"), mixture)
        }
        #endif
    }

    /// Every claim the scoreboard's prose makes, on the lesson's full scoreboard (all methods,
    /// 5 seeds: 5 to 12 minutes, so only on request:
    /// `GAN_LAB_FULL_SCOREBOARD=1 swift test -c release --filter LessonFourTests`). The lesson's
    /// seeds give these numbers on every machine; counts of collapsed seeds keep a margin of one.
    func testEveryClaimOfTheFullScoreboard() throws {
        #if DEBUG
        throw XCTSkip("full-length training runs in release mode: swift test -c release")
        #else
        guard ProcessInfo.processInfo.environment["GAN_LAB_FULL_SCOREBOARD"] == "1" else {
            throw XCTSkip("the full scoreboard takes minutes: set GAN_LAB_FULL_SCOREBOARD=1")
        }
        let (outcome, printed) = try runStageAlone(4, "scoreboard")
        let metrics = outcome.metrics
        XCTAssertEqual(metrics["seeds"], 5)
        XCTAssertGreaterThanOrEqual(metrics["ring_vanilla_16_collapsed_seeds"]!, 3)
        XCTAssertLessThanOrEqual(metrics["ring_vanilla_collapsed_seeds"]!, 1)
        for method in ["label_smoothing", "noisy_labels", "d_steps", "wgan_gp", "pacgan4", "combined"] {
            XCTAssertEqual(metrics["ring_\(method)_modes_min"], 8, method)  // all 8 ring modes in every seed
        }
        for method in ["vanilla_16", "vanilla", "label_smoothing", "noisy_labels", "d_steps", "minibatch", "wgan", "wgan_gp", "pacgan4"] {
            XCTAssertGreaterThanOrEqual(metrics["grid_\(method)_collapsed_seeds"]!, 4, method)
        }
        XCTAssertEqual(metrics["grid_combined_collapsed_seeds"], 0)
        XCTAssertEqual(metrics["grid_d_steps_modes_mean"]!, 19.2, accuracy: 0.05)
        XCTAssertEqual(metrics["grid_d_steps_quality_mean"]!, 77, accuracy: 0.5)
        XCTAssertEqual(metrics["grid_pacgan4_modes_mean"]!, 23.4, accuracy: 0.05)
        XCTAssertEqual(metrics["grid_pacgan4_quality_mean"]!, 20.5, accuracy: 0.5)  // "20 %"
        XCTAssertEqual(metrics["grid_wgan_gp_modes_mean"]!, 24.6, accuracy: 0.05)
        XCTAssertEqual(metrics["grid_wgan_gp_quality_mean"]!, 23, accuracy: 0.5)
        XCTAssertLessThan(metrics["ring_wgan_quality_mean"]!, 5)  // "barely moves"
        XCTAssertLessThan(metrics["grid_wgan_quality_mean"]!, 5)
        XCTAssertEqual(metrics["ring_combined_modes_min"], 8)
        XCTAssertEqual(metrics["grid_combined_modes_min"], 25)
        XCTAssertTrue(printed.contains("PacGAN2, 3 D steps, G 4×128, batch 128  8.0 ± 0.0    95.1 ± 0.6     0.02     25.0 ± 0.0   96.9 ± 0.3"))
        #endif
    }

    /// The deeper generator is no fix on its own: the vanilla GAN with it misses the ring.
    func testDeeperGeneratorAloneDoesNotCoverTheRing() throws {
        #if DEBUG
        throw XCTSkip("full-length training runs in release mode: swift test -c release")
        #else
        let (outcome, _) = try runStageAlone(4, "scoreboard", overrides: [
            "scoreboard.methods=vanilla", "scoreboard.generator=2 -> 128 relu -> 128 relu -> 128 relu -> 128 relu -> 2", "scoreboard.grid-steps=1"])
        XCTAssertLessThanOrEqual(outcome.metrics["ring_vanilla_modes_max"]!, 1)  // "at most one of the 8 modes in any seed"
        XCTAssertEqual(outcome.metrics["ring_vanilla_collapsed_seeds"], 5)
        #endif
    }

    func testClippedCriticHasVanishingGradientsAndPenalisedCriticUnitNorm() throws {
        #if DEBUG
        throw XCTSkip("full-length training runs in release mode: swift test -c release")
        #else
        let metrics = try runStageAlone(4, "critics").outcome.metrics
        for mixture in ["ring", "grid"] {
            XCTAssertLessThan(metrics["\(mixture)_clip_gradient_norm"]!, 0.005, mixture)
            XCTAssertEqual(metrics["\(mixture)_penalty_gradient_norm"]!, 1, accuracy: 0.1, mixture)
            XCTAssertGreaterThan(metrics["\(mixture)_clip_weights_at_limit"]!, 0.25, mixture)  // "a third to a half"
            XCTAssertLessThan(metrics["\(mixture)_clip_weights_at_limit"]!, 0.55, mixture)
        }
        #endif
    }
}
