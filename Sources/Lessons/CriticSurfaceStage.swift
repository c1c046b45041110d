import Autodiff
import Charts
import Data
import Foundation
import GAN
import Kernels
import NN

/// The WGAN-GP paper's first figure: value surfaces of two critics trained against the same fixed
/// "generator" (the real data plus Gaussian noise), one with weight clipping, one with a gradient
/// penalty; with the input-gradient norms and the share of clipped weights that explain them.
enum CriticSurfaceStage: StageKind {
    static let name = "critic-surface"
    static let settings = mixtureSettings + trainingSettings.filter { ["learning-rate", "batch-size", "clip", "penalty-weight"].contains($0.name) } + [
        SettingSpec("critic", .architecture, "2 -> 128 relu -> 128 relu -> 128 relu -> 1"),
        SettingSpec("steps", .integer(1...10_000_000), "3000"),
        SettingSpec("fake-noise", .number(0...10), "0.25"),
        SettingSpec("resolution", .integer(8...400), "80"),
    ]

    static func crossCheck(_ settings: StageSettings) -> [String] {
        guard let critic = try? Architecture(parsing: settings.text("critic")) else { return [] }
        return critic.inputSize == 2 && critic.outputSize == 1 ? [] : ["the critic must read 2 numbers and end in 1 value"]
    }

    struct Critic {
        let title: String
        let network: Sequential
        var meanGradientNorm = 0.0
        var clippedShare = 0.0
    }

    static func run(_ context: StageContext) throws -> StageOutcome {
        let settings = context.settings, console = context.console
        let architecture = try Architecture(parsing: settings.text("critic"))
        let steps = context.quick ? min(settings.integer("steps"), 20) : settings.integer("steps")
        let batch = settings.integer("batch-size"), clip = Float(settings.number("clip"))
        let weight = Float(settings.number("penalty-weight")), rate = Float(settings.number("learning-rate"))
        var panels: [any Chart] = [], metrics: [String: Double] = [:]
        var random = context.random
        for mixtureName in ["ring", "grid"] {
            let base = mixtureName == "grid" ? GaussianMixture.grid(std: settings.number("mixture-std"))
                : GaussianMixture.ring(std: settings.number("mixture-std"))
            let spacing = mixtureName == "grid" ? 2.0 : 2 * sin(Double.pi / 8)
            let fakeStd = sqrt(base.std * base.std + pow(settings.number("fake-noise") * spacing, 2))
            let fixedGenerator = GaussianMixture(means: base.means, std: fakeStd)  // the real data plus Gaussian noise
            console.line("  \(mixtureName): real σ = \(fmt(base.std)); fixed generator = real + N(0, \(fixed(fakeStd, 2))²); \(steps) critic steps each (Adam \(settings.text("learning-rate")))")
            var critics = [Critic(title: "weight clipping ±\(fmt(Double(clip)))", network: architecture.build(using: &random)),
                           Critic(title: "gradient penalty λ = \(fmt(Double(weight)))", network: architecture.build(using: &random))]
            for index in critics.indices {
                let network = critics[index].network
                let clipping = index == 0
                // The same optimizer for both: only the constraint differs. The "generator" is the
                // fixed distribution, so the critic trains by the lab's one D step on given fakes.
                var configuration = GANConfiguration()
                configuration.loss = clipping ? .wasserstein(clip: clip) : .wassersteinGradientPenalty(weight: weight)
                (configuration.discriminatorOptimizer.learningRate, configuration.discriminatorOptimizer.convention) = (rate, .pytorch)
                (configuration.discriminatorOptimizer.beta1, configuration.discriminatorOptimizer.beta2) = (0.5, 0.9)
                let trainer = GANTrainer(generator: Sequential([]), discriminator: network, latentSize: 2, configuration: configuration)
                var ignored = StepMetrics()
                for _ in 0..<steps {
                    let real = base.sample(count: batch, using: &random), fake = fixedGenerator.sample(count: batch, using: &random)
                    trainer.discriminatorStep(real: real, fake: fake, into: &ignored, using: &random)
                }
                let real = base.sample(count: 512, using: &random), fake = fixedGenerator.sample(count: 512, using: &random)
                let mixing = Tensor.uniform(shape: [512, 1], low: 0, high: 1, using: &random)
                critics[index].meanGradientNorm = meanGradientNorm(network, at: real * mixing + fake * mixing.mapped { 1 - $0 })
                let values = network.parameters.flatMap { $0.value.scalars }
                critics[index].clippedShare = clipping ? Double(values.filter { abs($0) >= clip * 0.999 }.count) / Double(values.count) : 0
                let key = "\(mixtureName)_\(clipping ? "clip" : "penalty")"
                metrics[key + "_gradient_norm"] = critics[index].meanGradientNorm
                if clipping { metrics[key + "_weights_at_limit"] = critics[index].clippedShare }
                console.line("    \(critics[index].title.padding(toLength: 28, withPad: " ", startingAt: 0)) mean ‖∇D(x̂)‖ = "
                    + fixed(critics[index].meanGradientNorm, 3) + (clipping ? ", \(fixed(100 * critics[index].clippedShare, 0)) % of weights at ±\(fmt(Double(clip)))" : ""))
                panels.append(surface(critics[index], mixture: base, fixedGenerator: fixedGenerator, mixtureName: mixtureName,
                                      resolution: context.quick ? 20 : settings.integer("resolution"), random: &random))
            }
        }
        let figure = try context.write(SmallMultiplesChart(
            title: "Critic value surfaces for a fixed generator (real + noise): weight clipping vs gradient penalty",
            panels: panels, columns: 2, shareAxes: false, shareLegend: false), name: "critic-surfaces")
        return StageOutcome(figures: [figure], metrics: metrics)
    }

    /// Mean over rows of ‖∇ₓ D(x)‖₂.
    static func meanGradientNorm(_ network: Sequential, at points: Tensor) -> Double {
        let input = Variable.leaf(points)
        let gradient = gradients(of: network(input).sum(), at: [input])[0]
        let n = points.shape[0], g = gradient.scalars
        var total = 0.0
        for row in 0..<n {
            let (a, b) = (Double(g[2 * row]), Double(g[2 * row + 1]))
            total += (a * a + b * b).squareRoot()
        }
        return total / Double(n)
    }

    /// The critic's values on a grid over the mixture's square, rescaled to 0…1 for colour.
    static func surface(_ critic: Critic, mixture: GaussianMixture, fixedGenerator: GaussianMixture, mixtureName: String,
                        resolution: Int, random: inout RandomSource) -> HeatmapChart {
        let axes = mixture.axes, step = (axes.upperBound - axes.lowerBound) / Double(resolution - 1)
        var grid = Tensor(uninitializedShape: [resolution * resolution, 2])
        for row in 0..<resolution {
            for column in 0..<resolution {
                grid[2 * (row * resolution + column)] = Float(axes.lowerBound + Double(column) * step)
                grid[2 * (row * resolution + column) + 1] = Float(axes.lowerBound + Double(row) * step)
            }
        }
        let values = withoutGradients { critic.network(Variable(grid)).value.scalars.map(Double.init) }
        let low = values.min() ?? 0, high = values.max() ?? 1
        let scaled = values.map { ($0 - low) / max(high - low, 1e-12) }
        let real = coordinates(mixture.sample(count: 150, using: &random))
        let fake = coordinates(fixedGenerator.sample(count: 150, using: &random))
        return HeatmapChart(title: "\(mixtureName): \(critic.title)", x: Axis("x₁", domain: axes), y: Axis("x₂", domain: axes),
                            values: scaled, rows: resolution, columns: resolution, gridX: axes, gridY: axes, colorMap: .viridis,
                            valueRange: 0...1, colorBarLabel: "critic value (min→max)", contourLevel: nil,
                            points: [ScatterSeries(name: "real", xs: real.xs, ys: real.ys, color: Theme.real, pointSize: 2.5, alpha: 0.9),
                                     ScatterSeries(name: "fixed generator", xs: fake.xs, ys: fake.ys, color: Theme.fake, pointSize: 1.5, alpha: 0.6)],
                            equalAspect: true)
    }
}
