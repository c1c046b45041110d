import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Kernels
import XCTest

/// softplus, tanh, the sigmoid, Adam's step and dropout (vector_math.c): the same bits on every
/// instruction set the CPU has; each value of a map within its bound of the true one (computed
/// here in Double by Foundation), tanh's the bits of glibc's tanhf and the sigmoid's those of its
/// formulas on glibc's expf for every float, each step the update written out in Swift, and
/// dropout the mask of its stream drawn in order.
final class VectorMathTests: XCTestCase {
    override func tearDown() {
        setPortableInstructionSet(processorFeatures().portableInstructionSets.last!)
    }

    /// Values across every range the maps treat apart: tiny, around the cut-overs, saturated,
    /// infinite, NaN, signed zeros, subnormals, and random bit patterns.
    private func inputs() -> [Float] {
        var random = RandomSource(seed: 11)
        var values: [Float] = [0, -0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 1e-38, 0x1p-13, -0x1p-13, 0x1.fffffep-14, 1, -1, 20, -20, 21,
                               88.7, 88.8, 100, -103, -104, 110, -110, 111, .greatestFiniteMagnitude,
                               -.greatestFiniteMagnitude, .infinity, -.infinity, .nan]
        values += Tensor.uniform(shape: [20_000], low: -12, high: 12, using: &random).scalars
        values += Tensor.uniform(shape: [5_000], low: -1e-3, high: 1e-3, using: &random).scalars
        values += Tensor.uniform(shape: [5_000], low: -120, high: 120, using: &random).scalars
        values += (0..<10_000).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: random.nextBits())) }
        return values
    }

    /// Each map with its bound in ulps: softplus is the nearest float or its neighbour; tanh is
    /// fdlibm's, whose error reaches 2.19 ulps (at 0x1.ddca18p-3, found over every float); the
    /// sigmoid's, from expf's rounding, the sum's and the quotient's, 2.40 (at −0x1.0a111ap+2, the same).
    private let maps: [(name: String, map: (Tensor) -> Tensor, exact: (Double) -> Double, ulps: Double)] = [
        ("softplus", { $0.softplus() }, { max($0, 0) + Foundation.log1p(Foundation.exp(-abs($0))) }, 1),
        ("tanh", { $0.tanh() }, { Foundation.tanh($0) }, 2.19),
        ("sigmoid", { $0.sigmoid() }, { 1 / (1 + Foundation.exp(-$0)) }, 2.41),
    ]

    func testEveryInstructionSetGivesTheSameBits() {
        let x = Tensor(shape: [inputs().count], scalars: inputs())
        let sets = processorFeatures().portableInstructionSets
        for (name, map, _, _) in maps {
            var first: [UInt32]?
            for set in sets {
                setPortableInstructionSet(set)
                let bits = map(x).scalars.map(\.bitPattern)
                if let first {
                    XCTAssertEqual(bits, first, "\(name) on \(set.name) against scalar")
                } else {
                    first = bits
                }
            }
        }
    }

    func testEveryValueIsWithinItsBoundOfTheTrueOne() {
        let values = inputs()
        let x = Tensor(shape: [values.count], scalars: values)
        for (name, map, exact, bound) in maps {
            var worst: (ulps: Double, at: Float) = (0, 0)
            for (input, got) in zip(values, map(x).scalars) {
                let want = exact(Double(input))
                if want.isNaN {
                    XCTAssertTrue(got.isNaN, "\(name)(\(input)) = \(got), not NaN")
                    continue
                }
                let nearest = Float(want)
                if got == nearest { continue }
                let ulp = Double(nearest.isInfinite ? .greatestFiniteMagnitude.ulp : max(nearest.ulp, got.ulp))
                let ulps = abs(Double(got) - want) / ulp
                if ulps > worst.ulps { worst = (ulps, input) }
            }
            XCTAssertLessThanOrEqual(worst.ulps, bound, "\(name) at \(worst.at)")
        }
        // Saturation: log(1 + e^-200) rounds to 0.
        let special = Tensor(shape: [3], scalars: [-0.0, 200, -200])
        XCTAssertEqual(special.softplus().scalars, [Float(Foundation.log(2.0)), 200, 0])
    }

    /// tanh gives the bits of the C library's tanhf for every one of the 2³² floats (NaNs as NaN),
    /// where the C library's tanhf is fdlibm's: glibc before 2.41. The lessons' seeded
    /// trajectories, tested against numbers recorded when tanh ran on tanhf, depend on it.
    func testTanhIsTheCLibrarysForEveryFloat() throws {
        var text = [CChar](repeating: 0, count: 64)  // "glibc 2.36"
        _ = confstr(Int32(_CS_GNU_LIBC_VERSION), &text, text.count)
        let version = String(cString: text).split(separator: " ").last.map { $0.split(separator: ".").compactMap { Int($0) } } ?? []
        try XCTSkipUnless(version.count >= 2 && version[0] == 2 && version[1] <= 40,
                          "glibc \(version) computes tanhf by another method")
        let chunk = 1 << 22, chunks = (1 << 32) / chunk
        let mismatches = UnsafeMutablePointer<Int>.allocate(capacity: chunks)
        defer { mismatches.deallocate() }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let x = (0..<chunk).map { Float(bitPattern: UInt32(c * chunk + $0)) }
            let y = Tensor(shape: [chunk], scalars: x).tanh().scalars
            var bad = 0
            for i in 0..<chunk {
                let want = tanhf(x[i])
                if y[i].bitPattern != want.bitPattern && !(y[i].isNaN && want.isNaN) { bad += 1 }
            }
            mismatches[c] = bad
        }
        let total = (0..<chunks).reduce(0) { $0 + mismatches[$1] }
        XCTAssertEqual(total, 0, "floats whose tanh differs from tanhf's")
    }

    /// sigmoid gives, for every one of the 2³² floats (NaNs as NaN), the bits of 1 / (1 + e⁻ˣ) for
    /// x ≥ 0 and e / (1 + e), e = eˣ, below on the C library's expf, where that expf is glibc's
    /// method of 2.27 on in its build with fused multiply–adds (the one it runs on a CPU with AVX2).
    /// The lessons' seeded trajectories, tested against numbers recorded when the sigmoid ran on
    /// expf, depend on it. Every float on the CPU's widest instruction set, every 61st on the others.
    func testSigmoidIsTheCLibrarysExpfFormulasForEveryFloat() throws {
        var text = [CChar](repeating: 0, count: 64)  // "glibc 2.36"
        _ = confstr(Int32(_CS_GNU_LIBC_VERSION), &text, text.count)
        let version = String(cString: text).split(separator: " ").last.map { $0.split(separator: ".").compactMap { Int($0) } } ?? []
        try XCTSkipUnless(version.count >= 2 && (version[0], version[1]) >= (2, 27), "glibc \(version) computes expf by another method")
        let sets = processorFeatures().portableInstructionSets
        try XCTSkipUnless(sets.contains { $0 != .scalar }, "glibc runs expf without fused multiply–adds on this CPU")
        let chunk = 1 << 22, chunks = (1 << 32) / chunk
        for set in sets.reversed() {
            setPortableInstructionSet(set)
            let stride = set == sets.last! ? 1 : 61
            let mismatches = UnsafeMutablePointer<Int>.allocate(capacity: chunks)
            defer { mismatches.deallocate() }
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let x = Swift.stride(from: 0, to: chunk, by: stride).map { Float(bitPattern: UInt32(c * chunk + $0)) }
                let y = Tensor(shape: [x.count], scalars: x).sigmoid().scalars
                var bad = 0
                for i in x.indices {
                    let want = sigmoidOnExpf(x[i])
                    if y[i].bitPattern != want.bitPattern && !(y[i].isNaN && want.isNaN) { bad += 1 }
                }
                mismatches[c] = bad
            }
            let total = (0..<chunks).reduce(0) { $0 + mismatches[$1] }
            XCTAssertEqual(total, 0, "floats whose sigmoid on \(set.name) differs from the formulas on expf")
        }
    }

    /// LeakyReLU (also in place), its pullback and a matrix's column sums give, on every
    /// instruction set, the bits of their loops written out one element at a time in Swift
    /// (signed zeros, infinities and NaNs among the inputs; column counts that use every width).
    func testLeakyReluItsPullbackAndColumnSumsAreTheWrittenLoopsOnEveryInstructionSet() {
        let values = inputs()
        var random = RandomSource(seed: 13)
        let x = Tensor(shape: [values.count], scalars: values)
        let g = Tensor.normal(shape: [values.count], std: 1, using: &random)
        let matrices = [[256, 16], [64, 256], [37, 87], [5, 1], [1, 3], [3, 85], [64, 1024]].map { Tensor.normal(shape: $0, std: 2, using: &random) }
        for set in processorFeatures().portableInstructionSets {
            setPortableInstructionSet(set)
            for slope: Float in [0.2, 0] {
                let want = values.map { $0 > 0 ? $0 : slope * $0 }
                XCTAssertEqual(x.leakyRelu(slope: slope).scalars.map(\.bitPattern), want.map(\.bitPattern), "\(set.name) \(slope)")
                var inPlace = x + 0  // a copy of its own
                inPlace.applyLeakyRelu(slope: slope)
                XCTAssertEqual(inPlace.scalars.map(\.bitPattern), want.map(\.bitPattern), "\(set.name) \(slope) in place")
                let pullback = zip(g.scalars, values).map { $1 > 0 ? $0 : slope * $0 }
                XCTAssertEqual(g.scaledBySign(of: x, negativeSlope: slope).scalars.map(\.bitPattern), pullback.map(\.bitPattern),
                               "\(set.name) \(slope) pullback")
            }
            for matrix in matrices {
                let (rows, columns) = (matrix.shape[0], matrix.shape[1]), m = matrix.scalars
                let want = (0..<columns).map { c -> Float in
                    var acc: Float = 0
                    for r in 0..<rows { acc += m[r * columns + c] }
                    return acc
                }
                XCTAssertEqual(matrix.channelSums().scalars.map(\.bitPattern), want.map(\.bitPattern), "\(set.name) \(matrix.shape)")
                // The pullback and its column sums in one pass: the bits of the two kernels.
                var signs = Tensor.normal(shape: matrix.shape, std: 1, using: &random).scalars
                for i in stride(from: 0, to: signs.count, by: 7) { signs[i] = [0, -0.0, .nan, .infinity][i % 4] }
                let sign = Tensor(shape: matrix.shape, scalars: signs)
                for slope: Float in [0.2, 0] {
                    let (scaled, sums) = matrix.scaledBySignAndColumnSums(of: sign, negativeSlope: slope)
                    let separate = matrix.scaledBySign(of: sign, negativeSlope: slope)
                    XCTAssertEqual(scaled.scalars.map(\.bitPattern), separate.scalars.map(\.bitPattern), "\(set.name) \(matrix.shape)")
                    XCTAssertEqual(sums.scalars.map(\.bitPattern), separate.channelSums().scalars.map(\.bitPattern),
                                   "\(set.name) \(matrix.shape) sums")
                }
            }
        }
    }

    /// A uniform tensor is, on every instruction set, the floats of RandomSource.uniform drawn one
    /// after another, and leaves the generator where those draws would.
    func testUniformTensorIsTheGeneratorsDrawsInOrderOnEveryInstructionSet() {
        let ranges: [(Float, Float)] = [(-1, 1), (-50, 50), (0, 0.2), (0, 1), (-3.7, 1e-3)]
        for set in processorFeatures().portableInstructionSets {
            setPortableInstructionSet(set)
            for (seed, count) in [(1, 0), (2, 1), (3, 17), (4, 1_000), (0xFFFF_FFFF_FFFF_FFF0, 4_099)] as [(UInt64, Int)] {
                for (low, high) in ranges {
                    var drawn = RandomSource(seed: seed), reference = drawn
                    let tensor = Tensor.uniform(shape: [count], low: low, high: high, using: &drawn)
                    let want = (0..<count).map { _ in Float(reference.uniform(Double(low), Double(high))) }
                    XCTAssertEqual(tensor.scalars.map(\.bitPattern), want.map(\.bitPattern), "\(set.name) \(count) \(low)…\(high)")
                    XCTAssertEqual(drawn.state, reference.state, "\(set.name) \(count)")
                }
            }
        }
    }

    /// Adam's step gives, on every instruction set, the bits of the update written out one
    /// element at a time in Swift.
    func testAdamStepIsTheWrittenOrderOnEveryInstructionSet() {
        var random = RandomSource(seed: 12)
        let count = 1_037
        let gradient = Tensor.normal(shape: [count], std: 0.3, using: &random).scalars
        let start = (p: Tensor.normal(shape: [count], std: 1, using: &random).scalars,
                     m: Tensor.normal(shape: [count], std: 0.1, using: &random).scalars,
                     v: Tensor.uniform(shape: [count], low: 0, high: 0.2, using: &random).scalars)
        let (b1, b2, stepSize, eps): (Float, Float, Float, Float) = (0.5, 0.999, 3.7e-4, 1e-7)
        var expected = start
        for i in 0..<count {
            let g = gradient[i]
            let mi = b1 * expected.m[i] + (1 - b1) * g, vi = b2 * expected.v[i] + (1 - b2) * g * g
            expected.m[i] = mi
            expected.v[i] = vi
            expected.p[i] -= stepSize * mi / (vi.squareRoot() + eps)
        }
        for set in processorFeatures().portableInstructionSets {
            setPortableInstructionSet(set)
            var (p, m, v) = start
            p.withUnsafeMutableBufferPointer { p in
                m.withUnsafeMutableBufferPointer { m in
                    v.withUnsafeMutableBufferPointer { v in
                        adamStep(parameter: p.baseAddress!, gradient: gradient, firstMoment: m.baseAddress!,
                                 secondMoment: v.baseAddress!, count: count, beta1: b1, beta2: b2, stepSize: stepSize,
                                 epsilon: eps)
                    }
                }
            }
            XCTAssertEqual(p.map(\.bitPattern), expected.p.map(\.bitPattern), set.name)
            XCTAssertEqual(m.map(\.bitPattern), expected.m.map(\.bitPattern), set.name)
            XCTAssertEqual(v.map(\.bitPattern), expected.v.map(\.bitPattern), set.name)
        }
    }

    /// RMSProp's step, with ε inside the square root and outside it, gives on every instruction
    /// set the bits of the update written out one element at a time in Swift.
    func testRMSPropStepIsTheWrittenOrderOnEveryInstructionSet() {
        var random = RandomSource(seed: 14)
        let count = 1_037
        let gradient = Tensor.normal(shape: [count], std: 0.3, using: &random).scalars
        let start = (p: Tensor.normal(shape: [count], std: 1, using: &random).scalars,
                     v: Tensor.uniform(shape: [count], low: 0, high: 0.2, using: &random).scalars)
        let (rho, lr, eps): (Float, Float, Float) = (0.9, 5e-5, 1e-7)
        for inside in [false, true] {
            var expected = start
            for i in 0..<count {
                let g = gradient[i]
                expected.v[i] = rho * expected.v[i] + (1 - rho) * g * g
                expected.p[i] -= inside ? lr * g / (expected.v[i] + eps).squareRoot() : lr * g / (expected.v[i].squareRoot() + eps)
            }
            for set in processorFeatures().portableInstructionSets {
                setPortableInstructionSet(set)
                var (p, v) = start
                p.withUnsafeMutableBufferPointer { p in
                    v.withUnsafeMutableBufferPointer { v in
                        rmsPropStep(parameter: p.baseAddress!, gradient: gradient, meanSquare: v.baseAddress!, count: count,
                                    rho: rho, learningRate: lr, epsilon: eps, epsilonInsideRoot: inside)
                    }
                }
                XCTAssertEqual(p.map(\.bitPattern), expected.p.map(\.bitPattern), "\(set.name), ε inside: \(inside)")
                XCTAssertEqual(v.map(\.bitPattern), expected.v.map(\.bitPattern), "\(set.name), ε inside: \(inside)")
            }
        }
    }

    /// Dropout's mask, forward pass and pullback give, on every instruction set and on one and
    /// two threads, the bits written out in Swift from the stream drawn in order: factor i is
    /// 1/0.7 when 32-bit draw i (low half first) is below 0.7·2³², else 0; y = rectified(x)·factor;
    /// the pullback (g·factor) where x > 0, slope·(g·factor) elsewhere. Odd and even counts, and
    /// more than one slice of pairs.
    func testDropoutIsTheStreamDrawnInOrderOnEveryInstructionSet() {
        var random = RandomSource(seed: 13)
        for count in [1, 2, 37, 40_001] {
            let x = Tensor.uniform(shape: [count], low: -2, high: 2, using: &random)
            let g = Tensor.uniform(shape: [count], low: -1, high: 1, using: &random)
            let stream = random.split()
            var drawn = stream
            var factors: [Float] = []
            let threshold = UInt64(Double(Float(0.7)) * 0x1p32)
            while factors.count < count {
                let bits = drawn.nextBits()
                factors += [bits & 0xFFFF_FFFF, bits >> 32].map { $0 < threshold ? 1 / Float(0.7) : 0 }
            }
            factors = Array(factors.prefix(count))
            let slope: Float = 0.2
            let forward = zip(x.scalars, factors).map { ($0 > 0 ? $0 : slope * $0) * $1 }
            let backward = zip(zip(g.scalars, x.scalars), factors).map { gx, f in gx.1 > 0 ? gx.0 * f : slope * (gx.0 * f) }
            let mask = DropoutMask(rate: 0.3, shape: [count], stream: stream)
            XCTAssertEqual(mask.draws, (count + 1) / 2)
            for set in processorFeatures().portableInstructionSets {
                setPortableInstructionSet(set)
                for threads in [1, 2] {
                    setMatrixThreads(threads)
                    defer { resetMatrixThreads() }
                    let name = "\(count) elements, \(set.name), \(threads) threads"
                    XCTAssertEqual(mask.tensor.scalars.map(\.bitPattern), factors.map(\.bitPattern), name)
                    XCTAssertEqual(x.rectifiedDropout(mask, negativeSlope: slope).scalars.map(\.bitPattern),
                                   forward.map(\.bitPattern), name)
                    XCTAssertEqual(g.scaledBySign(of: x, negativeSlope: slope, times: mask).scalars.map(\.bitPattern),
                                   backward.map(\.bitPattern), name)
                }
            }
        }
    }
}

/// 1 / (1 + e⁻ˣ) for x ≥ 0 and e / (1 + e), e = eˣ, below, on the C library's expf: what
/// `Tensor.sigmoid` gives on a CPU with AVX2 (see testSigmoidIsTheCLibrarysExpfFormulasForEveryFloat).
func sigmoidOnExpf(_ x: Float) -> Float {
    if x >= 0 { return 1 / (1 + expf(-x)) }
    let e = expf(x)
    return e / (1 + e)
}
