import GAN
import XCTest

final class WorkloadFlopsTests: XCTestCase {
    /// The analytic FLOPs the bench divides by: hand counts per step (2 per multiply–add).
    func testFlopsPerStepMatchHandCounts() {
        // mlp-gaussian, per sample: G 157,184 and D 131,840 multiply–adds (first layers 25,600 and 512);
        // G + 3D + 2(2D − 512) + D + (2G − 25,600) = 1,499,648, times batch 64, times 2.
        XCTAssertEqual(BenchmarkWorkload.mlpGaussian.flopsPerStep, 2 * 1_499_648 * 64)
        // mlp-quadratic: G 320, D 322 (first layers 32 and 32) → 3,440 per sample, batch 256.
        XCTAssertEqual(BenchmarkWorkload.mlpQuadratic.flopsPerStep, 2 * 3_440 * 256)
        // mlp-fashion: G 1,483,776, D 532,736 (first layers 25,600 and 401,408) → 7,884,800, batch 64.
        XCTAssertEqual(BenchmarkWorkload.mlpFashion.flopsPerStep, 2 * 7_884_800 * 64)
        // dcgan-mnist: scripts/peer_models.py prints 120.93 GFLOP for this step.
        XCTAssertEqual(BenchmarkWorkload.dcganMNIST.flopsPerStep / 1e9, 120.93, accuracy: 0.005)
    }
}
