/// An RGBA colour with components in [0, 1].
public struct Color: Equatable, Sendable {
    /// Components in [0, 1].
    public var red, green, blue, alpha: Double

    /// Creates a colour from components in [0, 1].
    public init(red: Double, green: Double, blue: Double, alpha: Double = 1) {
        self.red = red
        self.green = green
        self.blue = blue
        self.alpha = alpha
    }

    /// Creates a colour from a 0xRRGGBB number.
    public init(hex: UInt32, alpha: Double = 1) {
        self.init(red: Double((hex >> 16) & 0xFF) / 255,
                  green: Double((hex >> 8) & 0xFF) / 255,
                  blue: Double(hex & 0xFF) / 255,
                  alpha: alpha)
    }

    /// The same colour with another opacity.
    public func withAlpha(_ alpha: Double) -> Color {
        Color(red: red, green: green, blue: blue, alpha: alpha)
    }

    /// Linear mix: `fraction` 0 gives `self`, 1 gives `other`.
    public func mixed(with other: Color, fraction: Double) -> Color {
        let t = min(max(fraction, 0), 1)
        return Color(red: red + (other.red - red) * t,
                     green: green + (other.green - green) * t,
                     blue: blue + (other.blue - blue) * t,
                     alpha: alpha + (other.alpha - alpha) * t)
    }

    /// Opaque white.
    public static let white = Color(red: 1, green: 1, blue: 1)
    /// Opaque black.
    public static let black = Color(red: 0, green: 0, blue: 0)
}

/// The one visual theme of every figure: colours that are safe for colour-blind viewers.
public enum Theme {
    /// Real data, in every lesson (Okabe–Ito blue).
    public static let real = Color(hex: 0x0072B2)
    /// Generated (fake) data, in every lesson (Okabe–Ito vermillion).
    public static let fake = Color(hex: 0xD55E00)
    /// Further series, after real and fake: orange, bluish green, sky blue, reddish purple, olive, gray.
    public static let palette: [Color] = [
        Color(hex: 0xE69F00), Color(hex: 0x009E73), Color(hex: 0x56B4E9),
        Color(hex: 0xCC79A7), Color(hex: 0xB8A200), Color(hex: 0x666666),
    ]
    /// The font family of all text.
    public static let fontFamily = "DejaVu Sans"

    static let background = Color.white
    static let text = Color(hex: 0x222222)
    static let mutedText = Color(hex: 0x666666)
    static let grid = Color(hex: 0xE6E6E6)
    static let axisLine = Color(hex: 0x555555)
}

/// A map from a number in [0, 1] to a colour, built from evenly spaced stops.
public struct ColorMap: Sendable {
    /// Evenly spaced colour stops from 0 to 1.
    public var stops: [Color]

    /// Creates a colour map from at least two evenly spaced stops.
    public init(stops: [Color]) {
        precondition(stops.count >= 2, "a colour map needs at least two stops")
        self.stops = stops
    }

    /// The colour at `fraction` (clamped to [0, 1]).
    public func color(at fraction: Double) -> Color {
        let t = fraction.isFinite ? min(max(fraction, 0), 1) : 0.5
        let position = t * Double(stops.count - 1)
        let index = min(Int(position), stops.count - 2)
        return stops[index].mixed(with: stops[index + 1], fraction: position - Double(index))
    }

    /// Sequential, perceptually uniform dark purple → green → yellow (viridis-like).
    public static let viridis = ColorMap(stops: [
        Color(hex: 0x440154), Color(hex: 0x482878), Color(hex: 0x3E4A89), Color(hex: 0x31688E),
        Color(hex: 0x26828E), Color(hex: 0x1F9E89), Color(hex: 0x35B779), Color(hex: 0x6DCD59),
        Color(hex: 0xB4DE2C), Color(hex: 0xFDE725),
    ])

    /// Diverging fake-tint → white → real-tint: 0 reads "fake", 1 reads "real", white at 0.5.
    /// Kept pale so that real and fake points stay visible on top of it.
    public static let realFake = ColorMap(stops: [
        Color(hex: 0xE59A66), Color(hex: 0xF0BF9C), Color(hex: 0xF9E2D2), Color(hex: 0xFFFFFF),
        Color(hex: 0xD5E5F2), Color(hex: 0xA6C8E4), Color(hex: 0x76A9D4),
    ])

    /// Diverging purple → white → green.
    public static let purpleGreen = ColorMap(stops: [
        Color(hex: 0x762A83), Color(hex: 0xAF8DC3), Color(hex: 0xE7D4E8), Color(hex: 0xF7F7F7),
        Color(hex: 0xD9F0D3), Color(hex: 0x7FBF7B), Color(hex: 0x1B7837),
    ])

    /// Sequential white → dark gray, for densities.
    public static let grays = ColorMap(stops: [Color(hex: 0xFFFFFF), Color(hex: 0x303030)])
}
