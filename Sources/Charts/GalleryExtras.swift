import Foundation

/// Gallery figures of the second set of chart kinds.
func galleryPhaseTwoCharts(random: inout GalleryRandom) -> [(String, any Chart)] {
    var charts: [(String, any Chart)] = []
    // A decision surface: D(x) high near the real blob at the origin, fake points to the right.
    let size = 30
    let surface = (0..<size * size).map { index -> Double in
        let x = -2 + 4 * (Double(index % size) + 0.5) / Double(size)
        let y = -2 + 4 * (Double(index / size) + 0.5) / Double(size)
        return 1 / (1 + exp(2.5 * (x - 0.35) + 0.4 * y * y - 0.5))
    }
    let realX = (0..<150).map { _ in 0.5 * random.normal() }, realY = (0..<150).map { _ in 0.5 * random.normal() }
    let fakeX = (0..<150).map { _ in 0.2 * random.normal() + 1.1 }, fakeY = (0..<150).map { _ in 0.3 * random.normal() }
    let points = [ScatterSeries(name: "real", xs: realX, ys: realY, color: Theme.real, pointSize: 5, alpha: 0.9),
                  ScatterSeries(name: "generated", xs: fakeX, ys: fakeY, color: Theme.fake, pointSize: 5, alpha: 0.9)]
    charts.append(("heatmap", HeatmapChart(
        title: "Discriminator output D(x) over the plane", x: Axis("x₁"), y: Axis("x₂"),
        values: surface, rows: size, columns: size, gridX: -2...2, gridY: -2...2, points: points, equalAspect: true)))

    let gradientX = fakeX.prefix(40).map { -0.9 * ($0 - 0.35) }, gradientY = fakeY.prefix(40).map { -0.5 * $0 }
    charts.append(("vector-field", VectorFieldChart(
        title: "Discriminator gradient on each generated sample", x: Axis("x₁"), y: Axis("x₂"),
        arrows: [ArrowSeries(name: "∇ D(G(z))", xs: Array(fakeX.prefix(40)), ys: Array(fakeY.prefix(40)),
                             dxs: gradientX, dys: gradientY, color: Theme.text, scale: 0.5)],
        points: [points[0], ScatterSeries(name: "generated", xs: Array(fakeX.prefix(40)), ys: Array(fakeY.prefix(40)),
                                          color: Theme.fake, pointSize: 6, alpha: 1)])))
    let sequential = (0..<size * size).map { index -> Double in
        let x = Double(index % size) / Double(size), y = Double(index / size) / Double(size)
        return exp(-((x - 0.4) * (x - 0.4) + (y - 0.6) * (y - 0.6)) * 8) * 1200
    }
    charts.append(("heatmap-sequential", HeatmapChart(
        title: "Density of generated samples (sequential colour map)", x: Axis("x₁"), y: Axis("x₂"),
        values: sequential, rows: size, columns: size, gridX: 0...1, gridY: 0...1, colorMap: .viridis,
        valueRange: 0...1200, colorBarLabel: "samples per cell", contourLevel: nil, equalAspect: true, smooth: true)))
    charts += galleryGeometryCharts(random: &random)
    charts += galleryDistributionCharts(random: &random)
    return charts
}

/// Gallery files that are not single charts (animations); returns the paths written.
func galleryExtras(folder: String) throws -> [String] {
    let path = folder + "/animation.gif"
    try renderAnimation(galleryAnimationFrames(), to: path, options: RenderOptions(width: 640, height: 480),
                        frameDelay: 0.3)
    return [path]
}

/// Feature space and warped grid figures for the gallery.
func galleryGeometryCharts(random: inout GalleryRandom) -> [(String, any Chart)] {
    func cloud(_ count: Int, _ centreX: Double, _ centreY: Double, _ spread: Double) -> ([Double], [Double]) {
        ((0..<count).map { _ in centreX + spread * random.normal() }, (0..<count).map { _ in centreY + spread * random.normal() })
    }
    let real = cloud(200, 2.0, 1.5, 0.5)
    let fakeBefore = cloud(200, -1.0, -0.5, 0.6)
    let fakeAfter = (fakeBefore.0.map { $0 + 1.2 }, fakeBefore.1.map { $0 + 0.8 })
    let features = FeatureSpaceChart(
        title: "Discriminator features of real and fake points, before and after a generator step",
        x: Axis("feature 1"), y: Axis("feature 2"),
        before: FeatureSnapshot(realXs: real.0, realYs: real.1, fakeXs: fakeBefore.0, fakeYs: fakeBefore.1),
        after: FeatureSnapshot(realXs: real.0, realYs: real.1, fakeXs: fakeAfter.0, fakeYs: fakeAfter.1),
        beforeTitle: "before the generator step", afterTitle: "after the generator step")

    let rows = 15, columns = 15
    var vertexXs: [Double] = [], vertexYs: [Double] = []
    for row in 0..<rows {
        for column in 0..<columns {
            let u = -1 + 2 * Double(column) / Double(columns - 1), v = -1 + 2 * Double(row) / Double(rows - 1)
            // A squashing map: dense near the centre, like a generator pulling noise toward a mode.
            let radius = (u * u + v * v).squareRoot()
            let pull = 0.35 + 0.65 * radius * radius
            vertexXs.append(0.5 + u * pull + 0.15 * v)
            vertexYs.append(0.2 + v * pull * 0.8)
        }
    }
    let realPoints = cloud(150, 0.5, 0.2, 0.25)
    let grid = WarpedGridChart(
        title: "Where the generator sends a regular grid of noise", x: Axis("x₁"), y: Axis("x₂"),
        vertexXs: vertexXs, vertexYs: vertexYs, rows: rows, columns: columns,
        points: [ScatterSeries(name: "real", xs: realPoints.0, ys: realPoints.1, color: Theme.real, pointSize: 5, alpha: 0.9)])
    return [("feature-space", features), ("warped-grid", grid)]
}
