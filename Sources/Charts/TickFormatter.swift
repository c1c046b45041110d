import Foundation

/// Tick and caption numbers without float noise: round decimals, thousands separators,
/// powers of ten for the very large and the very small.
enum TickFormatter {
    static let minus = "\u{2212}"

    /// Labels for a whole axis, formatted consistently with each other.
    static func labels(for ticks: [Double], logScale: Bool) -> [String] {
        guard !ticks.isEmpty else { return [] }
        let largest = ticks.map { abs($0) }.max() ?? 0
        let smallestNonZero = ticks.map { abs($0) }.filter { $0 > 0 }.min() ?? 0
        if logScale {
            let plain = largest < 1e5 && smallestNonZero >= 1e-3
            return ticks.map { plain ? fixed($0, decimals: decimalsNeeded(for: $0)) : powerOfTen($0) }
        }
        if largest >= 1e6 || (largest > 0 && largest < 1e-3) {
            return ticks.map { scientific($0) }
        }
        let steps = zip(ticks.dropFirst(), ticks).map { $0 - $1 }
        let step = steps.min() ?? (ticks[0] == 0 ? 1 : abs(ticks[0]))
        let decimals = decimalsNeeded(for: step)
        return ticks.map { fixed($0, decimals: decimals) }
    }

    /// A single number for captions and notes, with about `significant` significant digits.
    static func number(_ value: Double, significant: Int = 3) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "∞" : minus + "∞") }
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e6 || magnitude < 1e-3 { return scientific(value, significant: significant) }
        let integerDigits = Int(floor(log10(magnitude))) + 1
        let decimals = max(0, significant - integerDigits)
        var text = fixed(value, decimals: decimals)
        if decimals > 0, text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }

    /// The fewest decimals (0…10) that show `step` exactly.
    static func decimalsNeeded(for step: Double) -> Int {
        let magnitude = abs(step)
        guard magnitude > 0, magnitude.isFinite else { return 0 }
        for decimals in 0...10 {
            let scaled = magnitude * pow(10, Double(decimals))
            if abs(scaled - scaled.rounded()) < 1e-6 * max(scaled, 1) { return decimals }
        }
        return 10
    }

    /// Fixed-point with thousands separators and a typographic minus.
    static func fixed(_ value: Double, decimals: Int) -> String {
        var text = String(format: "%.\(decimals)f", abs(value))
        if text.trimmingCharacters(in: CharacterSet(charactersIn: "0.")).isEmpty { return "0" }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        var integerPart = String(parts[0])
        if integerPart.count > 3 {
            var grouped = ""
            for (index, character) in integerPart.enumerated() {
                if index > 0 && (integerPart.count - index) % 3 == 0 { grouped.append(",") }
                grouped.append(character)
            }
            integerPart = grouped
        }
        text = parts.count > 1 ? integerPart + "." + parts[1] : integerPart
        return value < 0 ? minus + text : text
    }

    /// "2.5×10⁻⁴" form.
    static func scientific(_ value: Double, significant: Int = 3) -> String {
        if value == 0 { return "0" }
        var exponent = Int(floor(log10(abs(value))))
        var mantissa = abs(value) / pow(10, Double(exponent))
        mantissa = (mantissa * pow(10, Double(significant - 1))).rounded() / pow(10, Double(significant - 1))
        if mantissa >= 10 { mantissa /= 10; exponent += 1 }
        let sign = value < 0 ? minus : ""
        if abs(mantissa - 1) < 1e-9 { return sign + powerOfTen(pow(10, Double(exponent))) }
        return sign + number(mantissa, significant: significant) + "×" + powerOfTen(pow(10, Double(exponent)))
    }

    /// "10⁻³" form for an exact power of ten.
    static func powerOfTen(_ value: Double) -> String {
        let exponent = Int(log10(value).rounded())
        return "10" + superscript(exponent)
    }

    static func superscript(_ number: Int) -> String {
        let digits: [Character] = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
        let body = String(abs(number)).map { digits[Int(String($0))!] }
        return (number < 0 ? "⁻" : "") + String(body)
    }
}
