import Kernels

/// The network grammar: pieces joined by `->`, the first the input shape, each other one layer
/// (or, in the shorthand, a Dense layer and its activation).
///
///     input                  100 (a vector) or 1x28x28 (channels x height x width, as NCHW)
///     256 relu               Dense 256 then ReLU; any activation below, or none ("256", "256 linear")
///     dense 256 [nobias] [spectral] [activation]   the same, with the word; nobias: no bias
///                            vector; spectral: spectral normalisation (also "256 spectral relu")
///     relu | tanh | sigmoid  an activation on its own
///     leaky [slope]          LeakyReLU, slope 0.2 unless given (also leaky(0.1))
///     batchnorm [momentum 0.99] [epsilon 0.001]   Keras's BatchNormalization
///     dropout 0.3            Dropout with that rate
///     reshape 256x7x7        Reshape (the batch dimension is kept)
///     flatten                Flatten
///     conv 64 5x5 [stride 1] [same|valid] [nobias] [spectral]     Conv2D (Keras's defaults: stride 1, valid, bias)
///     deconv 64 5x5 [stride 1] [same|valid] [nobias] [spectral]   Conv2DTranspose
enum ArchitectureParser {
    static let layerWords = "a width such as 256, dense, relu, leaky, tanh, sigmoid, batchnorm, dropout, reshape, flatten, conv or deconv"
    static let activationWords = "relu, leaky, leaky 0.1, tanh, sigmoid or linear"

    static func parse(_ text: String) throws -> Architecture {
        let pieces = split(text)
        guard pieces.count >= 2, !pieces.contains(where: { $0.text.isEmpty }) else {
            let empty = pieces.dropFirst().first { $0.text.isEmpty }
            throw ArchitectureError(empty == nil || pieces.count < 2
                ? "expected an input and layers joined by ->, like \"100 -> 256 relu -> 2 tanh\" or \"1x28x28 -> flatten -> 1\""
                : "a layer is missing between two arrows (->) in \"\(text)\"", at: empty?.offset)
        }
        let input = pieces[0]
        guard let shape = parseShape(input.text), shape.count == 1 || shape.count == 3 else {
            throw ArchitectureError("the input \"\(input.text)\" should be a size such as 100 or an image shape "
                                    + "channels x height x width such as 1x28x28", at: input.offset)
        }
        var architecture = Architecture(inputShape: shape, layers: [])
        var sources: [Architecture.Source] = []
        var spectralLayers = Set<Int>()
        for piece in pieces.dropFirst() {
            let (layers, spectral) = try parseLayer(piece)
            if spectral { spectralLayers.insert(architecture.layers.count) }  // the piece's first layer: its Dense or convolution
            architecture.layers += layers
            sources += Array(repeating: piece, count: layers.count)
        }
        architecture.spectralLayers = spectralLayers
        architecture.inputSource = input
        architecture.layerSources = sources
        return architecture
    }

    /// The pieces between arrows, trimmed, with the offset of each one's first character.
    static func split(_ text: String) -> [Architecture.Source] {
        let characters = Array(text)
        var pieces: [Architecture.Source] = []
        var start = 0, index = 0
        func close(_ end: Int) {
            var (low, high) = (start, end)
            while low < high, characters[low].isWhitespace { low += 1 }
            while high > low, characters[high - 1].isWhitespace { high -= 1 }
            pieces.append(Architecture.Source(text: String(characters[low..<high]), offset: low))
        }
        while index < characters.count {
            if characters[index] == "-", index + 1 < characters.count, characters[index + 1] == ">" {
                close(index)
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        close(characters.count)
        return pieces
    }

    /// The largest width, size, kernel or stride: sizes multiply without overflowing.
    static let largestSize = Int(Int32.max)

    /// A positive whole number up to `largestSize` (underscores allowed: 12_544).
    static func size(_ text: String) -> Int? {
        guard let value = Int(text.replacingOccurrences(of: "_", with: "")), value > 0, value <= largestSize else { return nil }
        return value
    }

    /// "100" → [100], "1x28x28" → [1, 28, 28] (x or ×); nil unless every size is a positive whole number.
    static func parseShape(_ text: String) -> [Int]? {
        let sizes = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
            .flatMap { $0.split(separator: "×", omittingEmptySubsequences: false) }.map { size(String($0)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 != nil }) else { return nil }
        return sizes.map { $0! }
    }

    /// The layers of one piece, and whether its first (a Dense or convolution layer) is spectrally normalised.
    private static func parseLayer(_ piece: Architecture.Source) throws -> (layers: [Architecture.LayerSpecification], spectral: Bool) {
        (try parseLayerSpecifications(piece), piece.text.lowercased().split(whereSeparator: \.isWhitespace).contains("spectral"))
    }

    private static func parseLayerSpecifications(_ piece: Architecture.Source) throws -> [Architecture.LayerSpecification] {
        var words = piece.text.lowercased().split(whereSeparator: \.isWhitespace).map(String.init)
        func fail(_ problem: String) -> ArchitectureError { ArchitectureError("layer \"\(piece.text)\": \(problem)", at: piece.offset) }
        func number<T: LosslessStringConvertible>(after word: String, _ index: Int, as type: T.Type, _ what: String) throws -> T {
            guard index + 1 < words.count, let value = T(words[index + 1]) else { throw fail("\(word) needs \(what)") }
            return value
        }
        let first = words.removeFirst()
        if first == "spectral" {
            throw fail("spectral goes after the layer it normalises, as in dense 256 spectral or conv 64 4x4 stride 2 same spectral")
        }
        if words.contains("spectral"), Int(first) == nil, !["dense", "conv", "deconv"].contains(first) {
            throw fail("spectral normalisation applies to dense, conv and deconv layers only")
        }
        if Int(first) != nil {
            guard let width = size(first) else { throw fail("a Dense width must be a whole number from 1 to \(grouped(largestSize))") }
            return try denseLayers(width: width, words, fail)
        }
        if first.hasPrefix("leaky") { return [.activation(try activation(first, words, fail))] }
        switch first {
        case "dense":
            guard let width = words.first.flatMap(size) else { throw fail("dense needs a width, such as dense 256") }
            return try denseLayers(width: width, Array(words.dropFirst()), fail)
        case "relu", "tanh", "sigmoid", "linear":
            guard words.isEmpty else { throw fail("\(first) takes nothing after it") }
            guard first != "linear" else { throw fail("linear is written after a Dense width (\"2 linear\"); on its own it does nothing") }
            return [.activation(try activation(first, [], fail))]
        case "batchnorm":
            var momentum: Float = 0.99, epsilon: Float = 1e-3
            var index = 0
            while index < words.count {
                switch words[index] {
                case "momentum": momentum = try number(after: "momentum", index, as: Float.self, "a number from 0 to 1 after it, such as momentum 0.8")
                case "epsilon": epsilon = try number(after: "epsilon", index, as: Float.self, "a small positive number after it, such as epsilon 0.001")
                default: throw fail("unexpected \"\(words[index])\" (expected momentum M and epsilon E, e.g. batchnorm momentum 0.8)")
                }
                index += 2
            }
            guard (0...1).contains(momentum) else { throw fail("momentum \(momentum) is outside 0…1 (Keras's convention: 0.99 keeps 99 % of the running statistics)") }
            guard epsilon > 0, epsilon.isFinite else { throw fail("epsilon must be a small positive number, such as 0.001") }
            return [.batchNormalization(momentum: momentum, epsilon: epsilon)]
        case "dropout":
            guard words.count == 1, let rate = Float(words[0]) else { throw fail("expected a rate, such as dropout 0.3") }
            guard rate >= 0, rate < 1 else { throw fail("the dropout rate \(words[0]) must be at least 0 and below 1") }
            return [.dropout(rate: rate)]
        case "reshape":
            guard words.count == 1, let shape = parseShape(words[0]) else {
                throw fail("expected a shape, such as reshape 256x7x7 (channels x height x width) or reshape 784")
            }
            guard shape.count == 1 || shape.count == 3 else {
                throw fail("reshape to a size (784) or an image shape channels x height x width (1x28x28), not \(words[0])")
            }
            return [.reshape(shape)]
        case "flatten":
            guard words.isEmpty else { throw fail("flatten takes nothing after it") }
            return [.flatten]
        case "conv", "deconv":
            return [try convolution(transposed: first == "deconv", words, fail)]
        default:
            throw fail("unknown layer \"\(first)\" (expected \(layerWords))")
        }
    }

    /// The words after a Dense width: [nobias] [spectral] [activation [slope]] (`spectral` is read by `parseLayer`).
    private static func denseLayers(width: Int, _ words: [String], _ fail: (String) -> ArchitectureError) throws -> [Architecture.LayerSpecification] {
        var rest = words[...]
        var bias = true, spectral = false
        while let option = rest.first, option == "nobias" || option == "spectral" {
            guard option == "nobias" ? bias : !spectral else {
                throw fail(option == "nobias" ? "nobias comes right after the width: dense \(width) nobias" : "spectral is given twice")
            }
            if option == "nobias" { bias = false } else { spectral = true }
            rest = rest.dropFirst()
        }
        guard let name = rest.first else { return [.dense(width: width, bias: bias)] }
        if rest.contains("spectral") {
            throw fail("spectral comes right after the width (and nobias), before the activation: dense \(width) spectral \(name)")
        }
        let activation = try activation(name, Array(rest.dropFirst()), fail)
        return [.dense(width: width, bias: bias)] + (activation == .none ? [] : [.activation(activation)])
    }

    /// relu, tanh, sigmoid, linear, leaky, leaky 0.1 or leaky(0.1).
    private static func activation(_ name: String, _ arguments: [String], _ fail: (String) -> ArchitectureError) throws -> Architecture.Activation {
        func noArguments(_ activation: Architecture.Activation) throws -> Architecture.Activation {
            guard arguments.isEmpty else { throw fail("unexpected \"\(arguments.joined(separator: " "))\" after \(name)") }
            return activation
        }
        switch name {
        case "relu": return try noArguments(.relu)
        case "tanh": return try noArguments(.tanh)
        case "sigmoid": return try noArguments(.sigmoid)
        case "linear": return try noArguments(.none)
        case "leaky":
            guard let slope = arguments.first else { return .leakyRelu(slope: 0.2) }
            guard arguments.count == 1, let value = Float(slope), value.isFinite else {
                throw fail("expected a slope after leaky, such as leaky 0.3, got \"\(arguments.joined(separator: " "))\"")
            }
            return .leakyRelu(slope: value)
        default:
            if name.hasPrefix("leaky("), name.hasSuffix(")"), let slope = Float(name.dropFirst(6).dropLast()), slope.isFinite {
                return try noArguments(.leakyRelu(slope: slope))
            }
            throw fail("unknown activation \"\(name)\" (expected \(activationWords))")
        }
    }

    /// conv/deconv FILTERS KxK [stride S] [same|valid] [nobias] [spectral], options in any order.
    private static func convolution(transposed: Bool, _ words: [String], _ fail: (String) -> ArchitectureError) throws -> Architecture.LayerSpecification {
        let word = transposed ? "deconv" : "conv"
        let example = "\(word) 64 5x5 stride 2 same"
        guard words.count >= 2, let filters = size(words[0]) else {
            throw fail("expected the number of filters and the kernel size, such as \(example)")
        }
        guard let kernelShape = parseShape(words[1]), kernelShape.count <= 2 else {
            throw fail("expected a kernel size such as 5x5 after the filters, got \"\(words[1])\"")
        }
        guard kernelShape.allSatisfy({ $0 == kernelShape[0] }) else {
            throw fail("only square kernels are supported (such as 5x5), not \(words[1])")
        }
        var stride = 1, padding = Padding.valid, bias = true
        var seen = Set<String>()
        var index = 2
        while index < words.count {
            let option = words[index]
            let key = option == "same" || option == "valid" ? "padding" : option
            guard seen.insert(key).inserted else { throw fail("\(key) is given twice") }
            switch option {
            case "stride":
                guard index + 1 < words.count, let value = size(words[index + 1]) else {
                    throw fail("stride needs a positive whole number after it, such as stride 2")
                }
                stride = value
                index += 1
            case "same": padding = .same
            case "valid": padding = .valid
            case "nobias": bias = false
            case "spectral": break  // read by parseLayer
            default: throw fail("unexpected \"\(option)\" (expected stride N, same, valid, nobias or spectral, as in \(example))")
            }
            index += 1
        }
        return transposed
            ? .transposedConvolution(filters: filters, kernel: kernelShape[0], stride: stride, padding: padding, bias: bias)
            : .convolution(filters: filters, kernel: kernelShape[0], stride: stride, padding: padding, bias: bias)
    }
}
