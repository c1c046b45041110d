import Foundation
import Kernels
import NN

/// A multilayer perceptron written the way a lesson writes it:
/// `100 -> 256 relu -> 256 relu -> 2 tanh` (input size, then each Dense width and its activation).
public struct Architecture: Equatable, CustomStringConvertible {
    public enum Activation: Equatable {
        case none, relu, tanh, sigmoid
        case leakyRelu(slope: Float)
    }
    public struct Block: Equatable {
        public var width: Int
        public var activation: Activation
    }

    public var inputSize: Int
    public var blocks: [Block]
    public var outputSize: Int { blocks.last?.width ?? inputSize }

    /// Parses `"100 -> 256 relu -> 2 tanh"`; activations: relu, tanh, sigmoid, leaky (0.2) or leaky(0.1), linear.
    public init(parsing text: String) throws {
        let parts = text.components(separatedBy: "->").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count >= 2, let input = Int(parts[0]), input > 0 else {
            throw ArchitectureError("expected layers like \"100 -> 256 relu -> 2 tanh\", got \"\(text)\"")
        }
        inputSize = input
        blocks = try parts.dropFirst().map(Architecture.parseBlock)
    }

    public init(inputSize: Int, blocks: [Block]) {
        self.inputSize = inputSize
        self.blocks = blocks
    }

    private static func parseBlock(_ text: String) throws -> Block {
        let words = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let first = words.first, let width = Int(first), width > 0, words.count <= 2 else {
            throw ArchitectureError("expected a layer like \"256 relu\", got \"\(text)\"")
        }
        guard words.count == 2 else { return Block(width: width, activation: .none) }
        let name = words[1].lowercased()
        switch name {
        case "relu": return Block(width: width, activation: .relu)
        case "tanh": return Block(width: width, activation: .tanh)
        case "sigmoid": return Block(width: width, activation: .sigmoid)
        case "linear": return Block(width: width, activation: .none)
        case "leaky": return Block(width: width, activation: .leakyRelu(slope: 0.2))
        default:
            if name.hasPrefix("leaky("), name.hasSuffix(")"), let slope = Float(name.dropFirst(6).dropLast()) {
                return Block(width: width, activation: .leakyRelu(slope: slope))
            }
            throw ArchitectureError("unknown activation \"\(words[1])\" (expected relu, leaky, leaky(0.1), tanh, sigmoid or linear)")
        }
    }

    public var description: String {
        ([String(inputSize)] + blocks.map { block in
            switch block.activation {
            case .none: return "\(block.width)"
            case .relu: return "\(block.width) relu"
            case .tanh: return "\(block.width) tanh"
            case .sigmoid: return "\(block.width) sigmoid"
            case .leakyRelu(let slope): return slope == 0.2 ? "\(block.width) leaky" : "\(block.width) leaky(\(slope))"
            }
        }).joined(separator: " -> ")
    }

    /// The network: Dense layers (Glorot-uniform weights, zero biases, as Keras) and activations.
    public func build(using random: inout RandomSource) -> Sequential {
        var layers: [Layer] = []
        var width = inputSize
        for block in blocks {
            layers.append(Dense(inputSize: width, outputSize: block.width, using: &random))
            switch block.activation {
            case .none: break
            case .relu: layers.append(ReLU())
            case .tanh: layers.append(Tanh())
            case .sigmoid: layers.append(Sigmoid())
            case .leakyRelu(let slope): layers.append(LeakyReLU(slope: slope))
            }
            width = block.width
        }
        return Sequential(layers)
    }
}

/// A model description that does not parse; the message says what was expected.
public struct ArchitectureError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

