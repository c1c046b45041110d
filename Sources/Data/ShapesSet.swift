import CCairo
import Foundation
import Kernels

/// Coloured shapes the lab draws itself: 10 classes of filled shapes, 64×64 RGB, each with its
/// own fill and background colour, size, position and rotation drawn from a seed. No download,
/// and the same seed gives the same images (our own generator decides every number; Cairo only
/// rasterises, antialiased). Lesson 8's colour DCGAN trains on it and its judge measures it.
public enum ShapesSet {
    /// The class names, in label order.
    public static let classNames = ["circle", "square", "triangle", "diamond", "pentagon", "hexagon", "star", "cross", "ring", "crescent"]
    /// Images a side.
    public static let side = 64
    /// Raised whenever a change to the drawing changes the images (the shapes judge's cache is keyed by it).
    public static let drawingVersion = 1
    /// The seed of the lab's set.
    public static let standardSeed: UInt64 = 0x7368_6170_6573  // "shapes"

    /// `perClass` images of each class, class by class (labels 0, 0, …, 1, 1, …), as
    /// [10 · perClass, 3, 64, 64] in [-1, 1].
    public static func images(perClass: Int = 500, seed: UInt64 = standardSeed) -> ImageSet {
        let count = perClass * classNames.count, plane = side * side
        var random = RandomSource(seed: seed)
        let drawings = (0..<count).map { ShapeDrawing(shape: $0 / perClass, using: &random) }
        var bytes = [UInt8](repeating: 0, count: count * plane * 3)
        let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(side), Int32(side))!
        let context = cairo_create(surface)!
        defer {
            cairo_destroy(context)
            cairo_surface_destroy(surface)
        }
        let stride = Int(cairo_image_surface_get_stride(surface))
        for (index, drawing) in drawings.enumerated() {
            drawing.draw(in: context)
            cairo_surface_flush(surface)
            // RGB24 keeps each pixel in a native-endian UInt32 as 0x00RRGGBB.
            let data = cairo_image_surface_get_data(surface)!
            let base = index * plane * 3
            for y in 0..<side {
                let row = UnsafeRawPointer(data + y * stride).assumingMemoryBound(to: UInt32.self)
                for x in 0..<side {
                    let pixel = row[x], at = base + (y * side + x) * 3
                    bytes[at] = UInt8(truncatingIfNeeded: pixel >> 16)
                    bytes[at + 1] = UInt8(truncatingIfNeeded: pixel >> 8)
                    bytes[at + 2] = UInt8(truncatingIfNeeded: pixel)
                }
            }
        }
        let labels = drawings.map(\.shape)
        return bytes.withUnsafeBufferPointer {
            ImageSet.fromBytes($0, count: count, channels: 3, height: side, width: side, labels: labels,
                               source: "the lab's shapes (seed \(String(seed, radix: 16)))")
        }
    }
}

/// What one image of the shapes shows: its class, colours, radius, centre and rotation.
struct ShapeDrawing {
    let shape: Int
    /// RGB in 0…1: the fill saturated and light (HSL lightness 0.55–0.75, luma at least 0.45), the
    /// background muted and dark (lightness 0.08–0.25, luma at most 0.2), their hues independent of
    /// each other and of the class. Colours outside the luma bounds (a deep blue fill, a bright green
    /// background) are drawn again, so that every shape stands out on a projector.
    let fill: (red: Double, green: Double, blue: Double)
    let background: (red: Double, green: Double, blue: Double)
    /// Pixels from the centre to the shape's outermost point: 14–26.
    let radius: Double
    let centre: (x: Double, y: Double)
    /// Radians (0 for the circle and the ring, which look the same at every angle).
    let rotation: Double

    init(shape: Int, using random: inout RandomSource) {
        self.shape = shape
        var fill = hsl(random.nextUnit(), random.uniform(0.65, 0.95), random.uniform(0.55, 0.75))
        while luma(fill) < 0.45 { fill = hsl(random.nextUnit(), random.uniform(0.65, 0.95), random.uniform(0.55, 0.75)) }
        var background = hsl(random.nextUnit(), random.uniform(0.15, 0.45), random.uniform(0.08, 0.25))
        while luma(background) > 0.2 { background = hsl(random.nextUnit(), random.uniform(0.15, 0.45), random.uniform(0.08, 0.25)) }
        (self.fill, self.background) = (fill, background)
        radius = random.uniform(14, 26)
        let half = Double(ShapesSet.side) / 2
        centre = (half + random.uniform(-4, 4), half + random.uniform(-4, 4))
        let turned = random.uniform(0, 2 * Double.pi)
        rotation = [0, 8].contains(shape) ? 0 : turned
    }

    /// Paints the whole surface: the background, then the shape.
    func draw(in context: OpaquePointer) {
        cairo_identity_matrix(context)
        cairo_set_source_rgb(context, background.red, background.green, background.blue)
        cairo_paint(context)
        cairo_translate(context, centre.x, centre.y)
        cairo_rotate(context, rotation)
        cairo_set_source_rgb(context, fill.red, fill.green, fill.blue)
        let r = radius
        switch shape {
        case 0:  // circle
            cairo_arc(context, 0, 0, r, 0, 2 * Double.pi)
        case 1:  // square, corners on the circle of radius r
            polygon(context, [(-1, -1), (1, -1), (1, 1), (-1, 1)].map { ($0.0 * r / 2.squareRoot(), $0.1 * r / 2.squareRoot()) })
        case 2:  // equilateral triangle
            regular(context, sides: 3, radius: r)
        case 3:  // diamond: a rhombus twice as tall as it is wide, so that no rotation makes it a square
            polygon(context, [(0, -r), (0.5 * r, 0), (0, r), (-0.5 * r, 0)])
        case 4:  // pentagon
            regular(context, sides: 5, radius: r)
        case 5:  // hexagon
            regular(context, sides: 6, radius: r)
        case 6:  // five-pointed star, inner radius 0.42 r
            polygon(context, (0..<10).map { k in
                let angle = Double(k) * Double.pi / 5 - Double.pi / 2, reach = k % 2 == 0 ? r : 0.42 * r
                return (reach * cos(angle), reach * sin(angle))
            })
        case 7:  // cross (plus sign), arms 0.64 r wide
            let a = 0.32 * r
            polygon(context, [(-a, -r), (a, -r), (a, -a), (r, -a), (r, a), (a, a), (a, r), (-a, r), (-a, a), (-r, a), (-r, -a), (-a, -a)])
        case 8:  // ring: the annulus between 0.55 r and r
            cairo_arc(context, 0, 0, r, 0, 2 * Double.pi)
            cairo_new_sub_path(context)
            cairo_arc_negative(context, 0, 0, 0.55 * r, 2 * Double.pi, 0)
        default:  // crescent: the disc, then a disc of 0.8 r moved 0.45 r to one side painted over in the background
            cairo_arc(context, 0, 0, r, 0, 2 * Double.pi)
            cairo_fill(context)
            cairo_set_source_rgb(context, background.red, background.green, background.blue)
            cairo_arc(context, 0.45 * r, 0, 0.8 * r, 0, 2 * Double.pi)
        }
        cairo_set_fill_rule(context, CAIRO_FILL_RULE_EVEN_ODD)
        cairo_fill(context)
    }

    private func regular(_ context: OpaquePointer, sides: Int, radius: Double) {
        polygon(context, (0..<sides).map { k in
            let angle = 2 * Double.pi * Double(k) / Double(sides) - Double.pi / 2
            return (radius * cos(angle), radius * sin(angle))
        })
    }

    private func polygon(_ context: OpaquePointer, _ points: [(Double, Double)]) {
        cairo_move_to(context, points[0].0, points[0].1)
        for point in points.dropFirst() { cairo_line_to(context, point.0, point.1) }
        cairo_close_path(context)
    }
}

/// A colour's brightness as the eye weighs red, green and blue (Rec. 709 weights on the stored values).
func luma(_ colour: (red: Double, green: Double, blue: Double)) -> Double {
    0.2126 * colour.red + 0.7152 * colour.green + 0.0722 * colour.blue
}

/// RGB in 0…1 of a colour given as hue (turns), saturation and lightness, all in 0…1.
func hsl(_ hue: Double, _ saturation: Double, _ lightness: Double) -> (red: Double, green: Double, blue: Double) {
    let chroma = (1 - abs(2 * lightness - 1)) * saturation
    let h = hue * 6, x = chroma * (1 - abs(h.truncatingRemainder(dividingBy: 2) - 1))
    let (r, g, b): (Double, Double, Double)
    switch Int(h) % 6 {
    case 0: (r, g, b) = (chroma, x, 0)
    case 1: (r, g, b) = (x, chroma, 0)
    case 2: (r, g, b) = (0, chroma, x)
    case 3: (r, g, b) = (0, x, chroma)
    case 4: (r, g, b) = (x, 0, chroma)
    default: (r, g, b) = (chroma, 0, x)
    }
    let m = lightness - chroma / 2
    return (r + m, g + m, b + m)
}
