import Charts
import Data
import Foundation
import GAN
import Kernels

/// The settings of the toy lessons' views (read by the train stage).
let viewSettings = [
    SettingSpec("standardize", .choice(["no", "yes"]), "no"),
    SettingSpec("views", .text, "samples"),
    SettingSpec("divergence-every", .integer(1...1_000_000), "16"),
    SettingSpec("divergence-bins", .integer(2...200), "12"),
    SettingSpec("loss-every", .integer(1...1_000_000), "10"),
    SettingSpec("probe-every", .integer(1...1_000_000), "10"),
    SettingSpec("compare-with", .text, "none"),
]

/// The figures a snapshot can draw: `samples` (scatter), `surface` (D(x) as a heatmap with the
/// points and D's push on each fake), `manifold` (the noise grid through G, for 2-D noise),
/// `divergence` (KL and JS over time), `features` (D's 2-D feature layer around single updates),
/// `filmstrip` (every snapshot in one figure), `losses` (losses every `loss-every` steps).
enum ToyView: String, CaseIterable {
    case samples, surface, manifold, divergence, features, filmstrip, losses
}

let viewNames = ToyView.allCases.map(\.rawValue)

func parseViews(_ text: String) -> [String] {
    text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}

func checkViews(_ settings: StageSettings) -> [String] {
    var problems = parseViews(settings.text("views")).filter { !viewNames.contains($0) }
        .map { "unknown view \"\($0)\" (views are \(viewNames.joined(separator: ", ")))" }
    let views = Set(parseViews(settings.text("views")).compactMap(ToyView.init(rawValue:)))
    if views.contains(.manifold), let generator = try? Architecture(parsing: settings.text("generator")), generator.inputSize != 2 {
        problems.append("the manifold view needs 2-D noise (a generator starting \"2 -> …\"), not \(generator.inputSize)-D")
    }
    if views.contains(.features), let discriminator = try? Architecture(parsing: settings.text("discriminator")),
       discriminator.blocks.count < 2 || discriminator.blocks[discriminator.blocks.count - 2].width != 2 {
        problems.append("the features view needs a 2-wide layer before the discriminator's logit (\"… -> 2 -> 1\")")
    }
    return problems + checkSeparateYAxes(settings)
}

/// `axes-y`: "same" (the x range, equal aspect) or an interval of its own.
func separateYAxes(_ settings: StageSettings) -> ClosedRange<Double>? { parseInterval(settings.text("axes-y")) }

func checkSeparateYAxes(_ settings: StageSettings) -> [String] {
    let text = settings.text("axes-y")
    return text == "same" || parseInterval(text) != nil ? [] : ["axes-y: expected \"same\" or an interval such as 0..2600"]
}

/// What a training session draws besides its scatter, and the numbers behind those figures.
/// Views never draw from the session's generator and never record gradients into training:
/// adding a view does not change a single training number.
final class ToyViews {
    let kinds: Set<ToyView>
    let context: StageContext
    let trainer: GANTrainer
    /// The real data the stage trains on.
    let distribution: ToyDistribution
    let xAxes: ClosedRange<Double>
    let yAxes: ClosedRange<Double>?
    /// Set when the networks train on standardised data; figures and metrics are in data units.
    let scaler: Standardizer?
    var random: RandomSource
    private let divergenceReal: Tensor, divergenceNoise: Tensor
    /// The divergence between two independent real samples of the same size: the floor of the estimate.
    private(set) var divergenceFloor: GridDivergence?
    private(set) var divergences: [(step: Int, value: GridDivergence)] = []
    /// Fixed batches whose discriminator features every feature figure shows.
    let featureReal: Tensor, featureNoise: Tensor
    /// Noise for the final generated points that a later stage can compare against.
    let finalNoise: Tensor
    private(set) var lastPairs: [UpdatedNetwork: (before: FeatureSnapshot, after: FeatureSnapshot)] = [:]
    /// For each network: updates observed, and those that brought the two centroids closer.
    private(set) var centroidMoves: [UpdatedNetwork: (observed: Int, closer: Int)] = [:]
    var featureSequence: [(label: String, snapshot: FeatureSnapshot)] = []
    var layeredFrames: [any Chart] = []
    var filmstrip: [(label: String, chart: ScatterChart)] = []
    /// The generated points at the end of training, once `finish` has run.
    var finalSamples: Tensor?
    /// Whether `observe` measures the features around each update (every `probe-every` steps, and in step mode).
    var probing = true

    init(context: StageContext, trainer: GANTrainer) throws {
        self.context = context
        self.trainer = trainer
        let settings = context.settings
        kinds = Set(parseViews(settings.text("views")).compactMap(ToyView.init(rawValue:)))
        (xAxes, yAxes) = try context.plotAxes()
        var random = RandomSource(seed: context.random.state &* 0x2545_F491_4F6C_DD1D &+ 0x7669_6577)
        let distribution = try context.distribution()
        self.distribution = distribution
        scaler = settings.text("standardize") == "yes" ? Standardizer(fitting: distribution.sample(count: 10_000, using: &random)) : nil
        divergenceReal = distribution.sample(count: 2000, using: &random)
        divergenceNoise = trainer.sampleNoise(count: 2000, using: &random)
        featureReal = distribution.sample(count: 256, using: &random)
        featureNoise = trainer.sampleNoise(count: 256, using: &random)
        finalNoise = trainer.sampleNoise(count: 1000, using: &random)
        self.random = random
        if kinds.contains(.divergence) {
            divergenceFloor = divergence(divergenceReal, distribution.sample(count: 2000, using: &self.random))
            divergences.append((0, divergence(divergenceReal, generateShown(divergenceNoise))))
        }
    }

    /// Points in the space the networks work in.
    func modelSpace(_ points: Tensor) -> Tensor { scaler?.standardized(points) ?? points }

    /// G(noise) in data units.
    func generateShown(_ noise: Tensor) -> Tensor {
        let fake = trainer.generate(from: noise)
        return scaler?.restored(fake) ?? fake
    }

    private func divergence(_ real: Tensor, _ fake: Tensor) -> GridDivergence {
        GridDivergence(real: real, fake: fake, xRange: xAxes, yRange: yAxes ?? xAxes,
                       bins: context.settings.integer("divergence-bins"))
    }

    func afterStep(_ step: Int) {
        if kinds.contains(.divergence), step % context.settings.integer("divergence-every") == 0 { recordDivergence(at: step) }
    }

    /// The divergence at the last step, when `divergence-every` did not fall on it (a quick run, or
    /// a step count that is no multiple of it): the end's numbers are the trained generator's,
    /// measured as `afterStep` measures (the training generator, not the averaged one shown).
    func measureDivergence(atLastStep step: Int) {
        guard kinds.contains(.divergence), step > (divergences.last?.step ?? step) else { return }
        recordDivergence(at: step)
    }

    private func recordDivergence(at step: Int) {
        divergences.append((step, divergence(divergenceReal, generateShown(divergenceNoise))))
    }

    /// D's 2-D features of a real batch (in model space) and of G on a noise batch; by default the
    /// fixed batches, so that snapshots compare.
    func features(real: Tensor? = nil, noise: Tensor? = nil) -> FeatureSnapshot {
        let realFeatures = coordinates(trainer.discriminatorFeatures(real ?? modelSpace(featureReal)))
        let fakeFeatures = coordinates(trainer.discriminatorFeatures(trainer.generate(from: noise ?? featureNoise)))
        return FeatureSnapshot(realXs: realFeatures.xs, realYs: realFeatures.ys, fakeXs: fakeFeatures.xs, fakeYs: fakeFeatures.ys)
    }

    /// Runs one update; with the features view, keeps D's features of the update's own batch
    /// (as the tutorial plots them) before and after it.
    func observe(_ network: UpdatedNetwork, real: Tensor, noise: Tensor, _ update: () -> Void) {
        guard kinds.contains(.features), probing, network != .both else { return update() }
        let before = features(real: real, noise: noise)
        update()
        let after = features(real: real, noise: noise)
        lastPairs[network] = (before, after)
        var moves = centroidMoves[network] ?? (0, 0)
        moves.observed += 1
        if let old = centroidDistance(before), let new = centroidDistance(after), new < old { moves.closer += 1 }
        centroidMoves[network] = moves
    }
}

func centroidDistance(_ snapshot: FeatureSnapshot) -> Double? {
    guard let real = snapshot.realCentroid, let fake = snapshot.fakeCentroid else { return nil }
    return ((real.x - fake.x) * (real.x - fake.x) + (real.y - fake.y) * (real.y - fake.y)).squareRoot()
}
