import Foundation
import Kernels
import NN

/// A network written the way a lesson writes it: an input shape, then layers joined by `->`.
/// `100 -> 256 relu -> 2 tanh` is the Dense shorthand (input size, then each Dense width and its
/// activation); any layer can be written by its word, e.g.
/// `1x28x28 -> conv 64 5x5 stride 2 same -> leaky 0.3 -> dropout 0.3 -> flatten -> dense 1`.
/// `spectral` after a Dense width or among a conv/deconv's options asks for spectral normalisation.
/// The grammar is in ArchitectureParsing.swift, the shape rules in ArchitectureShapes.swift.
public struct Architecture: Equatable, CustomStringConvertible {
    public enum Activation: Equatable {
        case none, relu, tanh, sigmoid
        case leakyRelu(slope: Float)
    }

    /// A Dense layer and the activation right after it, as the shorthand writes them ("256 relu").
    public struct Block: Equatable {
        public var width: Int
        public var activation: Activation

        public init(width: Int, activation: Activation) {
            self.width = width
            self.activation = activation
        }
    }

    /// One layer of the network, with what it needs beyond its input shape.
    public enum LayerSpecification: Equatable {
        case dense(width: Int, bias: Bool)
        /// ReLU, tanh, sigmoid or leaky ReLU (`.none` is never a layer of its own).
        case activation(Activation)
        /// Keras's BatchNormalization: running = momentum·running + (1 − momentum)·batch.
        case batchNormalization(momentum: Float, epsilon: Float)
        case dropout(rate: Float)
        /// The shape after the batch dimension, e.g. [256, 7, 7].
        case reshape([Int])
        case flatten
        case convolution(filters: Int, kernel: Int, stride: Int, padding: Padding, bias: Bool)
        case transposedConvolution(filters: Int, kernel: Int, stride: Int, padding: Padding, bias: Bool)
    }

    /// Where a piece of the network was written: its text and its character offset in the parsed text.
    public struct Source: Equatable {
        public let text: String
        public let offset: Int
    }

    /// The shape of one input after the batch dimension: [size] for vectors, [channels, height, width] for images.
    public var inputShape: [Int]
    /// The layers, first to last. Changing them forgets where they were written.
    public var layers: [LayerSpecification] {
        didSet {
            layerSources = []
            spectralLayers = spectralLayers.filter { $0 < layers.count && layers[$0].hasWeight }
        }
    }
    /// The indices in `layers` of the Dense, conv and deconv layers whose weight is spectrally
    /// normalised (written `spectral`; see `SpectralNormalization`). Kept beside the layer cases so
    /// that code matching those cases reads them as before. When `layers` change, indices that no
    /// longer name a Dense or convolution layer are dropped.
    public var spectralLayers: Set<Int> = []
    /// Where the input shape was written (nil when the architecture was made in code).
    public internal(set) var inputSource: Source?
    /// Where each layer was written, one per layer (empty when made in code); the Dense layer and
    /// the activation of a shorthand piece such as "256 relu" share its source.
    public internal(set) var layerSources: [Source] = []

    /// The number of inputs; setting it makes the input a vector of that size (packing several samples in one).
    public var inputSize: Int {
        get { inputShape.reduce(1, *) }
        set { inputShape = [newValue] }
    }

    /// The number of outputs (the product of `outputShape`).
    public var outputSize: Int { outputShape.reduce(1, *) }

    /// The shape of one output after the batch dimension.
    public var outputShape: [Int] { (try? layerShapes())?.last ?? inputShape }

    /// The network seen as a Dense chain: each Dense layer with the activation right after it. Exact
    /// for networks written in the shorthand; other layers are not listed. Setting it replaces every
    /// layer with the blocks' Dense layers (with bias) and activations.
    public var blocks: [Block] {
        get {
            layers.enumerated().compactMap { index, layer in
                guard case .dense(let width, _) = layer else { return nil }
                if index + 1 < layers.count, case .activation(let activation) = layers[index + 1] {
                    return Block(width: width, activation: activation)
                }
                return Block(width: width, activation: .none)
            }
        }
        set {
            layers = Architecture.layers(of: newValue)
            spectralLayers = []
        }
    }

    /// Parses a network such as `"100 -> 256 relu -> 2 tanh"` or
    /// `"1x28x28 -> conv 64 5x5 stride 2 same -> leaky -> flatten -> dense 1"` and checks that its
    /// layers fit together; errors name the layer as written and what was expected.
    public init(parsing text: String) throws {
        self = try ArchitectureParser.parse(text)
        _ = try layerShapes()
    }

    /// A Dense chain: `inputSize`, then each block's Dense layer and activation.
    public init(inputSize: Int, blocks: [Block]) {
        self.init(inputShape: [inputSize], layers: Architecture.layers(of: blocks))
    }

    /// Any network; `layerShapes()` says whether its layers fit together. `spectralLayers`: the
    /// indices of the Dense and convolution layers to normalise spectrally.
    public init(inputShape: [Int], layers: [LayerSpecification], spectralLayers: Set<Int> = []) {
        self.inputShape = inputShape
        self.layers = layers
        self.spectralLayers = spectralLayers.filter { $0 < layers.count && layers[$0].hasWeight }
    }

    private static func layers(of blocks: [Block]) -> [LayerSpecification] {
        blocks.flatMap { block -> [LayerSpecification] in
            [.dense(width: block.width, bias: true)] + (block.activation == .none ? [] : [.activation(block.activation)])
        }
    }

    public static func == (left: Architecture, right: Architecture) -> Bool {
        left.inputShape == right.inputShape && left.layers == right.layers && left.spectralLayers == right.spectralLayers
    }

    /// The network in the grammar, one line: Dense layers with bias and their activation in the
    /// shorthand ("256 relu", "256 spectral relu"), other layers by their word ("batchnorm
    /// momentum 0.8", "conv 64 4x4 stride 2 same spectral"). It parses back to an equal architecture.
    public var description: String {
        var pieces = [Architecture.shapeText(inputShape)]
        var index = 0
        while index < layers.count {
            let spectral = spectralLayers.contains(index)
            if case .dense(let width, true) = layers[index], index + 1 < layers.count,
               case .activation(let activation) = layers[index + 1] {
                pieces.append("\(width)\(spectral ? " spectral" : "") \(Architecture.text(of: activation, inShorthand: true))")
                index += 2
            } else {
                pieces.append(Architecture.text(of: layers[index], spectral: spectral))
                index += 1
            }
        }
        return pieces.joined(separator: " -> ")
    }

    /// One layer in the grammar; `spectral` (for a Dense or convolution layer) adds the word.
    public static func text(of layer: LayerSpecification, spectral: Bool = false) -> String {
        let spectral = spectral && layer.hasWeight
        switch layer {
        case .dense(let width, let bias):
            return bias && !spectral ? "\(width)" : "dense \(width)" + (bias ? "" : " nobias") + (spectral ? " spectral" : "")
        case .activation(let activation): return text(of: activation, inShorthand: false)
        case .batchNormalization(let momentum, let epsilon):
            return "batchnorm" + (momentum == 0.99 ? "" : " momentum \(momentum)") + (epsilon == 1e-3 ? "" : " epsilon \(epsilon)")
        case .dropout(let rate): return "dropout \(rate)"
        case .reshape(let shape): return "reshape \(Architecture.shapeText(shape))"
        case .flatten: return "flatten"
        case let .convolution(filters, kernel, stride, padding, bias):
            return convolutionText("conv", filters, kernel, stride, padding, bias) + (spectral ? " spectral" : "")
        case let .transposedConvolution(filters, kernel, stride, padding, bias):
            return convolutionText("deconv", filters, kernel, stride, padding, bias) + (spectral ? " spectral" : "")
        }
    }

    private static func text(of activation: Activation, inShorthand: Bool) -> String {
        switch activation {
        case .none: return "linear"
        case .relu: return "relu"
        case .tanh: return "tanh"
        case .sigmoid: return "sigmoid"
        case .leakyRelu(let slope): return slope == 0.2 ? "leaky" : inShorthand ? "leaky(\(slope))" : "leaky \(slope)"
        }
    }

    private static func convolutionText(_ word: String, _ filters: Int, _ kernel: Int, _ stride: Int, _ padding: Padding, _ bias: Bool) -> String {
        "\(word) \(filters) \(kernel)x\(kernel)" + (stride == 1 ? "" : " stride \(stride)") + (padding == .same ? " same" : "")
            + (bias ? "" : " nobias")
    }

    /// The network: Dense and convolution weights Glorot-uniform, biases zero (as Keras), drawn
    /// from `random` layer by layer in order (a Dropout layer takes its own stream from it too, a
    /// spectrally normalised layer its u and v right after its weight).
    public func build(using random: inout RandomSource) -> Sequential {
        let shapes: [[Int]]
        do { shapes = try layerShapes() } catch { preconditionFailure("\(description): \(error)") }
        var result: [Layer] = []
        for (index, layer) in layers.enumerated() {
            let input = index == 0 ? inputShape : shapes[index - 1]
            let spectral = spectralLayers.contains(index)
            switch layer {
            case let .dense(width, bias):
                result.append(Dense(inputSize: input[0], outputSize: width, useBias: bias, spectral: spectral, using: &random))
            case .activation(let activation):
                switch activation {
                case .none: break
                case .relu: result.append(ReLU())
                case .tanh: result.append(Tanh())
                case .sigmoid: result.append(Sigmoid())
                case .leakyRelu(let slope): result.append(LeakyReLU(slope: slope))
                }
            case let .batchNormalization(momentum, epsilon):
                result.append(BatchNormalization(featureCount: input[0], momentum: momentum, epsilon: epsilon))
            case .dropout(let rate): result.append(Dropout(rate: rate, using: &random))
            case .reshape(let shape): result.append(Reshape(shape))
            case .flatten: result.append(Flatten())
            case let .convolution(filters, kernel, stride, padding, bias):
                result.append(Conv2D(inputChannels: input[0], outputChannels: filters, kernelSize: kernel, stride: stride,
                                     padding: padding, useBias: bias, spectral: spectral, using: &random))
            case let .transposedConvolution(filters, kernel, stride, padding, bias):
                result.append(ConvTranspose2D(inputChannels: input[0], outputChannels: filters, kernelSize: kernel, stride: stride,
                                              padding: padding, useBias: bias, spectral: spectral, using: &random))
            }
        }
        return Sequential(result)
    }
}

extension Architecture.LayerSpecification {
    /// Whether the layer has a weight matrix (Dense, conv, deconv): what `spectral` can apply to.
    public var hasWeight: Bool {
        switch self {
        case .dense, .convolution, .transposedConvolution: return true
        default: return false
        }
    }
}

/// A model description that does not parse or whose layers do not fit; the message names the
/// layer as written and what was expected.
public struct ArchitectureError: Error, CustomStringConvertible {
    public let description: String
    /// The character offset in the parsed text of the piece at fault (nil: the text as a whole).
    public let offset: Int?

    init(_ description: String, at offset: Int? = nil) {
        self.description = description
        self.offset = offset
    }
}
