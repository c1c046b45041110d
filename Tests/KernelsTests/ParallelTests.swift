import Foundation
import Kernels
import XCTest

final class ParallelTests: XCTestCase {
    struct Failure: Error, Equatable { let job: Int }

    func testEveryJobRunsOnceAndCompletesOneAtATime() throws {
        for threads in [1, 2, 3] {
            var done: [Int] = [], inside = 0, overlapped = false
            try forEachJob(37, threads: threads, { job in job * job }, completed: { job, square in
                inside += 1
                if inside > 1 { overlapped = true }
                XCTAssertEqual(square, job * job)
                done.append(job)
                inside -= 1
            })
            XCTAssertEqual(done.sorted(), Array(0..<37), "threads \(threads)")
            XCTAssertFalse(overlapped, "completions overlapped with \(threads) threads")
            if threads == 1 { XCTAssertEqual(done, Array(0..<37), "one thread runs the jobs in order") }
        }
    }

    /// Jobs side by side run their products on one thread each; the settings come back afterwards.
    func testJobsRunProductsOnOneThreadAndRestoreTheSettings() throws {
        setMatrixThreads(2)
        defer { resetMatrixThreads() }
        var inside: [Int] = []
        try forEachJob(4, threads: 2, { _ in matrixThreads() }, completed: { inside.append($1) })
        XCTAssertEqual(inside, [1, 1, 1, 1])
        XCTAssertEqual(matrixThreads(), 2)
    }

    /// Jobs run on their caller's product kernels, and a job that changes its own (as the judge
    /// does, to score on the portable kernels) leaves the job beside it on the caller's: a sweep's
    /// seeds side by side get the numbers each gets alone.
    func testAJobsChoiceOfKernelsIsItsOwn() throws {
        let changed = DispatchSemaphore(value: 0), looked = DispatchSemaphore(value: 0)
        var seen: [Int: ProductKernels] = [:]
        try withProductKernels(.fastest) {
            try forEachJob(2, threads: 2, { job -> ProductKernels in
                if job == 0 {
                    return withProductKernels(.portable) {
                        changed.signal()
                        _ = looked.wait(timeout: .now() + 5)
                        return productKernels()
                    }
                }
                _ = changed.wait(timeout: .now() + 5)
                defer { looked.signal() }
                return productKernels()
            }, completed: { seen[$0] = $1 })
            XCTAssertEqual(productKernels(), .fastest)
        }
        XCTAssertEqual(seen, [0: .portable, 1: .fastest])
    }

    /// Maths-library and vector-maths maps run in slices on two threads and give every element
    /// the value a plain call (or the same map on one thread) gives.
    func testLibraryMapsOnTwoThreadsMatchPlainCalls() {
        var random = RandomSource(seed: 4)
        let x = Tensor.uniform(shape: [80_003], low: -6, high: 6, using: &random)
        let positive = x.absolute() + 0.01
        let maps: [(String, (Tensor) -> Tensor)] = [("softplus", { $0.softplus() }), ("tanh", { $0.tanh() })]
        let oneThread = maps.map { $1(x) }
        setMatrixThreads(2)
        defer { resetMatrixThreads() }
        for ((name, map), single) in zip(maps, oneThread) {
            XCTAssertEqual(map(x).scalars.map(\.bitPattern), single.scalars.map(\.bitPattern), name)
        }
        let cases: [(String, Tensor, Tensor, (Float) -> Float)] = [
            ("exp", x.exp(), x, expf), ("log", positive.log(), positive, logf),
            ("sigmoid", x.sigmoid(), x, sigmoidOnExpf),
            ("pow", positive.raised(toPower: 1.5), positive, { powf($0, 1.5) }),
        ]
        for (name, result, input, plain) in cases {
            XCTAssertEqual(result.shape, input.shape, name)
            XCTAssertEqual(zip(result.scalars, input.scalars).filter { $0 != plain($1) }.count, 0, name)
        }
    }

    /// A fraction counted is the mean of its 0/1 mask, bit for bit (the metrics' accuracies).
    func testFractionIsTheMeanOfItsMask() {
        var random = RandomSource(seed: 9)
        for count in [0, 1, 3, 256, 1_000] {
            let x = Tensor.uniform(shape: [count], low: -1, high: 1, using: &random)
            for threshold: Float in [-2, -0.3, 0, 0.5, 2] {
                XCTAssertEqual(x.fraction { $0 > threshold }.bitPattern, x.mask { $0 > threshold }.mean().bitPattern, "\(count) \(threshold)")
            }
        }
        XCTAssertEqual(Tensor(shape: [4], scalars: [.nan, 1, -1, 2]).fraction { $0 > 0 }, 0.5)
    }

    /// Batch normalisation cut into blocks of channels on two and three threads gives the bits of
    /// one thread: output, statistics and all three gradients, for dense activations and planes.
    func testBatchNormOnSeveralThreadsMatchesOneThread() {
        var random = RandomSource(seed: 6)
        for shape in [[64, 1040], [16, 64, 7, 7], [64, 40]] {
            let x = Tensor.uniform(shape: shape, low: -3, high: 3, using: &random)
            let upstream = Tensor.uniform(shape: shape, low: -1, high: 1, using: &random)
            let gamma = Tensor.uniform(shape: [shape[1]], low: 0.5, high: 1.5, using: &random)
            let beta = Tensor.uniform(shape: [shape[1]], low: -1, high: 1, using: &random)
            func run() -> [[UInt32]] {
                let (y, statistics) = x.batchNormalized(scale: gamma, shift: beta, epsilon: 1e-3)
                let (dx, dgamma, dbeta) = upstream.batchNormGradients(input: x, scale: gamma, statistics: statistics)
                return [y, statistics.mean, statistics.variance, statistics.inverseDeviation, dx, dgamma, dbeta].map { $0.scalars.map(\.bitPattern) }
            }
            let one = run()
            for threads in [2, 3] {
                setMatrixThreads(threads)
                XCTAssertEqual(run(), one, "\(shape) on \(threads) threads")
                resetMatrixThreads()
            }
        }
    }


    /// Batch normalisation's sums over planes run several channels' chains side by side (dense
    /// rows: channels side by side in vectors); every number is still the one channel-by-channel
    /// loops give (each plane summed in Float in order, the samples' sums added in Double), to the
    /// bit, on every instruction set: output, statistics and gradients, with channel counts that
    /// are and are not a multiple of eight.
    func testBatchNormMatchesChannelByChannelChains() {
        var random = RandomSource(seed: 10)
        defer { setPortableInstructionSet(processorFeatures().portableInstructionSets.last!) }
        for shape in [[3, 8, 5, 7], [4, 7, 3, 3], [2, 19, 4, 3], [5, 6], [3, 37]] {
            let x = Tensor.uniform(shape: shape, low: -3, high: 3, using: &random)
            let g = Tensor.uniform(shape: shape, low: -1, high: 1, using: &random)
            let gamma = Tensor.uniform(shape: [shape[1]], low: 0.5, high: 1.5, using: &random)
            let beta = Tensor.uniform(shape: [shape[1]], low: -1, high: 1, using: &random)
            let (batch, channels) = (shape[0], shape[1]), plane = x.count / (shape[0] * shape[1])
            let (xs, gs, gammas, betas) = (x.scalars, g.scalars, gamma.scalars, beta.scalars)
            let epsilon: Float = 1e-3
            func channelSum(_ values: [Float], _ c: Int, _ f: (Float, Int) -> Float) -> Double {
                var sum: Double = 0
                for n in 0..<batch {
                    var acc: Float = 0
                    for p in 0..<plane { acc += f(values[(n * channels + c) * plane + p], (n * channels + c) * plane + p) }
                    sum += Double(acc)
                }
                return sum
            }
            let count = Double(batch * plane)
            var expected = (y: xs, mean: [Float](), variance: [Float](), dx: xs, dgamma: [Float](), dbeta: [Float]())
            for c in 0..<channels {
                let mean = Float(channelSum(xs, c) { v, _ in v } / count)
                let variance = Float(channelSum(xs, c) { v, _ in (v - mean) * (v - mean) } / count)
                let inverse = 1 / (variance + epsilon).squareRoot()
                let a = gammas[c] * inverse, b = betas[c] - mean * a
                let biasSum = channelSum(gs, c) { v, _ in v }
                var scaleSum: Double = 0
                for n in 0..<batch {
                    var acc: Float = 0
                    for p in 0..<plane {
                        let i = (n * channels + c) * plane + p
                        acc += plane == 1 ? 0 + gs[i] * (xs[i] - mean) : gs[i] * (xs[i] - mean)
                    }
                    scaleSum += Double(acc * inverse)
                }
                let k = gammas[c] * inverse, total = Float(count)
                let bx = -k * Float(scaleSum) * inverse / total, d = -k * Float(biasSum) / total - bx * mean
                for n in 0..<batch {
                    for p in 0..<plane {
                        let i = (n * channels + c) * plane + p
                        expected.y[i] = xs[i] * a + b
                        expected.dx[i] = gs[i] * k + xs[i] * bx + d
                    }
                }
                expected.mean.append(mean)
                expected.variance.append(variance)
                expected.dgamma.append(Float(scaleSum))
                expected.dbeta.append(Float(biasSum))
            }
            let wanted = [expected.y, expected.mean, expected.variance, expected.dx, expected.dgamma, expected.dbeta].map { $0.map(\.bitPattern) }
            for set in processorFeatures().portableInstructionSets {
                setPortableInstructionSet(set)
                let (y, statistics) = x.batchNormalized(scale: gamma, shift: beta, epsilon: epsilon)
                let (dx, dgamma, dbeta) = g.batchNormGradients(input: x, scale: gamma, statistics: statistics)
                let got = [y, statistics.mean, statistics.variance, dx, dgamma, dbeta].map { $0.scalars.map(\.bitPattern) }
                for (index, (a, b)) in zip(got, wanted).enumerated() { XCTAssertEqual(a, b, "\(shape) on \(set.name): result \(index)") }
            }
        }
    }

    /// The plain loops that split image-sized tensors over the lab's threads (LeakyReLU and its
    /// pullback, products, in-place sums, channel sums and biases) give, on one, two and three
    /// threads, the bits of the same operation written element by element; a small tensor too.
    func testSplitPlainLoopsMatchElementByElement() {
        var random = RandomSource(seed: 9)
        for shape in [[7, 67, 29, 31], [64, 1024]] {  // 421,631 elements (three slices), 65,536 (one)
            let x = Tensor.uniform(shape: shape, low: -2, high: 2, using: &random)
            let y = Tensor.uniform(shape: shape, low: -2, high: 2, using: &random)
            let bias = Tensor.uniform(shape: [shape[1]], low: -1, high: 1, using: &random)
            let (a, b, beta) = (x.scalars, y.scalars, bias.scalars)
            let plane = x.count / (shape[0] * shape[1])
            var sums = [Float](repeating: 0, count: shape[1])
            for n in 0..<shape[0] {
                for c in 0..<shape[1] {
                    var acc: Float = 0
                    for p in 0..<plane { acc += a[(n * shape[1] + c) * plane + p] }
                    sums[c] += acc
                }
            }
            let expected: [[Float]] = [
                a.map { $0 > 0 ? $0 : 0.2 * $0 }, zip(b, a).map { $1 > 0 ? $0 : 0.3 * $0 }, zip(a, b).map(*),
                zip(a, b).map(+), sums, a.indices.map { a[$0] + beta[$0 / plane % shape[1]] },
            ]
            for threads in [1, 2, 3] {
                setMatrixThreads(threads)
                var accumulated = x
                accumulated.add(y)
                let results = [x.leakyRelu(slope: 0.2), y.scaledBySign(of: x, negativeSlope: 0.3), x * y, accumulated,
                               x.channelSums(), x.addingChannelBias(bias)]
                resetMatrixThreads()
                for (index, (result, wanted)) in zip(results, expected).enumerated() {
                    XCTAssertEqual(result.scalars.map(\.bitPattern), wanted.map(\.bitPattern), "loop \(index), \(shape), \(threads) threads")
                }
            }
        }
    }
    func testSlicesCoverEveryItemOnce() {
        setMatrixThreads(3)
        defer { resetMatrixThreads() }
        for (count, minimum, expected) in [(1000, 100, 3), (1000, 400, 2), (1000, 1000, 1), (5, 1, 3), (0, 1, 1)] {
            let lock = NSLock()
            var seen = [Int](repeating: 0, count: count), slices = 0
            forEachSlice(count, minimumSlice: minimum) { range in
                lock.lock()
                slices += 1
                for i in range { seen[i] += 1 }
                lock.unlock()
            }
            XCTAssertEqual(slices, expected, "count \(count), minimum \(minimum)")
            XCTAssertTrue(seen.allSatisfy { $0 == 1 })
        }
    }

    /// Job 1 fails at once; every other job takes 2 ms, so without the stop the other thread would
    /// run for two seconds. (With instant jobs, a busy machine could let it finish them all first.)
    func testTheFirstErrorStopsFurtherJobsAndIsRethrown() {
        var completed = 0
        XCTAssertThrowsError(try forEachJob(1000, threads: 2, { job -> Int in
            if job == 1 { throw Failure(job: 1) }
            usleep(2000)
            return job
        }, completed: { _, _ in completed += 1 })) { error in
            XCTAssertEqual(error as? Failure, Failure(job: 1))
        }
        XCTAssertLessThan(completed, 100, "jobs went on starting after the failure")
    }

    /// `parallelFor` runs every index once, at the same time: through the spinning workers, after
    /// they have gone to sleep, with a body that outlasts the caller's spin, nested (the inner
    /// call runs on its caller's thread), and from two threads at once (one gets the workers).
    func testParallelForRunsEveryIndexOnceInEveryWay() {
        @Sendable func check(_ width: Int, pause: UInt32 = 0, pauseFirst: Bool = false, nested: Bool = false, line: UInt = #line) {
            let counts = UnsafeMutablePointer<Int>.allocate(capacity: width * 4)
            counts.initialize(repeating: 0, count: width * 4)
            defer { counts.deallocate() }
            let shared = SharedPointer(base: counts)
            parallelFor(width) { index in
                if pause > 0 && index == (pauseFirst ? 0 : width - 1) { usleep(pause) }
                shared.base[index] += 1
                if nested { parallelFor(3) { inner in shared.base[width + index * 3 + inner] += 1 } }
            }
            XCTAssertEqual(Array(UnsafeBufferPointer(start: counts, count: width)), Array(repeating: 1, count: width), line: line)
            if nested {
                XCTAssertEqual(Array(UnsafeBufferPointer(start: counts + width, count: width * 3)), Array(repeating: 1, count: width * 3), line: line)
            }
        }
        for _ in 0..<2_000 { for width in 0...4 { check(width) } }
        usleep(5_000)  // the workers are asleep now
        check(2)
        check(3, pause: 5_000)  // the caller sleeps until the last worker finishes
        check(6, pause: 5_000, pauseFirst: true)  // the workers claim the indices the busy caller leaves
        check(2, nested: true)
        let group = DispatchGroup()
        for _ in 0..<2 {
            DispatchQueue.global().async(group: group) { for _ in 0..<500 { check(2); check(3) } }
        }
        group.wait()
    }
}
