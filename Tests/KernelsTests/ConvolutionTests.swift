import Kernels
import XCTest

final class ConvolutionTests: XCTestCase {
    var random = RandomSource(seed: 21)

    /// (input shape, weight shape, stride, padding) cases with odd and even sizes.
    var cases: [([Int], [Int], Int, Padding)] {
        [([2, 3, 9, 10], [4, 3, 5, 5], 1, .uniform(2)),
         ([2, 3, 9, 11], [2, 3, 5, 5], 1, .valid),
         ([2, 3, 14, 14], [4, 3, 5, 5], 2, .same),
         ([3, 2, 11, 12], [3, 2, 5, 5], 2, .same),
         ([2, 3, 10, 8], [5, 3, 4, 4], 2, .uniform(1)),
         ([2, 2, 11, 11], [3, 2, 4, 4], 2, .valid),
         ([1, 3, 8, 7], [4, 3, 4, 4], 1, .same),
         ([1, 1, 3, 3], [2, 1, 5, 5], 1, .same),
         ([5, 1, 28, 28], [6, 1, 5, 5], 2, .same)]
    }

    func assertClose(_ a: Tensor, _ b: Tensor, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, message, file: file, line: line)
        let scale = b.scalars.map(abs).max() ?? 1
        for (x, y) in zip(a.scalars, b.scalars) {
            XCTAssertEqual(x, y, accuracy: 1e-5 * max(scale, 1), message, file: file, line: line)
        }
    }

    func testIm2colConvolutionMatchesDirectLoops() {
        for (inputShape, weightShape, stride, padding) in cases {
            let g = ConvolutionGeometry.convolution(inputShape: inputShape, weightShape: weightShape, stride: stride, padding: padding)
            let x = Tensor.uniform(shape: inputShape, low: -1, high: 1, using: &random)
            let w = Tensor.uniform(shape: weightShape, low: -1, high: 1, using: &random)
            let b = Tensor.uniform(shape: [weightShape[0]], low: -1, high: 1, using: &random)
            let dy = Tensor.uniform(shape: g.outputShape, low: -1, high: 1, using: &random)
            let name = "\(inputShape) * \(weightShape) s\(stride) \(padding)"
            assertClose(convolved(x, w, bias: b, geometry: g), convolvedNaive(x, w, bias: b, geometry: g), name)
            assertClose(convolutionInputGradient(dy, w, geometry: g), convolutionInputGradientNaive(dy, w, geometry: g), name)
            assertClose(convolutionWeightGradient(x, dy, geometry: g), convolutionWeightGradientNaive(x, dy, geometry: g), name)
        }
    }

    /// Chunks of the batch run side by side, each on one thread: two threads give the direct
    /// loops' numbers, and one thread's to the bit.
    func testTwoThreadsMatchDirectLoopsAndOneThreadToTheBit() {
        let g = ConvolutionGeometry.convolution(inputShape: [24, 16, 20, 19], weightShape: [4, 16, 5, 5], stride: 1, padding: .same)
        let x = Tensor.uniform(shape: g.inputShape, low: -1, high: 1, using: &random)
        let w = Tensor.uniform(shape: g.weightShape, low: -1, high: 1, using: &random)
        let dy = Tensor.uniform(shape: g.outputShape, low: -1, high: 1, using: &random)
        func kernels(threads: Int) -> [Tensor] {
            setMatrixThreads(threads)
            defer { resetMatrixThreads() }
            let fused = convolvedWithWeightGradient(x, w, dy, geometry: g)
            let kept = convolvedKeepingColumns(x, w, geometry: g)
            return [convolved(x, w, geometry: g), convolutionInputGradient(dy, w, geometry: g),
                    convolutionWeightGradient(x, dy, geometry: g), fused.output, fused.weightGradient,
                    kept.output, convolutionWeightGradient(columns: kept.columns, outputGradient: dy, geometry: g)]
        }
        let (one, two) = (kernels(threads: 1), kernels(threads: 2))
        // The kept im2col gives the forward and the weight gradient of a second im2col, to the bit.
        for result in [one, two] {
            XCTAssertEqual(zip(result[5].scalars, result[0].scalars).filter { $0 != $1 }.count, 0, "kept forward")
            XCTAssertEqual(zip(result[6].scalars, result[2].scalars).filter { $0 != $1 }.count, 0, "kept weight gradient")
        }
        assertClose(two[0], convolvedNaive(x, w, geometry: g), "forward")
        assertClose(two[1], convolutionInputGradientNaive(dy, w, geometry: g), "input gradient")
        assertClose(two[2], convolutionWeightGradientNaive(x, dy, geometry: g), "weight gradient")
        for (a, b) in zip(one, two) { XCTAssertEqual(zip(a.scalars, b.scalars).filter { $0 != $1 }.count, 0) }
    }

    func testChunkedBatchesMatchOneSampleAtATime() {
        // A batch large enough to be split into several im2col chunks.
        let g = ConvolutionGeometry.convolution(inputShape: [70, 64, 14, 14], weightShape: [8, 64, 5, 5], stride: 2, padding: .same)
        let x = Tensor.uniform(shape: g.inputShape, low: -1, high: 1, using: &random)
        let w = Tensor.uniform(shape: g.weightShape, low: -1, high: 1, using: &random)
        let y = convolved(x, w, geometry: g)
        for n in [0, 37, 69] {
            let one = convolved(x.sliced(alongAxis: 0, n..<(n + 1)), w, geometry: g.with(batch: 1))
            assertClose(y.sliced(alongAxis: 0, n..<(n + 1)), one, "sample \(n)")
        }
    }

    /// The fused kernel of a transposed convolution's pullback gives the two separate kernels'
    /// numbers to the bit, over several im2col chunks.
    func testConvolutionWithWeightGradientEqualsTheTwoAlone() {
        let g = ConvolutionGeometry.convolution(inputShape: [70, 64, 14, 14], weightShape: [8, 64, 5, 5], stride: 2, padding: .same)
        let x = Tensor.uniform(shape: g.inputShape, low: -1, high: 1, using: &random)
        let w = Tensor.uniform(shape: g.weightShape, low: -1, high: 1, using: &random)
        let dy = Tensor.uniform(shape: g.outputShape, low: -1, high: 1, using: &random)
        let (y, dw) = convolvedWithWeightGradient(x, w, dy, geometry: g)
        XCTAssertEqual(y.scalars, convolved(x, w, geometry: g).scalars)
        XCTAssertEqual(dw.scalars, convolutionWeightGradient(x, dy, geometry: g).scalars)
        XCTAssertEqual(dw.shape, g.weightShape)
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
