import Charts
import Data
import Evaluation
import Foundation
import GAN
import Kernels

/// The first stage of an image lesson: the real images, a grid with one row per class, the class
/// counts, and the pixel statistics a class should know before training anything on them.
enum ImageDataView {
    /// The same, short enough to sit under ten bars side by side.
    static let fashionShortClasses = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot"]

    static func source(_ settings: StageSettings) throws -> ImageSource {
        switch settings.text("data") {
        case "mnist": return .mnist
        case "fashion-mnist": return .fashionMNIST
        case "shapes": return .shapes
        default:
            let path = settings.text("data-file"), labels = settings.text("data-labels")
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                throw LessonError(["data-file \(path): no such file or folder"])
            }
            if isFolder.boolValue { return .pngFolder(path, size: settings.integer("image-size")) }
            let lower = path.lowercased()
            return lower.hasSuffix(".csv") || lower.hasSuffix(".csv.gz") ? .csv(path) : .idx(images: path, labels: labels == "none" ? nil : labels)
        }
    }

    /// Where scripts/setup.sh puts the data sets it fetches: `data/` beside the Lessons folder.
    static var dataFolder: String {
        if let configured = ProcessInfo.processInfo.environment["GAN_LAB_DATA"] { return configured }
        if let catalog = try? LessonCatalog.locate() {
            return ((catalog.folder as NSString).deletingLastPathComponent as NSString).appendingPathComponent("data")
        }
        return "data"
    }

    static func run(_ context: StageContext) throws -> StageOutcome {
        let settings = context.settings, console = context.console
        let set: ImageSet
        do {
            set = try source(settings).load(dataFolder: dataFolder)
        } catch let error as DataError {
            throw LessonError([error.message])
        }
        let data = settings.text("data")
        let names = data == "mnist" ? nil : JudgedSet(rawValue: data)?.classNames
        console.line("  \(grouped(set.count)) images of \(set.height)×\(set.width) pixels, \(set.channels == 1 ? "grey" : "colour (RGB)"), from \(set.source)")
        var metrics: [String: Double] = ["images": Double(set.count), "height": Double(set.height), "width": Double(set.width),
                                         "channels": Double(set.channels)]
        // One pass over the pixels in place (Fashion-MNIST holds 47 million).
        let (mean, std, dark) = set.images.withUnsafeBufferPointer { values in
            var (sum, squares, black) = (0.0, 0.0, 0)
            for value in values {
                sum += Double(value)
                squares += Double(value) * Double(value)
                black += value == -1 ? 1 : 0
            }
            let count = Double(values.count), mean = sum / count
            return (mean, max(squares / count - mean * mean, 0).squareRoot(), Double(black) / count)
        }
        console.line("  pixels scaled from 0…255 to [-1, 1] (p / 127.5 − 1), as the generator's tanh makes them: "
                     + "mean \(fixed(mean)), standard deviation \(fixed(std)); \(fixed(100 * dark, 1)) % are exactly −1 (black)")
        metrics["pixel_mean"] = mean
        metrics["pixel_std"] = std
        metrics["black_fraction"] = dark

        var random = context.random
        var figures: [String] = []
        let perClass = settings.integer("samples-per-class")
        func image(_ index: Int) -> GridImage {
            GridImage(pixels: set.subset([index]).images.scalars, width: set.width, height: set.height, channels: set.channels)
        }
        if let labels = set.labels {
            let classes = Array(Set(labels)).sorted()
            let counts = classes.map { label in labels.filter { $0 == label }.count }
            let label = { (value: Int) in names.map { value < $0.count ? $0[value] : String(value) } ?? String(value) }
            console.line("  \(classes.count) classes: " + zip(classes, counts).map { "\(label($0)) \(grouped($1))" }.joined(separator: " · "))
            metrics["classes"] = Double(classes.count)
            // Each row: `perClass` images of one class, chosen by the run's seed.
            var rows: [GridImage] = []
            for value in classes {
                var members = labels.indices.filter { labels[$0] == value }
                for i in 0..<min(perClass, members.count) { members.swapAt(i, i + random.index(below: members.count - i)) }
                let shown = members.prefix(perClass).map(image)
                rows += shown + Array(repeating: GridImage(pixels: [Float](repeating: -1, count: shown.first.map { $0.pixels.count } ?? 1),
                                                           width: set.width, height: set.height, channels: set.channels),
                                      count: perClass - shown.count)
            }
            figures.append(try context.write(ImageGridChart(title: "Real images, one row per class (\(grouped(set.count)) in all)",
                                                            images: rows, columns: perClass, rowLabels: classes.map(label)),
                                             name: "samples"))
            let short = { (value: Int) in data != "fashion-mnist" ? label(value) : value < fashionShortClasses.count ? fashionShortClasses[value] : String(value) }
            figures.append(try context.write(BarChart(title: "Images per class", categories: classes.map(short),
                                                      y: Axis("images"), series: [BarSeries(name: "", values: counts.map(Double.init), color: Theme.real)]),
                                             name: "classes"))
        } else {
            let shown = (0..<min(64, set.count)).map { _ in image(random.index(below: set.count)) }
            figures.append(try context.write(ImageGridChart(title: "Real images (\(grouped(set.count)) in all, 64 drawn at random)",
                                                            images: shown, columns: 8), name: "samples"))
        }
        return StageOutcome(figures: figures, metrics: metrics)
    }
}
