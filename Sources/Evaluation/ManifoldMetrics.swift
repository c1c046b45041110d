import Kernels

/// Kynkäänniemi et al. 2019 precision and recall, and Naeem et al. 2020 density and coverage, with
/// k-nearest-neighbour balls in feature space.
///
/// Each real sample's ball reaches its k-th nearest other real sample, each fake sample's its k-th
/// nearest other fake (a sample is not its own neighbour, as in the papers); balls are closed.
/// - precision: the share of fakes inside at least one real ball (are the fakes realistic?);
/// - recall: the share of reals inside at least one fake ball (is the real data's variety covered?);
/// - density: the real balls holding each fake, summed over fakes and divided by k·fakeCount
///   (1 on average for fakes drawn like the reals; above 1 where fakes crowd dense real regions);
/// - coverage: the share of reals whose own ball holds at least one fake (recall that outlying
///   fakes cannot inflate).
public struct ManifoldMetrics: Codable {
    public let precision: Double, recall: Double, density: Double, coverage: Double
    public let k: Int, realCount: Int, fakeCount: Int
}

/// The manifold metrics of `fake` [m, d] against `real` [n, d], with k < n and k < m.
///
/// Squared distances come blockwise from the lab's matrix product, ‖a‖² + ‖b‖² − 2a·b (clamped at 0,
/// after centring both sets on the real mean, which moves no distance and shrinks the rounding):
/// three passes, reals against reals, fakes against fakes and fakes against reals, each a block of
/// rows against every column at a time, at most 2²⁴ distances (64 MB) a block.
public func manifoldMetrics(real: Tensor, fake: Tensor, k: Int = 3) -> ManifoldMetrics {
    manifoldMetrics(real: real, fake: fake, k: k, blockDistances: 1 << 24)
}

func manifoldMetrics(real: Tensor, fake: Tensor, k: Int, blockDistances: Int) -> ManifoldMetrics {
    precondition(real.rank == 2 && fake.rank == 2 && real.shape[1] == fake.shape[1],
                 "real and fake features must be [n, d] and [m, d], got \(real.shape) and \(fake.shape)")
    let n = real.shape[0], m = fake.shape[0]
    precondition(k >= 1 && k < n && k < m, "k = \(k) needs more than k real and fake samples, got \(n) and \(m)")
    let centre = columnMeans(real)
    let (realRows, fakeRows) = (centred(real, centre), centred(fake, centre))
    let realRadii = kthNeighbourSquaredDistances(realRows, k: k, blockDistances: blockDistances)
    let fakeRadii = kthNeighbourSquaredDistances(fakeRows, k: k, blockDistances: blockDistances)

    // Fakes as rows, reals as columns. Per fake: the real balls holding it (density, precision);
    // per real, kept per part and merged after (min and "or" are exact in any order): its nearest
    // fake (coverage) and whether a fake ball holds it (recall).
    let parts = matrixThreads()
    var realBallsHoldingFake = [Int](repeating: 0, count: m)
    var nearestFake = [Float](repeating: .infinity, count: parts * n)
    var insideFakeBall = [Bool](repeating: false, count: parts * n)
    realBallsHoldingFake.withUnsafeMutableBufferPointer { holdingCounts in
        nearestFake.withUnsafeMutableBufferPointer { nearestFake in
            insideFakeBall.withUnsafeMutableBufferPointer { insideFakeBall in
                forEachDistanceBlock(fakeRows, realRows, blockDistances: blockDistances, parts: parts) { part, rows, distances in
                    let nearest = nearestFake.baseAddress! + part * n, inside = insideFakeBall.baseAddress! + part * n
                    for (offset, j) in rows.enumerated() {
                        let row = distances + offset * n, fakeRadius = fakeRadii[j]
                        var holding = 0
                        for i in 0..<n {
                            let distance = row[i]
                            if distance <= realRadii[i] { holding += 1 }
                            if distance < nearest[i] { nearest[i] = distance }
                            if distance <= fakeRadius { inside[i] = true }
                        }
                        holdingCounts[j] = holding
                    }
                }
            }
        }
    }
    let covered = (0..<n).filter { i in (0..<parts).contains { nearestFake[$0 * n + i] <= realRadii[i] } }.count
    let recalled = (0..<n).filter { i in (0..<parts).contains { insideFakeBall[$0 * n + i] } }.count
    return ManifoldMetrics(
        precision: Double(realBallsHoldingFake.filter { $0 > 0 }.count) / Double(m),
        recall: Double(recalled) / Double(n),
        density: Double(realBallsHoldingFake.reduce(0, +)) / Double(k * m),
        coverage: Double(covered) / Double(n),
        k: k, realCount: n, fakeCount: m)
}

/// The squared distance from each row of `rows` [n, d] to its k-th nearest other row.
func kthNeighbourSquaredDistances(_ rows: Tensor, k: Int, blockDistances: Int) -> [Float] {
    let n = rows.shape[0]
    var radii = [Float](repeating: 0, count: n)
    radii.withUnsafeMutableBufferPointer { radii in
        forEachDistanceBlock(rows, rows, blockDistances: blockDistances, parts: matrixThreads()) { _, block, distances in
            var nearest = [Float](repeating: 0, count: k)  // ascending
            for (offset, i) in block.enumerated() {
                let row = distances + offset * n
                for slot in 0..<k { nearest[slot] = .infinity }
                for j in 0..<n where j != i && row[j] < nearest[k - 1] {
                    var slot = k - 1
                    while slot > 0 && nearest[slot - 1] > row[j] {
                        nearest[slot] = nearest[slot - 1]
                        slot -= 1
                    }
                    nearest[slot] = row[j]
                }
                radii[i] = nearest[k - 1]
            }
        }
    }
    return radii
}

/// Calls `body(part, rows, distances)` for consecutive blocks of the rows of `a` [p, d], with
/// distances[r·q + j] = max(0, ‖a_{rows[r]}‖² + ‖b_j‖² − 2·a_{rows[r]}·b_j) against every row of
/// `b` [q, d]. Blocks hold about `blockDistances` distances and start at multiples of 12 rows,
/// so the products give the same bits whatever the thread count (see `gemm`); each block's rows
/// are cut into `parts` runs that run side by side, `part` telling them apart.
func forEachDistanceBlock(_ a: Tensor, _ b: Tensor, blockDistances: Int, parts: Int,
                          _ body: (Int, Range<Int>, UnsafeMutablePointer<Float>) -> Void) {
    let p = a.shape[0], q = b.shape[0]
    let (aNorms, bNorms) = (squaredRowNorms(a), squaredRowNorms(b))
    let rowsPerBlock = max(12, blockDistances / max(q, 1) / 12 * 12)
    for start in stride(from: 0, to: p, by: rowsPerBlock) {
        let rows = start..<min(p, start + rowsPerBlock)
        var products = matmul(a.sliced(alongAxis: 0, rows), b, transposeB: true)  // [rows, q]: a·b
        products.withUnsafeMutableBufferPointer { products in
            let distances = products.baseAddress!
            forEachSlice(parts, minimumSlice: 1) { slice in
                for part in slice {
                    let run = rows.count * part / parts..<rows.count * (part + 1) / parts
                    for offset in run {
                        let aNorm = aNorms[rows.lowerBound + offset], row = distances + offset * q
                        for j in 0..<q { row[j] = max(0, aNorm + bNorms[j] - 2 * row[j]) }
                    }
                    body(part, rows.lowerBound + run.lowerBound..<rows.lowerBound + run.upperBound, distances + run.lowerBound * q)
                }
            }
        }
    }
}

/// ‖row‖² of each row of [n, d], summed in Double.
private func squaredRowNorms(_ x: Tensor) -> [Float] {
    let n = x.shape[0], d = x.shape[1]
    return x.withUnsafeBufferPointer { x in
        (0..<n).map { row in
            var sum: Double = 0
            for j in 0..<d { sum += Double(x[row * d + j]) * Double(x[row * d + j]) }
            return Float(sum)
        }
    }
}

/// The mean of each column of [n, d], in Double.
private func columnMeans(_ x: Tensor) -> [Double] {
    let n = x.shape[0], d = x.shape[1]
    var means = [Double](repeating: 0, count: d)
    x.withUnsafeBufferPointer { x in
        for row in 0..<n {
            for j in 0..<d { means[j] += Double(x[row * d + j]) }
        }
    }
    return means.map { $0 / Double(n) }
}

/// x − centre, row by row.
private func centred(_ x: Tensor, _ centre: [Double]) -> Tensor {
    let d = x.shape[1]
    var result = Tensor(uninitializedShape: x.shape)
    result.withUnsafeMutableBufferPointer { out in
        x.withUnsafeBufferPointer { x in
            for index in 0..<x.count { out[index] = Float(Double(x[index]) - centre[index % d]) }
        }
    }
    return result
}
