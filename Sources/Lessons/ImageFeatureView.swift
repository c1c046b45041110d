import Charts
import Foundation
import GAN
import Kernels

/// A 2-D view of a wide last hidden layer of D, fitted on real features: x is D's logit
/// (features · w + b, so x = 0 is D's decision boundary and the axis means the same at every
/// moment of training), y the direction in which the real features spread most across D's
/// decision (their first principal direction with w projected out), centred on the real mean
/// and in standard deviations of the real features along it.
struct DecisionProjection {
    let weight: [Float], bias: Float
    let mean: [Float]
    /// Unit vector orthogonal to `weight`.
    let spread: [Float]
    let scale: Float

    /// Fits the y axis on `real` features [n, d] of a D whose logit is features · weight + bias.
    init(fitting real: Tensor, weight: [Float], bias: Float) {
        let (n, d) = (real.shape[0], real.shape[1])
        precondition(weight.count == d, "D's last layer reads \(weight.count) features, not \(d)")
        self.weight = weight
        self.bias = bias
        let rows = real.scalars
        var mean = [Float](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += rows[i * d + j] } }
        mean = mean.map { $0 / Float(max(n, 1)) }
        self.mean = mean
        let norm = weight.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let unit = norm > 0 ? weight.map { $0 / norm } : weight
        // Centred rows with the decision direction removed.
        var centred = [Float](repeating: 0, count: n * d)
        for i in 0..<n {
            var along: Float = 0
            for j in 0..<d { along += (rows[i * d + j] - mean[j]) * unit[j] }
            for j in 0..<d { centred[i * d + j] = rows[i * d + j] - mean[j] - along * unit[j] }
        }
        // The first principal direction through the n×n Gram matrix (n ≪ d): power iteration.
        let matrix = Tensor(shape: [n, d], scalars: centred)
        let gram = matmul(matrix, matrix, transposeB: true).scalars
        var v = (0..<n).map { 1 + Float($0 % 7) / 7 }
        for _ in 0..<200 {
            var next = [Float](repeating: 0, count: n)
            for i in 0..<n { for k in 0..<n { next[i] += gram[i * n + k] * v[k] } }
            let length = next.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard length > 0 else { break }
            v = next.map { $0 / length }
        }
        var direction = [Float](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { direction[j] += v[i] * centred[i * d + j] } }
        let length = direction.reduce(0) { $0 + $1 * $1 }.squareRoot()
        direction = length > 0 ? direction.map { $0 / length } : direction
        // A sign fixed by the data, not by the iteration: the largest component is positive.
        if let largest = direction.indices.max(by: { abs(direction[$0]) < abs(direction[$1]) }), direction[largest] < 0 {
            direction = direction.map { -$0 }
        }
        spread = direction
        var variance: Float = 0
        for i in 0..<n {
            var y: Float = 0
            for j in 0..<d { y += centred[i * d + j] * direction[j] }
            variance += y * y
        }
        let deviation = (variance / Float(max(n - 1, 1))).squareRoot()
        scale = deviation > 0 ? deviation : 1
    }

    /// The same y axis for a D whose last layer has changed (after a D update): x follows the new logit.
    func withDecision(weight: [Float], bias: Float) -> DecisionProjection {
        DecisionProjection(weight: weight, bias: bias, mean: mean, spread: spread, scale: scale)
    }

    private init(weight: [Float], bias: Float, mean: [Float], spread: [Float], scale: Float) {
        (self.weight, self.bias, self.mean, self.spread, self.scale) = (weight, bias, mean, spread, scale)
    }

    /// Each row's (logit, spread) coordinates.
    func coordinates(_ features: Tensor) -> (xs: [Double], ys: [Double]) {
        let (n, d) = (features.shape[0], features.shape[1])
        let rows = features.scalars
        var xs: [Double] = [], ys: [Double] = []
        for i in 0..<n {
            var x = bias, y: Float = 0
            for j in 0..<d {
                let value = rows[i * d + j]
                x += value * weight[j]
                y += (value - mean[j]) * spread[j]
            }
            xs.append(Double(x))
            ys.append(Double(y / scale))
        }
        return (xs, ys)
    }
}

/// D's feature space on images: real and fake features of D's last hidden layer in the
/// decision projection, with centroids, around single updates (the update's own batch, at most
/// 256 of each) and over training (fixed real images and fixed noise). Measuring never changes
/// training: D is read in inference mode (no dropout drawn) and G's running statistics are restored.
final class ImageFeatureView {
    let run: ImageGAN
    /// Fixed batches every snapshot over training shows.
    let real: Tensor, noise: Tensor
    /// Whether `observe` measures around the next updates.
    var probing = false
    private(set) var lastPairs: [UpdatedNetwork: (before: FeatureSnapshot, after: FeatureSnapshot)] = [:]
    /// For each network: updates observed, and those that brought the two centroids closer.
    private(set) var centroidMoves: [UpdatedNetwork: (observed: Int, closer: Int)] = [:]
    private(set) var sequence: [(label: String, snapshot: FeatureSnapshot)] = []

    static let shownCount = 256

    init(_ run: ImageGAN, random: inout RandomSource) {
        self.run = run
        let count = min(Self.shownCount, run.images.count)
        var indices = Array(0..<run.images.count)
        random.shuffle(&indices)
        real = run.images.subset(Array(indices.prefix(count))).images
        noise = run.trainer.sampleNoise(count: count, using: &random)
    }

    /// The features view needs D to end in one Dense output (its logit).
    static func problems(_ discriminator: String) -> [String] {
        guard let architecture = try? Architecture(parsing: discriminator) else { return [] }
        return architecture.blocks.last?.width == 1 ? []
            : ["views: the features view reads D's last hidden layer before its one logit; this discriminator does not end in \"dense 1\""]
    }

    private func features(_ images: Tensor) -> Tensor {
        let trainer = run.trainer
        return trainer.discriminator.running(in: .inference) { trainer.discriminatorFeatures(images) }
    }

    /// The fakes as the update sees them: G in training mode for G's own update and a joint step,
    /// in the configured mode for D's fakes.
    private func fakes(_ noise: Tensor, for network: UpdatedNetwork) -> Tensor {
        run.generated(noise, mode: network == .discriminator ? run.trainer.configuration.fakesMode : .training)
    }

    /// A snapshot of real and fake features, in `projection` or one fitted on these real features.
    func snapshot(real: Tensor, fakes: Tensor, projection: DecisionProjection? = nil) -> (FeatureSnapshot, DecisionProjection) {
        let realFeatures = features(real), fakeFeatures = features(fakes)
        let decision = run.trainer.discriminatorDecision!
        let projection = projection?.withDecision(weight: decision.weight, bias: decision.bias)
            ?? DecisionProjection(fitting: realFeatures, weight: decision.weight, bias: decision.bias)
        let (realXs, realYs) = projection.coordinates(realFeatures), (fakeXs, fakeYs) = projection.coordinates(fakeFeatures)
        return (FeatureSnapshot(realXs: realXs, realYs: realYs, fakeXs: fakeXs, fakeYs: fakeYs), projection)
    }

    /// Runs one update; when probing, keeps D's features of the update's own batch before and after it.
    func observe(_ network: UpdatedNetwork, real: Tensor, noise: Tensor, _ update: () -> Void) {
        guard probing else { return update() }
        let count = min(Self.shownCount, real.shape[0], noise.shape[0])
        let (real, noise) = (real.sliced(alongAxis: 0, 0..<count), noise.sliced(alongAxis: 0, 0..<count))
        let (before, projection) = snapshot(real: real, fakes: fakes(noise, for: network))
        update()
        let (after, _) = snapshot(real: real, fakes: fakes(noise, for: network), projection: projection)
        lastPairs[network] = (before, after)
        var moves = centroidMoves[network] ?? (0, 0)
        moves.observed += 1
        if let old = centroidDistance(before), let new = centroidDistance(after), new < old { moves.closer += 1 }
        centroidMoves[network] = moves
    }

    /// The fixed batches' features now, kept for the sequence over training.
    func record(_ label: String) {
        sequence.append((label, snapshot(real: real, fakes: run.generated(noise)).0))
    }

    static let xAxis = Axis("D's logit (0: its decision boundary)")
    static let yAxis = Axis("spread of real features across D's decision (s.d.)")

    /// The before/after figure of the last observed update of `network`, if any.
    func pairChart(_ network: UpdatedNetwork, title: String) -> FeatureSpaceChart? {
        guard let pair = lastPairs[network] else { return nil }
        return FeatureSpaceChart(title: title, x: Self.xAxis, y: Self.yAxis, before: pair.before, after: pair.after,
                                 beforeTitle: "before the \(network.name) update", afterTitle: "after it", boundaryX: 0)
    }

    /// The before/after figures of the updates observed since `clear`, in the order D, G, joint, with
    /// a line for the terminal each.
    func pairFigures(title: (UpdatedNetwork) -> String) -> [(network: UpdatedNetwork, chart: FeatureSpaceChart, line: String)] {
        [UpdatedNetwork.discriminator, .generator, .both].compactMap { network in
            pairChart(network, title: title(network)).map { (network, $0, centroidLine(network.name, $0.before, $0.after)) }
        }
    }

    /// Forgets the pairs observed so far (a snapshot draws only those since the last).
    func clear() { lastPairs = [:] }

    /// What the view has gathered over training that its final figure and numbers need.
    struct History: Codable {
        var sequence: [Moment]
        /// Updates observed and those that brought the centroids closer, by network letter.
        var moves: [String: [Int]]

        struct Moment: Codable {
            var label: String
            var snapshot: FeatureSnapshot
        }
    }

    var history: History {
        History(sequence: sequence.map { History.Moment(label: $0.label, snapshot: $0.snapshot) },
                moves: Dictionary(uniqueKeysWithValues: centroidMoves.map { ($0.key.letter, [$0.value.observed, $0.value.closer]) }))
    }

    /// Continues from a stopped run's history.
    func restore(_ history: History) {
        sequence = history.sequence.map { ($0.label, $0.snapshot) }
        centroidMoves = [:]
        for network in [UpdatedNetwork.discriminator, .generator, .both] {
            if let counts = history.moves[network.letter], counts.count == 2 { centroidMoves[network] = (counts[0], counts[1]) }
        }
    }

    /// The fixed images' features at up to six moments of training, on one scale.
    func sequenceChart() -> SmallMultiplesChart {
        let panels = evenlyChosen(sequence, count: 6).map { moment -> any Chart in
            featureScatter(moment.snapshot, title: moment.label, x: Axis("D's logit"), y: Axis("real spread (s.d.)"))
        }
        return SmallMultiplesChart(title: "What the discriminator sees: its last hidden layer of the same \(real.shape[0]) real and "
                                   + "\(noise.shape[0]) generated images over training, by D's logit (0: its boundary) and the real "
                                   + "images' spread across it (generated ones from fixed noise, G in inference mode)",
                                   panels: panels, shareAxes: true)
    }
}

extension UpdatedNetwork {
    /// How a learner reads it.
    var name: String {
        switch self {
        case .discriminator: return "discriminator"
        case .generator: return "generator"
        case .both: return "joint"
        }
    }

    /// How figure names say it.
    var letter: String {
        switch self {
        case .discriminator: return "d"
        case .generator: return "g"
        case .both: return "joint"
        }
    }
}

/// Real and generated features of one moment with their centroids.
func featureScatter(_ snapshot: FeatureSnapshot, title: String, x: Axis, y: Axis) -> ScatterChart {
    var series = [ScatterSeries(name: "real", xs: snapshot.realXs, ys: snapshot.realYs, color: Theme.real, pointSize: 3, alpha: 0.5),
                  ScatterSeries(name: "generated", xs: snapshot.fakeXs, ys: snapshot.fakeYs, color: Theme.fake, pointSize: 3, alpha: 0.5)]
    if let real = snapshot.realCentroid, let fake = snapshot.fakeCentroid {
        series.append(ScatterSeries(name: "real centroid", xs: [real.x], ys: [real.y], color: Theme.real, pointSize: 12,
                                    alpha: 1, shape: .diamond))
        series.append(ScatterSeries(name: "generated centroid", xs: [fake.x], ys: [fake.y], color: Theme.fake, pointSize: 12,
                                    alpha: 1, shape: .diamond))
    }
    return ScatterChart(title: title, x: x, y: y, series: series)
}
