import GAN
import Kernels
import NN
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

    /// The products `gan-lab bench` times alone are the ones the FLOP count counts: G forward,
    /// D forward ×3, two D backward passes (weights and data but the first layer's data), D's
    /// data gradients for the G step, and G's backward pass.
    func testProductsPerStepAreTheCountedOnes() {
        for (workload, count) in [(BenchmarkWorkload.mlpGaussian, 4 + 12 + 14 + 4 + 7), (.mlpQuadratic, 3 + 12 + 14 + 4 + 5),
                                  (.mlpFashion, 4 + 9 + 10 + 3 + 7), (.dcganMNIST, 4 + 9 + 10 + 3 + 7)] {
            let products = workload.productsPerStep
            XCTAssertEqual(products.count, count, workload.rawValue)
            if workload != .dcganMNIST {
                XCTAssertTrue(products.allSatisfy { $0.m == workload.batchSize || $0.k == workload.batchSize }, workload.rawValue)
            }
        }
        // The first product is G's first layer: noise [64, 100] times Wᵀ, W [256, 100].
        XCTAssertEqual(BenchmarkWorkload.mlpGaussian.productsPerStep.first, ProductShape(m: 64, k: 100, n: 256, transposeB: true))
        let milliseconds = measureProducts(BenchmarkWorkload.mlpQuadratic.productsPerStep, threads: 1, repeats: 3)
        XCTAssertTrue(milliseconds > 0 && milliseconds < 1000, "\(milliseconds) ms")
        // On the lab's row blocks, with the lab's thread count given back afterwards.
        let threadsBefore = matrixThreads()
        let blocked = measureProducts(BenchmarkWorkload.mlpGaussian.productsPerStep, threads: 2, threading: .rowBlocks, repeats: 3)
        XCTAssertTrue(blocked > 0 && blocked < 1000, "\(blocked) ms")
        XCTAssertEqual(matrixThreads(), threadsBefore)
    }
}

final class ProductGradientShapeTests: XCTestCase {
    /// A gradient product has its operand's stored shape and the forward product's cost, for
    /// every pair of transposes.
    func testGradientProductsHaveTheOperandsStoredShapes() {
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                let forward = ProductShape(m: 3, k: 5, n: 7, transposeA: transposeA, transposeB: transposeB)
                let (a, b) = (forward.gradientOfA, forward.gradientOfB)
                XCTAssertEqual([a.m, a.n], transposeA ? [5, 3] : [3, 5])
                XCTAssertEqual([b.m, b.n], transposeB ? [7, 5] : [5, 7])
                XCTAssertEqual(a.multiplyAdds, forward.multiplyAdds)
                XCTAssertEqual(b.multiplyAdds, forward.multiplyAdds)
            }
        }
        // Dense's weight gradient gᵀ·x and data gradient g·W, as its pullback computes them.
        let dense = LayerProduct(ProductShape(m: 64, k: 100, n: 256, transposeB: true), weightIsA: false)
        XCTAssertEqual(dense.weightGradient, ProductShape(m: 256, k: 64, n: 100, transposeA: true))
        XCTAssertEqual(dense.dataGradient, ProductShape(m: 64, k: 256, n: 100))
    }
}

final class LayerProductTests: XCTestCase {
    /// Every workload's product list is its networks' own: walking the models built for the
    /// bench, each Dense, convolution and transposed convolution gives, in order, the forward
    /// product the kernels run (Dense x·Wᵀ; conv2d weight · im2col; a transposed convolution
    /// Wᵀ · input before col2im) at the workload's batch.
    func testLayerProductsAreTheBenchModelsProducts() {
        for workload in BenchmarkWorkload.allCases {
            var random = RandomSource(seed: 1)
            let (generator, discriminator) = workload.models(using: &random)
            let batch = workload.batchSize
            func products(of model: Sequential, inputShape: [Int]) -> [ProductShape] {
                var shape = inputShape
                var found: [ProductShape] = []
                for layer in model.layers {
                    if let dense = layer as? Dense {
                        found.append(ProductShape(m: batch, k: dense.inputSize, n: dense.outputSize, transposeB: true))
                    } else if let convolution = layer as? Conv2D {
                        let g = convolution.geometry(for: shape)
                        found.append(ProductShape(m: g.outputChannels, k: g.patchSize, n: batch * g.outputPlane))
                    } else if let transposed = layer as? ConvTranspose2D {
                        let g = transposed.geometry(for: shape)
                        found.append(ProductShape(m: g.patchSize, k: g.outputChannels, n: batch * g.outputPlane, transposeA: true))
                    }
                    shape = layer.outputShape(for: shape)
                }
                return found
            }
            let listed = workload.layerProducts
            let realShape = workload == .dcganMNIST ? [batch, 1, 28, 28]
                : [batch, listed.discriminator[0].forward.k]
            XCTAssertEqual(products(of: generator, inputShape: [batch, workload.latentSize]), listed.generator.map(\.forward),
                           workload.rawValue)
            XCTAssertEqual(products(of: discriminator, inputShape: realShape), listed.discriminator.map(\.forward), workload.rawValue)
        }
    }
}
