import Foundation

/// One axis of a chart: its label, an optional fixed range and whether it is logarithmic.
public struct Axis: Sendable {
    /// Text drawn beside the axis.
    public var label: String
    /// Fixed range, or nil for an automatic range rounded to nice numbers.
    public var domain: ClosedRange<Double>?
    /// Logarithmic scale (base 10); values ≤ 0 are skipped and counted.
    public var logScale: Bool = false

    /// Creates an axis.
    public init(_ label: String, domain: ClosedRange<Double>? = nil, logScale: Bool = false) {
        self.label = label
        self.domain = domain
        self.logScale = logScale
    }
}

/// A resolved axis: its final range, ticks and the mapping from data to a pixel span.
struct Scale {
    var lower: Double
    var upper: Double
    var logScale: Bool
    var ticks: [Double]
    var tickLabels: [String]

    /// Resolves `axis` against the finite data values it must show.
    /// `padding` widens an automatic range by that fraction of the data's span on each side
    /// (markers at the data's extremes stay whole).
    init(axis: Axis, values: [Double], targetTickCount: Int = 6, padding: Double = 0) {
        logScale = axis.logScale
        if axis.logScale {
            let positive = values.filter { $0 > 0 && $0.isFinite }
            var range = axis.domain ?? Scale.logDomain(positive)
            if range.lowerBound <= 0 { range = max(range.upperBound / 1000, 1e-12)...max(range.upperBound, 1e-9) }
            lower = range.lowerBound
            upper = range.upperBound
            ticks = Scale.logTicks(lower, upper)
        } else {
            let finite = values.filter { $0.isFinite }
            var step: Double? = nil
            if let fixed = axis.domain, fixed.upperBound > fixed.lowerBound {
                lower = fixed.lowerBound
                upper = fixed.upperBound
            } else if let fixed = axis.domain {
                (lower, upper) = (fixed.lowerBound - 0.5, fixed.upperBound + 0.5)
            } else {
                (lower, upper, step) = Scale.niceDomain(finite, targetTickCount: targetTickCount, padding: padding)
            }
            ticks = Scale.linearTicks(lower, upper, step: step ?? Scale.niceStep(lower, upper, targetTickCount: targetTickCount))
        }
        tickLabels = TickFormatter.labels(for: ticks, logScale: axis.logScale)
    }

    /// Position of `value` as a fraction of the axis (0 at `lower`, 1 at `upper`).
    func fraction(_ value: Double) -> Double {
        if logScale {
            guard value > 0 else { return -.infinity }
            return (log10(value) - log10(lower)) / (log10(upper) - log10(lower))
        }
        return (value - lower) / (upper - lower)
    }

    /// Whether `value` can be placed on this scale at all (finite, and positive on a log scale).
    func accepts(_ value: Double) -> Bool {
        value.isFinite && (!logScale || value > 0)
    }

    /// Data span per unit fraction, for equal-aspect layouts (linear scales only).
    var span: Double { logScale ? log10(upper) - log10(lower) : upper - lower }

    // MARK: Nice numbers

    /// Rounds `value` to 1, 2, 5 or 10 times a power of ten (2.5 only when not rounding to the nearest).
    static func niceNumber(_ value: Double, round: Bool) -> Double {
        guard value > 0, value.isFinite else { return 1 }
        let exponent = floor(log10(value))
        let power = pow(10, exponent)
        let fraction = value / power
        let nice: Double
        if round {
            nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
        } else {
            nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10
        }
        return nice * power
    }

    /// The tick step for a range, aiming at about `targetTickCount` ticks.
    static func niceStep(_ lower: Double, _ upper: Double, targetTickCount: Int) -> Double {
        niceNumber((upper - lower) / Double(max(targetTickCount - 1, 1)), round: true)
    }

    /// An automatic range: the data's extent widened to whole tick steps.
    static func niceDomain(_ values: [Double], targetTickCount: Int, padding: Double = 0)
        -> (lower: Double, upper: Double, step: Double) {
        guard var low = values.min(), var high = values.max() else { return (0, 1, 0.2) }
        let margin = (high - low) * padding
        low -= margin
        high += margin
        if high - low <= max(abs(high), abs(low)) * 1e-12 {
            let pad = low == 0 ? 1 : abs(low) * 0.1
            low -= pad
            high += pad
        }
        let step = niceStep(low, high, targetTickCount: targetTickCount)
        let tolerance = step * 1e-9
        return (floor((low + tolerance) / step) * step, ceil((high - tolerance) / step) * step, step)
    }

    /// Ticks at multiples of a nice step inside [lower, upper].
    static func linearTicks(_ lower: Double, _ upper: Double, step: Double) -> [Double] {
        let first = ceil(lower / step - 1e-9)
        let last = floor(upper / step + 1e-9)
        guard last >= first, last - first < 1000 else { return [lower, upper] }
        return stride(from: first, through: last, by: 1).map { index in
            let value = index * step
            return abs(value) < step * 1e-9 ? 0 : value
        }
    }

    static func logDomain(_ positive: [Double]) -> ClosedRange<Double> {
        guard let low = positive.min(), let high = positive.max() else { return 1...10 }
        let lowExponent = floor(log10(low))
        var highExponent = ceil(log10(high))
        if highExponent <= lowExponent { highExponent = lowExponent + 1 }
        return pow(10, lowExponent)...pow(10, highExponent)
    }

    static func logTicks(_ lower: Double, _ upper: Double) -> [Double] {
        let lowExponent = Int(ceil(log10(lower) - 1e-9))
        let highExponent = Int(floor(log10(upper) + 1e-9))
        let decades = highExponent - lowExponent
        if decades < 2 {
            var ticks: [Double] = []
            for exponent in (lowExponent - 1)...(highExponent) {
                for multiplier in [1.0, 2, 5] {
                    let value = multiplier * pow(10, Double(exponent))
                    if value >= lower * (1 - 1e-9) && value <= upper * (1 + 1e-9) { ticks.append(value) }
                }
            }
            return ticks
        }
        let every = max(1, Int(ceil(Double(decades) / 7)))
        return stride(from: lowExponent, through: highExponent, by: every).map { pow(10, Double($0)) }
    }
}
