import Foundation

/// A small seeded generator for the gallery's synthetic data (SplitMix64).
struct GalleryRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1), from the top 53 bits.
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// Standard normal by Box–Muller.
    mutating func normal() -> Double {
        let u1 = max(uniform(), 1e-300), u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}

/// Synthetic figures, one per chart kind, named by file.
func galleryCharts() -> [(name: String, chart: any Chart)] {
    var random = GalleryRandom(seed: 42)
    let realX = (0..<600).map { _ in 0.5 * random.normal() }
    let realY = (0..<600).map { _ in 0.5 * random.normal() }
    let fakeX = (0..<600).map { _ in 0.15 * random.normal() + 0.6 }
    let fakeY = (0..<600).map { _ in 0.25 * random.normal() - 0.3 }
    let scatter = ScatterChart(
        title: "Real samples N(0, 0.5²) and generated samples after 20 epochs",
        x: Axis("x₁"), y: Axis("x₂"),
        series: [ScatterSeries(name: "real", xs: realX, ys: realY, color: Theme.real),
                 ScatterSeries(name: "generated", xs: fakeX, ys: fakeY, color: Theme.fake)],
        equalAspect: true)

    let steps = (0..<400).map(Double.init)
    let discriminatorLoss = steps.map { 0.69 + 0.5 * exp(-$0 / 80) + 0.08 * random.normal() }
    let generatorLoss = steps.map { 0.75 + 1.2 * exp(-$0 / 120) + 0.12 * random.normal() }
    let accuracy = steps.map { min(1, max(0, 0.5 + 0.4 * exp(-$0 / 150) + 0.05 * random.normal())) }
    let lines = LineChart(
        title: "Losses and discriminator accuracy",
        x: Axis("training step"), y: Axis("loss"), secondaryY: Axis("accuracy", domain: 0...1),
        series: [LineSeries(name: "discriminator loss", xs: steps, ys: discriminatorLoss, color: Theme.real, smoothing: 15),
                 LineSeries(name: "generator loss", xs: steps, ys: generatorLoss, color: Theme.fake, smoothing: 15),
                 LineSeries(name: "D accuracy", xs: steps, ys: accuracy, color: Theme.palette[1], dashed: true,
                            onSecondaryAxis: true, smoothing: 15)],
        events: [EventMarker(x: 200, label: "learning rate ÷ 10")])

    let logSteps = (1...2000).map(Double.init)
    let logLines = LineChart(
        title: "Wasserstein critic loss (log scale)",
        x: Axis("iteration"), y: Axis("|critic loss|", logScale: true),
        series: [LineSeries(name: "critic", xs: logSteps,
                            ys: logSteps.map { 50 * exp(-$0 / 300) + 0.02 + 0.01 * abs(random.normal()) },
                            color: Theme.palette[3])])

    var charts: [(String, any Chart)] = [("scatter", scatter), ("lines", lines), ("lines-log", logLines)]
    charts += galleryPhaseTwoCharts(random: &random)
    return charts
}

/// Renders every chart kind from synthetic data into `folder`; returns the paths written.
public func renderGallery(to folder: String, format: ImageFormat = .png) throws -> [String] {
    var paths: [String] = []
    for (name, chart) in galleryCharts() {
        let path = folder + "/" + name + "." + format.rawValue
        try render(chart, to: path, options: RenderOptions(format: format))
        paths.append(path)
    }
    paths += try galleryExtras(folder: folder)
    return paths
}
