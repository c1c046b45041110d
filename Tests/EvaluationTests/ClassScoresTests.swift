@testable import Evaluation
import Kernels
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// One-hot rows [classes.count, C]: row r certain of class classes[r].
func oneHot(_ classes: [Int], classCount: Int) -> Tensor {
    matrix(classes.map { c in (0..<classCount).map { $0 == c ? 1 : 0 } })
}

final class InceptionScoreTests: XCTestCase {
    func testCertainPredictionsSpreadEvenlyScoreTheClassCount() {
        for classes in [2, 3, 10] {
            let score = inceptionScore(probabilities: oneHot((0..<(10 * classes * 4)).map { $0 % classes }, classCount: classes))
            XCTAssertEqual(score.mean, Double(classes), accuracy: 1e-12)
            XCTAssertEqual(score.standardDeviation, 0, accuracy: 1e-12)
        }
    }

    func testIdenticalPredictionsScoreOne() {
        let same = matrix([[Double]](repeating: [0.7, 0.2, 0.1], count: 50))
        XCTAssertEqual(inceptionScore(probabilities: same).mean, 1, accuracy: 1e-12)
        XCTAssertEqual(inceptionScore(probabilities: oneHot([Int](repeating: 4, count: 30), classCount: 10), splits: 3).mean, 1)
    }

    /// exp of the mean KL from the split's marginal, written out.
    func testATwoRowCaseByHand() {
        let score = inceptionScore(probabilities: matrix([[0.9, 0.1], [0.2, 0.8]]), splits: 1)
        let marginal = [0.55, 0.45]
        func kl(_ p: [Double]) -> Double { p[0] * log(p[0] / marginal[0]) + p[1] * log(p[1] / marginal[1]) }
        let expected = exp((kl([0.9, 0.1]) + kl([0.2, 0.8])) / 2)
        XCTAssertEqual(score.mean, expected, accuracy: 1e-6)  // the inputs are Floats
        XCTAssertEqual(score.standardDeviation, 0)
    }

    /// Split 1 holds both classes evenly (score 2), split 2 one class (score 1): 1.5 ± 0.5.
    func testSplitsStandardDeviationOnAKnownCase() {
        let rows = (0..<10).map { $0 % 2 } + [Int](repeating: 0, count: 10)
        let score = inceptionScore(probabilities: oneHot(rows, classCount: 2), splits: 2)
        XCTAssertEqual(score.mean, 1.5, accuracy: 1e-12)
        XCTAssertEqual(score.standardDeviation, 0.5, accuracy: 1e-12)
        // One split of all 20 rows: p(y) = (3/4, 1/4), KL = (15/20)·log(4/3) + (5/20)·log 4.
        let whole = inceptionScore(probabilities: oneHot(rows, classCount: 2), splits: 1)
        XCTAssertEqual(whole.mean, exp(0.75 * log(4.0 / 3) + 0.25 * log(4.0)), accuracy: 1e-12)
    }

    /// Seed 000's score, written out: the class variance where p(y) belongs, ε = 1e-16.
    func testSeed000ScoreIsItsDocumentedFormulaAndNotTheScore() {
        let rows: [[Double]] = [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]
        let probabilities = matrix(rows)
        let p = rows.map { $0.map { Double(Float($0)) } }  // what the tensor holds
        var means = [0.0, 0.0], variances = [0.0, 0.0]
        for row in p { for y in 0..<2 { means[y] += row[y] / 3 } }
        for row in p { for y in 0..<2 { variances[y] += (row[y] - means[y]) * (row[y] - means[y]) / 3 } }
        var sum = 0.0
        for row in p {
            for y in 0..<2 { sum += row[y] * (log(row[y] + 1e-16) - log(variances[y] + 1e-16)) }
        }
        let seed000 = seed000InceptionScore(probabilities: probabilities)
        XCTAssertEqual(seed000, exp(sum / 3), accuracy: 1e-12 * exp(sum / 3))
        let correct = inceptionScore(probabilities: probabilities, splits: 1).mean
        XCTAssertGreaterThan(abs(seed000 - correct), 1)
        // Identical certain predictions: variance 0, so exp(−log ε) = 10¹⁶ where 1 belongs.
        XCTAssertEqual(seed000InceptionScore(probabilities: oneHot([1, 1, 1], classCount: 3)), 1e16, accuracy: 1e4)
    }
}

final class ClassCoverageTests: XCTestCase {
    func testUniformHistogram() {
        let coverage = ClassCoverage(probabilities: oneHot((0..<50).map { $0 % 10 }, classCount: 10))
        XCTAssertEqual(coverage.counts, [Int](repeating: 5, count: 10))
        XCTAssertEqual(coverage.classesWithFairShare, 10)
        XCTAssertEqual(coverage.klFromUniform, 0, accuracy: 1e-15)
    }

    func testOneClassOnly() {
        let coverage = ClassCoverage(probabilities: oneHot([Int](repeating: 3, count: 40), classCount: 10))
        XCTAssertEqual(coverage.counts, [0, 0, 0, 40, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(coverage.classesWithFairShare, 1)
        XCTAssertEqual(coverage.klFromUniform, log(10), accuracy: 1e-12)
    }

    /// n = 40, C = 4: a fair share is 10 rows, a quarter of it 2.5, so 3 rows hold one and 2 do not.
    /// The predicted class is the most probable one (the first on a tie).
    func testFairShareRuleAndPredictedClasses() {
        var rows = [[Double]]()
        rows += [[Double]](repeating: [0.1, 0.6, 0.2, 0.1], count: 3)  // class 1
        rows += [[Double]](repeating: [0.3, 0.1, 0.3, 0.3], count: 2)  // a tie: class 0
        rows += [[Double]](repeating: [0.1, 0.1, 0.7, 0.1], count: 35)  // class 2
        let coverage = ClassCoverage(probabilities: matrix(rows))
        XCTAssertEqual(coverage.counts, [2, 3, 35, 0])
        XCTAssertEqual(coverage.classesWithFairShare, 2)
        let q = [2.0, 3, 35].map { $0 / 40 }
        XCTAssertEqual(coverage.klFromUniform, q.reduce(0) { $0 + $1 * log(4 * $1) }, accuracy: 1e-12)
    }
}

final class LabelFidelityTests: XCTestCase {
    func testPerClassAndOverallShares() {
        let fidelity = LabelFidelity(predicted: [0, 0, 1, 2, 1, 1], intended: [0, 1, 1, 1, 1, 0], classes: 3)
        XCTAssertEqual(fidelity.perClass[0], 0.5)
        XCTAssertEqual(fidelity.perClass[1], 0.5)
        XCTAssertTrue(fidelity.perClass[2].isNaN, "no image was meant to be class 2")
        XCTAssertEqual(fidelity.overall, 3.0 / 6.0)
        XCTAssertEqual(fidelity.values(), ["label_fidelity": 0.5, "label_fidelity_0": 0.5, "label_fidelity_1": 0.5])
        XCTAssertEqual(fidelity.values(prefix: "real")["real_1"], 0.5)
    }
}
