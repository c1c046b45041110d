import Foundation
import Kernels

/// How well points fill the unit disk: the fraction inside it, and how many cells of an
/// equal-area polar grid (`rings` rings × `sectors` sectors) hold at least a quarter of their share.
public struct DiskCoverage: Equatable {
    public static let rings = 3
    public static let sectors = 8
    public let insideFraction: Double
    public let coveredCells: Int
    /// Cells holding at least one point.
    public let occupiedCells: Int
    /// Points in each cell, ring by ring from the centre, sectors counter-clockwise from +x.
    public let cellCounts: [Int]

    public init(points: Tensor) {
        let n = points.shape[0]
        var counts = [Int](repeating: 0, count: DiskCoverage.rings * DiskCoverage.sectors)
        var inside = 0
        points.withUnsafeBufferPointer { buffer in
            for i in 0..<n {
                let x = Double(buffer[2 * i]), y = Double(buffer[2 * i + 1])
                let radiusSquared = x * x + y * y
                guard radiusSquared <= 1 else { continue }
                inside += 1
                // Equal-area rings: ring k holds radius² in [k/rings, (k+1)/rings).
                let ring = min(Int(radiusSquared * Double(DiskCoverage.rings)), DiskCoverage.rings - 1)
                let angle = atan2(y, x) < 0 ? atan2(y, x) + 2 * Double.pi : atan2(y, x)
                let sector = min(Int(angle / (2 * Double.pi) * Double(DiskCoverage.sectors)), DiskCoverage.sectors - 1)
                counts[ring * DiskCoverage.sectors + sector] += 1
            }
        }
        insideFraction = n > 0 ? Double(inside) / Double(n) : 0
        let share = Double(n) / Double(counts.count)
        coveredCells = counts.filter { Double($0) >= share / 4 }.count
        occupiedCells = counts.filter { $0 > 0 }.count
        cellCounts = counts
    }
}

/// How closely points follow y = offset + x²: the median vertical distance to the curve and the
/// fractions on each arm.
public struct CurveFit: Equatable {
    public let medianError: Double
    public let leftFraction: Double
    public let rightFraction: Double
    /// The data's range of y (for x in [-50, 50]: 2,500).
    public let dataRange: Double

    public init(points: Tensor, offset: Double, halfWidth: Double = 50) {
        let n = points.shape[0]
        var errors: [Double] = []
        var left = 0, right = 0
        points.withUnsafeBufferPointer { buffer in
            for i in 0..<n {
                let x = Double(buffer[2 * i]), y = Double(buffer[2 * i + 1])
                errors.append(abs(y - (offset + x * x)))
                if x < 0 { left += 1 } else if x > 0 { right += 1 }
            }
        }
        errors.sort()
        medianError = errors.isEmpty ? .nan
            : errors.count % 2 == 1 ? errors[errors.count / 2] : (errors[errors.count / 2 - 1] + errors[errors.count / 2]) / 2
        leftFraction = n > 0 ? Double(left) / Double(n) : 0
        rightFraction = n > 0 ? Double(right) / Double(n) : 0
        dataRange = halfWidth * halfWidth
    }
}
