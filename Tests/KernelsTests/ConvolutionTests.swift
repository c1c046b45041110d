@testable import Kernels
import XCTest

final class ConvolutionTests: XCTestCase {
    var random = RandomSource(seed: 21)

    /// (input shape, weight shape, stride, padding) cases with odd and even sizes: 1 to 3 channels
    /// (oneDNN keeps them in the plain layout) and 16 to 33 (its blocked layouts), batches of one
    /// sample and of several chunks with a smaller last one, Keras's "same" (1, 2 at stride 2),
    /// "valid" with input rows no window reaches, and explicit asymmetric padding.
    var cases: [([Int], [Int], Int, Padding)] {
        [([2, 3, 9, 10], [4, 3, 5, 5], 1, .uniform(2)),
         ([2, 3, 9, 11], [2, 3, 5, 5], 1, .valid),
         ([2, 3, 14, 14], [4, 3, 5, 5], 2, .same),
         ([3, 2, 11, 12], [3, 2, 5, 5], 2, .same),
         ([2, 3, 10, 8], [5, 3, 4, 4], 2, .uniform(1)),
         ([2, 2, 11, 11], [3, 2, 4, 4], 2, .valid),
         ([1, 3, 8, 7], [4, 3, 4, 4], 1, .same),
         ([1, 1, 3, 3], [2, 1, 5, 5], 1, .same),
         ([5, 1, 28, 28], [6, 1, 5, 5], 2, .same),
         ([11, 1, 12, 13], [16, 1, 5, 5], 2, .same),
         ([3, 16, 9, 7], [1, 16, 5, 5], 2, .same),
         ([2, 33, 7, 9], [20, 33, 3, 3], 1, .explicit(top: 1, bottom: 2, left: 0, right: 3)),
         ([9, 32, 14, 13], [48, 32, 5, 5], 2, .same),
         ([1, 24, 7, 7], [17, 24, 5, 5], 1, .same),
         ([10, 16, 11, 11], [32, 16, 4, 4], 2, .valid),
         ([4, 17, 6, 8], [3, 17, 3, 5], 2, .explicit(top: 2, bottom: 0, left: 1, right: 2))]
    }

    /// Equal shapes, and every element within a millionth of the reference's largest magnitude
    /// times the square root of the terms each element sums (float rounding grows about so).
    func assertClose(_ a: Tensor, _ b: Tensor, terms: Int = 100, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, message, file: file, line: line)
        let scale = max(b.scalars.map(abs).max() ?? 1, 1)
        let tolerance = 1e-6 * scale * Float(max(terms, 100)).squareRoot()
        let worst = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, tolerance, message, file: file, line: line)
    }

    func testBothKernelSetsMatchDirectLoops() {
        for kernels in ProductKernels.allCases {
            withProductKernels(kernels) { matchesDirectLoops("\(kernels)") }
        }
    }

    private func matchesDirectLoops(_ kernels: String) {
        for (inputShape, weightShape, stride, padding) in cases {
            let g = ConvolutionGeometry.convolution(inputShape: inputShape, weightShape: weightShape, stride: stride, padding: padding)
            let x = Tensor.uniform(shape: inputShape, low: -1, high: 1, using: &random)
            let w = Tensor.uniform(shape: weightShape, low: -1, high: 1, using: &random)
            let b = Tensor.uniform(shape: [weightShape[0]], low: -1, high: 1, using: &random)
            let dy = Tensor.uniform(shape: g.outputShape, low: -1, high: 1, using: &random)
            let name = "\(kernels): \(inputShape) * \(weightShape) s\(stride) \(padding)"
            let terms = (forward: g.patchSize, input: g.outputChannels * g.kernelHeight * g.kernelWidth, weight: g.batch * g.outputPlane)
            let y = convolvedNaive(x, w, bias: b, geometry: g), dw = convolutionWeightGradientNaive(x, dy, geometry: g)
            assertClose(convolved(x, w, bias: b, geometry: g), y, terms: terms.forward, "forward " + name)
            assertClose(convolvedKeepingInput(x, w, bias: b, geometry: g).output, y, terms: terms.forward, "forward, kept " + name)
            assertClose(convolutionInputGradient(dy, w, geometry: g), convolutionInputGradientNaive(dy, w, geometry: g),
                        terms: terms.input, "input gradient " + name)
            assertClose(convolutionWeightGradient(x, dy, geometry: g), dw, terms: terms.weight, "weight gradient " + name)
            let fused = convolvedWithWeightGradient(x, w, dy, geometry: g)
            assertClose(fused.output, convolvedNaive(x, w, geometry: g), terms: terms.forward, "fused forward " + name)
            assertClose(fused.weightGradient, dw, terms: terms.weight, "fused weight gradient " + name)
        }
    }

    /// Chunks of the batch run side by side, each on one thread: two threads give the direct
    /// loops' numbers, and one thread's to the bit, on both kernel sets (oneDNN's own threads
    /// would change the last bits of its weight gradients), for a plain, a 1-channel and a
    /// blocked geometry (the last with a smaller last chunk). The passes that reuse what an
    /// earlier pass kept (im2col matrices, oneDNN's reordered chunks) or share one reorder give
    /// the numbers of the passes alone, to the bit.
    func testTwoThreadsMatchDirectLoopsAndOneThreadToTheBit() {
        for kernels in ProductKernels.allCases {
            for (inputShape, weightShape, stride) in [([24, 16, 20, 19], [4, 16, 5, 5], 1), ([20, 1, 28, 28], [64, 1, 5, 5], 2),
                                                      ([19, 32, 14, 14], [48, 32, 5, 5], 2)] {
                let g = ConvolutionGeometry.convolution(inputShape: inputShape, weightShape: weightShape, stride: stride, padding: .same)
                withProductKernels(kernels) { twoThreadsMatchOne(g, "\(kernels) \(inputShape) * \(weightShape)") }
            }
        }
        // On oneDNN the blocked geometry's input and output gradient are kept as reordered.
        withProductKernels(.fastest) {
            let g = ConvolutionGeometry.convolution(inputShape: [19, 32, 14, 14], weightShape: [48, 32, 5, 5], stride: 2, padding: .same)
            let x = Tensor(shape: g.inputShape, repeating: 1), w = Tensor(shape: g.weightShape, repeating: 1)
            XCTAssertNotNil(convolvedKeepingInput(x, w, geometry: g).kept?.chunks, "kept input")
            XCTAssertNotNil(convolutionInputGradientKeeping(Tensor(shape: g.outputShape, repeating: 1), w, geometry: g).kept?.chunks,
                            "kept output gradient")
        }
    }

    private func twoThreadsMatchOne(_ g: ConvolutionGeometry, _ name: String) {
        let x = Tensor.uniform(shape: g.inputShape, low: -1, high: 1, using: &random)
        let w = Tensor.uniform(shape: g.weightShape, low: -1, high: 1, using: &random)
        let dy = Tensor.uniform(shape: g.outputShape, low: -1, high: 1, using: &random)
        // Each result beside the index of the plain pass it must equal to the bit.
        func kernels(threads: Int) -> [(Tensor, Int?)] {
            setMatrixThreads(threads)
            defer { resetMatrixThreads() }
            let fused = convolvedWithWeightGradient(x, w, dy, geometry: g)
            let kept = convolvedKeepingInput(x, w, geometry: g)
            let both = convolutionGradients(x, kept: kept.kept, w, dy, geometry: g)
            let keptOutputGradient = convolutionInputGradientKeeping(dy, w, geometry: g)
            let fusedKept = convolvedWithWeightGradient(x, w, dy, keptOutputGradient: keptOutputGradient.kept, geometry: g)
            return [(convolved(x, w, geometry: g), nil), (convolutionInputGradient(dy, w, geometry: g), nil),
                    (convolutionWeightGradient(x, dy, geometry: g), nil), (fused.output, 0), (fused.weightGradient, 2),
                    (kept.output, 0), (both.inputGradient, 1), (both.weightGradient, 2), (keptOutputGradient.inputGradient, 1),
                    (fusedKept.output, 0), (fusedKept.weightGradient, 2)]
                + (kept.kept.map { [(convolutionWeightGradient(x, kept: $0, dy, geometry: g), 2)] } ?? [])
        }
        let (one, two) = (kernels(threads: 1), kernels(threads: 2))
        for result in [one, two] {
            for (index, (tensor, plain)) in result.enumerated() {
                guard let plain else { continue }
                XCTAssertEqual(tensor.shape, result[plain].0.shape, "result \(index), " + name)
                XCTAssertEqual(zip(tensor.scalars, result[plain].0.scalars).filter { $0.bitPattern != $1.bitPattern }.count, 0,
                               "result \(index) against pass \(plain), " + name)
            }
        }
        assertClose(two[0].0, convolvedNaive(x, w, geometry: g), terms: g.patchSize, "forward, " + name)
        assertClose(two[1].0, convolutionInputGradientNaive(dy, w, geometry: g), terms: g.outputChannels * 25, "input gradient, " + name)
        assertClose(two[2].0, convolutionWeightGradientNaive(x, dy, geometry: g), terms: g.batch * g.outputPlane, "weight gradient, " + name)
        for (a, b) in zip(one, two) { XCTAssertEqual(zip(a.0.scalars, b.0.scalars).filter { $0 != $1 }.count, 0, name) }
    }

    func testChunkedBatchesMatchOneSampleAtATime() {
        for kernels in ProductKernels.allCases {
            withProductKernels(kernels) { chunkedBatchesMatchOneSampleAtATime("\(kernels)") }
        }
    }

    private func chunkedBatchesMatchOneSampleAtATime(_ kernels: String) {
        // A batch large enough to be split into several chunks.
        let g = ConvolutionGeometry.convolution(inputShape: [70, 64, 14, 14], weightShape: [8, 64, 5, 5], stride: 2, padding: .same)
        let x = Tensor.uniform(shape: g.inputShape, low: -1, high: 1, using: &random)
        let w = Tensor.uniform(shape: g.weightShape, low: -1, high: 1, using: &random)
        let y = convolved(x, w, geometry: g)
        for n in [0, 37, 69] {
            let one = convolved(x.sliced(alongAxis: 0, n..<(n + 1)), w, geometry: g.with(batch: 1))
            assertClose(y.sliced(alongAxis: 0, n..<(n + 1)), one, terms: g.patchSize, "\(kernels): sample \(n)")
        }
    }

    /// The fused kernel of a transposed convolution's pullback gives the two separate kernels'
    /// numbers to the bit, over several chunks, on both kernel sets.
    func testConvolutionWithWeightGradientEqualsTheTwoAlone() {
        for kernels in ProductKernels.allCases {
            for outputChannels in [8, 32] {
                let g = ConvolutionGeometry.convolution(inputShape: [70, 64, 14, 14], weightShape: [outputChannels, 64, 5, 5],
                                                        stride: 2, padding: .same)
                let x = Tensor.uniform(shape: g.inputShape, low: -1, high: 1, using: &random)
                let w = Tensor.uniform(shape: g.weightShape, low: -1, high: 1, using: &random)
                let dy = Tensor.uniform(shape: g.outputShape, low: -1, high: 1, using: &random)
                withProductKernels(kernels) {
                    let (y, dw) = convolvedWithWeightGradient(x, w, dy, geometry: g)
                    XCTAssertEqual(y.scalars, convolved(x, w, geometry: g).scalars, "\(kernels)")
                    XCTAssertEqual(dw.scalars, convolutionWeightGradient(x, dy, geometry: g).scalars, "\(kernels)")
                    XCTAssertEqual(dw.shape, g.weightShape)
                }
            }
        }
    }

    /// The DCGAN's convolutions (the same three geometries serve its generator's transposed
    /// convolutions) run on oneDNN's own kernels on the fastest kernel set, none on im2col.
    func testDCGANLayersRunOnOneDNN() {
        withProductKernels(.fastest) {
            for (inputShape, weightShape, stride) in [([16, 1, 28, 28], [64, 1, 5, 5], 2), ([16, 64, 14, 14], [128, 64, 5, 5], 2),
                                                      ([16, 128, 7, 7], [256, 128, 5, 5], 1)] {
                let g = ConvolutionGeometry.convolution(inputShape: inputShape, weightShape: weightShape, stride: stride, padding: .same)
                for kind in [ConvolutionPassKind.forward, .forwardWithBias, .backwardData, .backwardWeights] {
                    XCTAssertNotNil(DNNLChunkedPass(g, kind), "\(kind) of \(inputShape) * \(weightShape)")
                }
            }
        }
        XCTAssertFalse(convolutionImplementations().isEmpty)
        XCTAssertTrue(convolutionLibraryName().hasPrefix("oneDNN "), convolutionLibraryName())
        withProductKernels(.portable) {
            let g = ConvolutionGeometry.convolution(inputShape: [2, 64, 14, 14], weightShape: [8, 64, 5, 5], stride: 2, padding: .same)
            XCTAssertNil(DNNLChunkedPass(g, .forward), "the portable kernels run convolutions on im2col")
        }
    }

    /// Convolutions run side by side in jobs (as `gan-lab sweep` runs seeds) give the bits they
    /// give alone: the class-time DCGAN's layers at batch 64, every pass.
    func testJobsSideBySideGiveTheNumbersOfOneAlone() throws {
        let layers: [([Int], [Int], Int)] = [([64, 1, 28, 28], [32, 1, 5, 5], 2), ([64, 32, 14, 14], [64, 32, 5, 5], 2),
                                             ([64, 64, 7, 7], [128, 64, 5, 5], 1)]
        let problems = layers.map { inputShape, weightShape, stride in
            let g = ConvolutionGeometry.convolution(inputShape: inputShape, weightShape: weightShape, stride: stride, padding: .same)
            let x = Tensor.uniform(shape: inputShape, low: -1, high: 1, using: &random)
            let w = Tensor.uniform(shape: weightShape, low: -0.1, high: 0.1, using: &random)
            let dy = Tensor.uniform(shape: g.outputShape, low: -1, high: 1, using: &random)
            return (g, x, w, dy)
        }
        func passes() -> [[Float]] {
            problems.flatMap { g, x, w, dy in
                [convolved(x, w, geometry: g).scalars, convolutionInputGradient(dy, w, geometry: g).scalars,
                 convolutionWeightGradient(x, dy, geometry: g).scalars]
            }
        }
        try withProductKernels(.fastest) {
            let alone = passes()
            var sideBySide: [[[Float]]] = []
            try forEachJob(4, threads: 2, { _ in passes() }, completed: { sideBySide.append($1) })
            for (job, results) in sideBySide.enumerated() {
                for (index, (a, b)) in zip(alone, results).enumerated() {
                    XCTAssertEqual(a, b, "pass \(index % 3) of layer \(index / 3), job \(job)")
                }
            }
        }
    }

    func testKerasSameAndTransposedSizes() {
        let same = ConvolutionGeometry.convolution(inputShape: [1, 1, 14, 11], weightShape: [1, 1, 5, 5], stride: 2, padding: .same)
        XCTAssertEqual([same.outputHeight, same.outputWidth, same.padTop, same.padLeft], [7, 6, 1, 2])
        let up = ConvolutionGeometry.transposedConvolution(inputShape: [1, 4, 7, 7], weightShape: [4, 3, 5, 5], stride: 2, padding: .same)
        XCTAssertEqual(up.inputShape, [1, 3, 14, 14])
        XCTAssertEqual(up.padTop, 1)
        let torch = ConvolutionGeometry.transposedConvolution(inputShape: [2, 3, 4, 5], weightShape: [3, 2, 5, 5], stride: 2,
                                                              padding: .explicit(top: 2, bottom: 1, left: 2, right: 1))
        XCTAssertEqual(torch.inputShape, [2, 2, 8, 10])
    }
}

final class ShapeKernelTests: XCTestCase {
    func testPermuteConcatenateSlice() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(a.transposed().scalars, [1, 4, 2, 5, 3, 6])
        let b = Tensor(shape: [2, 1, 3], scalars: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(b.permuted([2, 0, 1]).shape, [3, 2, 1])
        XCTAssertEqual(b.permuted([2, 0, 1]).scalars, [1, 4, 2, 5, 3, 6])
        let joined = Tensor.concatenated([a, Tensor(shape: [2, 1], scalars: [7, 8])], alongAxis: 1)
        XCTAssertEqual(joined.scalars, [1, 2, 3, 7, 4, 5, 6, 8])
        XCTAssertEqual(joined.sliced(alongAxis: 1, 2..<4).scalars, [3, 7, 6, 8])
        XCTAssertEqual(a.maximum(alongAxes: [1]).scalars, [3, 6])
        XCTAssertEqual(a.mean(alongAxes: [0]).scalars, [2.5, 3.5, 4.5])
        XCTAssertEqual(matmul(b.reshaped(to: [2, 1, 3]), b.reshaped(to: [2, 3, 1])).scalars, [14, 77])
    }
}
