import Foundation

/// Histogram, bar, image grid and small-multiples figures for the gallery.
func galleryDistributionCharts(random: inout GalleryRandom) -> [(String, any Chart)] {
    let real = (0..<2000).map { _ in 0.5 * random.normal() }
    let fake = (0..<2000).map { _ in 0.12 * random.normal() + 0.1 }
    let histogram = HistogramChart(
        title: "Marginal of x₁: the generator is still far too narrow", x: Axis("x₁", domain: -2...2),
        series: [HistogramSeries(name: "real", values: real, color: Theme.real),
                 HistogramSeries(name: "generated", values: fake, color: Theme.fake)],
        bins: 40, normalized: true)

    let modeCounts: [Double] = [612, 0, 288, 0, 705, 51, 0, 844]
    let bars = BarChart(
        title: "Generated samples nearest each of the 8 modes (2,500 samples)",
        categories: (1...8).map { "mode \($0)" }, y: Axis("samples"),
        series: [BarSeries(name: "high-quality samples", values: modeCounts, color: Theme.fake)],
        idealValue: 2500.0 / 8, idealLabel: "ideal: 2,500 / 8")

    let digits = (0..<16).map { index in galleryDigit(index, random: &random) }
    let grid = ImageGridChart(title: "Samples from 16 fixed noise vectors, epoch 30", images: digits, columns: 4)
    let colourImages = (0..<6).map { index -> GridImage in
        let size = 16
        var pixels = [Float](repeating: 0, count: 3 * size * size)
        for row in 0..<size { for column in 0..<size {
            let offset = row * size + column
            pixels[offset] = Float(column) / Float(size - 1)
            pixels[size * size + offset] = Float(row) / Float(size - 1)
            pixels[2 * size * size + offset] = Float(index) / 5
        } }
        return GridImage(pixels: pixels, width: size, height: size, channels: 3)
    }
    let colourGrid = ImageGridChart(title: "RGB images in [0, 1] with row and column labels", images: colourImages,
                                    columns: 3, pixelRange: .zeroToOne, rowLabels: ["first", "second"],
                                    columnLabels: ["a", "b", "c"])

    var epochs: [any Chart] = []
    let realX = (0..<300).map { _ in 0.5 * random.normal() }, realY = (0..<300).map { _ in 0.5 * random.normal() }
    let noise = (0..<300).map { _ in (random.normal(), random.normal()) }
    for (index, spread) in [0.05, 0.15, 0.3, 0.45, 0.5, 0.5].enumerated() {
        let offset = 1.5 * exp(-Double(index))
        epochs.append(ScatterChart(
            title: "epoch \(index * 20)", x: Axis("x₁"), y: Axis("x₂"),
            series: [ScatterSeries(name: "real", xs: realX, ys: realY, color: Theme.real, alpha: 0.5),
                     ScatterSeries(name: "generated", xs: noise.map { $0.0 * spread + offset }, ys: noise.map { $0.1 * spread },
                                   color: Theme.fake, alpha: 0.6)],
            equalAspect: true))
    }
    let filmstrip = SmallMultiplesChart(title: "Progress of training: generated samples every 20 epochs", panels: epochs)
    return [("histogram", histogram), ("bars", bars), ("image-grid", grid), ("image-grid-rgb", colourGrid),
            ("small-multiples", filmstrip)]
}

/// A blurry synthetic "digit" (a ring or a bar) in [-1, 1], 28×28.
func galleryDigit(_ index: Int, random: inout GalleryRandom) -> GridImage {
    let size = 28
    var pixels = [Float](repeating: -1, count: size * size)
    let ring = index % 2 == 0
    let tilt = (random.uniform() - 0.5) * 0.6
    for row in 0..<size { for column in 0..<size {
        let x = (Double(column) - 13.5) / 9, y = (Double(row) - 13.5) / 11
        let distance = ring ? abs((x * x + y * y).squareRoot() - 0.75) : abs(x - tilt * y)
        let ink = exp(-distance * distance / 0.03)
        pixels[row * size + column] = Float(ink * 2 - 1)
    } }
    return GridImage(pixels: pixels, width: size, height: size)
}

/// Frames of the gallery's animation: the generated cloud moving onto the real one.
func galleryAnimationFrames() -> [any Chart] {
    var random = GalleryRandom(seed: 7)
    let realX = (0..<300).map { _ in 0.5 * random.normal() }, realY = (0..<300).map { _ in 0.5 * random.normal() }
    let noise = (0..<300).map { _ in (random.normal(), random.normal()) }
    return (0..<12).map { frame -> any Chart in
        let progress = Double(frame) / 11
        let spread = 0.05 + 0.45 * progress, offset = 1.2 * (1 - progress)
        return ScatterChart(title: "epoch \(frame * 10)", x: Axis("x₁"), y: Axis("x₂"),
                            series: [ScatterSeries(name: "real", xs: realX, ys: realY, color: Theme.real, alpha: 0.5),
                                     ScatterSeries(name: "generated", xs: noise.map { $0.0 * spread + offset },
                                                   ys: noise.map { $0.1 * spread - offset / 2 }, color: Theme.fake, alpha: 0.7)],
                            equalAspect: true)
    }
}
