@testable import Data
import Foundation
import Kernels
import XCTest

/// The coloured shapes the lab draws: their size, labels, range, reproducibility and contrast.
final class ShapesSetTests: XCTestCase {
    func testTheSetHas500ColourImagesOfEachClassInRange() throws {
        let start = Date()
        let set = try ImageSource.shapes.load()
        print("drawing the 5,000 shapes took \(String(format: "%.2f", Date().timeIntervalSince(start))) s")
        XCTAssertEqual(set.images.shape, [5000, 3, 64, 64])
        let labels = try XCTUnwrap(set.labels)
        XCTAssertEqual(ShapesSet.classNames.count, 10)
        for label in 0..<10 { XCTAssertEqual(labels.filter { $0 == label }.count, 500, ShapesSet.classNames[label]) }
        XCTAssertEqual(labels, labels.sorted(), "class by class, as the MNIST file lists its digits")
        let values = set.images.scalars
        XCTAssertGreaterThanOrEqual(values.min()!, -1)
        XCTAssertLessThanOrEqual(values.max()!, 1)
    }

    func testTheSameSeedDrawsTheSameImagesAndAnotherSeedOthers() {
        let first = ShapesSet.images(perClass: 20), again = ShapesSet.images(perClass: 20)
        XCTAssertEqual(first.images.scalars, again.images.scalars)
        XCTAssertEqual(first.labels, again.labels)
        XCTAssertNotEqual(ShapesSet.images(perClass: 20, seed: 7).images.scalars, first.images.scalars)
    }

    /// The share of each image's pixels that are nearer the fill than the background tells the
    /// classes apart on average: a cross covers less of its circle than a square, a ring less than a circle.
    func testClassesDifferInTheAreaTheyCover() {
        let perClass = 40
        let set = ShapesSet.images(perClass: perClass)
        var random = RandomSource(seed: ShapesSet.standardSeed)
        let drawings = (0..<set.count).map { ShapeDrawing(shape: $0 / perClass, using: &random) }
        // Area relative to the radius², so that the random sizes cancel out.
        var relativeArea = [Double](repeating: 0, count: 10)
        set.images.withUnsafeBufferPointer { values in
            for (index, drawing) in drawings.enumerated() {
                let fill = [drawing.fill.red, drawing.fill.green, drawing.fill.blue].map { Float($0 * 2 - 1) }
                let back = [drawing.background.red, drawing.background.green, drawing.background.blue].map { Float($0 * 2 - 1) }
                var covered = 0
                for pixel in 0..<(64 * 64) {
                    var toFill: Float = 0, toBack: Float = 0
                    for c in 0..<3 {
                        let v = values[(index * 3 + c) * 64 * 64 + pixel]
                        toFill += (v - fill[c]) * (v - fill[c])
                        toBack += (v - back[c]) * (v - back[c])
                    }
                    covered += toFill < toBack ? 1 : 0
                }
                relativeArea[drawing.shape] += Double(covered) / (drawing.radius * drawing.radius) / Double(perClass)
            }
        }
        // circle π ≈ 3.14, square 2, ring π (1 − 0.55²) ≈ 2.19, cross 4 · 0.64 − 0.64² ≈ 2.15 (less its corners… about 2.15).
        XCTAssertEqual(relativeArea[0], Double.pi, accuracy: 0.15)
        XCTAssertEqual(relativeArea[1], 2, accuracy: 0.15)
        XCTAssertLessThan(relativeArea[8], relativeArea[0] - 0.6)
        XCTAssertLessThan(relativeArea[7], relativeArea[0] - 0.6)
        XCTAssertLessThan(relativeArea[6], relativeArea[5] - 0.6, "a star covers less than a hexagon")
    }

    /// Every image's fill is light and its background dark, and they differ clearly in every image:
    /// the corner (always background) against the pixel farthest from it.
    func testFillAndBackgroundContrast() {
        let perClass = 50
        let set = ShapesSet.images(perClass: perClass)
        var random = RandomSource(seed: ShapesSet.standardSeed)
        for index in 0..<set.count {
            let drawing = ShapeDrawing(shape: index / perClass, using: &random)
            XCTAssertGreaterThanOrEqual(luma(drawing.fill), 0.45, "image \(index): a light fill")
            XCTAssertLessThanOrEqual(luma(drawing.background), 0.2, "image \(index): a dark background")
        }
        set.images.withUnsafeBufferPointer { values in
            for index in 0..<set.count {
                let plane = 64 * 64, base = index * 3 * plane
                let corner = (0..<3).map { values[base + $0 * plane] }
                let farthest = (0..<plane).map { pixel in (0..<3).map { c in abs(values[base + c * plane + pixel] - corner[c]) }.max()! }.max()!
                XCTAssertGreaterThan(farthest, 0.5, "image \(index): the shape stands out from its background")
            }
        }
    }
}
