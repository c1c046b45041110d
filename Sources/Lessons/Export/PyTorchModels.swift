import Foundation
import GAN
import Kernels

/// A lab network written as PyTorch code: an `nn.Sequential` subclass whose modules are the lab's
/// layers in the lab's order, so that module `i` holds what the checkpoint names "i.weight",
/// "i.running_mean"… and `load_state_dict(strict=True)` takes the lab's tensors as they are.
/// Keras's conventions become explicit PyTorch: "same" padding as the pads it is, BatchNorm's
/// momentum as 1 − Keras's, ε kept, the running variance fed the batch variance over n as Keras feeds it.
struct PyTorchNetwork {
    /// "Generator" or "Discriminator".
    let className: String
    let architecture: Architecture
    /// A fixed scaling (`FixedScale`) the lab puts before the first layer or after the last one
    /// (lesson 4's networks work in units where the mixture reaches ±1); nil: none.
    var inputScale: Float?
    var outputScale: Float?

    /// One module of the Sequential: its constructor call, and what the lab wrote and what it gives.
    struct Module: Equatable {
        let code: String
        let comment: String
    }

    /// The modules, one per lab layer (a linear activation is no layer in the lab either).
    func modules() -> [Module] {
        let shapes: [[Int]]
        do { shapes = try architecture.layerShapes() } catch { preconditionFailure("\(architecture): \(error)") }
        var result: [Module] = []
        func scale(_ factor: Float, _ shape: [Int]) -> Module {
            Module(code: "Scale(\(python(factor)))", comment: "the lab's fixed scaling by \(python(factor)) → \(Architecture.shapeText(shape))")
        }
        if let inputScale { result.append(scale(inputScale, architecture.inputShape)) }
        for (index, layer) in architecture.layers.enumerated() {
            let input = index == 0 ? architecture.inputShape : shapes[index - 1], output = shapes[index]
            var written = Architecture.text(of: layer)
            if case .dense(let width, true) = layer { written = "dense \(width)" }  // the shorthand's bare width, in words
            // PyTorch's own spectral normalisation: one power-iteration step a training forward pass, the
            // state_dict's weight_orig, weight_u and weight_v, dim 1 for a transposed convolution.
            let spectral = architecture.spectralLayers.contains(index)
            if spectral { written += " spectral" }
            func module(_ code: String, _ note: String = "") {
                result.append(Module(code: spectral ? "nn.utils.spectral_norm(\(code))" : code,
                                     comment: "\(written)\(note) → \(Architecture.shapeText(output))"))
            }
            switch layer {
            case let .dense(width, bias):
                module("nn.Linear(\(input[0]), \(width)\(bias ? "" : ", bias=False"))")
            case .activation(let activation):
                switch activation {
                case .none: continue
                case .relu: module("nn.ReLU()")
                case .tanh: module("nn.Tanh()")
                case .sigmoid: module("nn.Sigmoid()")
                case .leakyRelu(let slope): module("nn.LeakyReLU(\(python(slope)))")
                }
            case let .batchNormalization(momentum, epsilon):
                module("KerasBatchNorm\(input.count == 1 ? "1" : "2")d(\(input[0]), eps=\(python(epsilon)), momentum=\(Self.torchMomentum(momentum)))",
                       " (Keras momentum \(python(momentum)))")
            case .dropout(let rate):
                module("nn.Dropout(\(python(rate)))")
            case .reshape(let shape):
                module("Reshape(\(shape.map(String.init).joined(separator: ", ")))")
            case .flatten:
                module("nn.Flatten()")
            case let .convolution(filters, kernel, stride, padding, bias):
                let pads = [Self.convolutionPads(input[1], kernel, stride, padding, vertical: true),
                            Self.convolutionPads(input[2], kernel, stride, padding, vertical: false)]
                let head = "\(input[0]), \(filters), \(kernel), stride=\(stride)"
                let tail = bias ? "" : ", bias=False"
                if pads.allSatisfy({ $0.before == $0.after }) && pads[0] == pads[1] {
                    module("nn.Conv2d(\(head)\(pads[0].before == 0 ? "" : ", padding=\(pads[0].before)")\(tail))")
                } else {
                    // F.pad's order: (left, right, top, bottom).
                    module("PaddedConv2d(\(head), pad=(\(pads[1].before), \(pads[1].after), \(pads[0].before), \(pads[0].after))\(tail))",
                           padding == .same ? " (Keras pads the odd extra row and column at the bottom and right)" : "")
                }
            case let .transposedConvolution(filters, kernel, stride, padding, bias):
                let crops = [Self.transposedCrops(input[1], kernel, stride, padding, vertical: true),
                             Self.transposedCrops(input[2], kernel, stride, padding, vertical: false)]
                let head = "\(input[0]), \(filters), \(kernel), stride=\(stride)"
                let tail = bias ? "" : ", bias=False"
                if crops.allSatisfy({ $0.before == $0.after && $0.before >= 0 }) && crops[0] == crops[1] {
                    module("nn.ConvTranspose2d(\(head)\(crops[0].before == 0 ? "" : ", padding=\(crops[0].before)")\(tail))")
                } else {
                    module("CroppedConvTranspose2d(\(head), crop=(\(crops[1].before), \(crops[1].after), \(crops[0].before), \(crops[0].after))\(tail))",
                           padding == .same ? " (Keras crops the odd extra row and column at the bottom and right)" : "")
                }
            }
        }
        if let outputScale { result.append(scale(outputScale, architecture.outputShape)) }
        return result
    }

    /// The class, with each module numbered as its state_dict names number it.
    var source: String {
        let modules = modules()
        let input = Architecture.shapeText(architecture.inputShape), output = Architecture.shapeText(architecture.outputShape)
        var lines = [
            "class \(className)(nn.Sequential):",
            "    \"\"\"\(input) → \(output), as the lab wrote it:",
            "    \(architecture.description)\"\"\"",
            "",
            "    input_shape = \(Self.tuple(architecture.inputShape))",
            "    output_shape = \(Self.tuple(architecture.outputShape))",
            "",
            "    def __init__(self):",
            "        super().__init__(",
        ]
        let width = modules.map(\.code.count).max() ?? 0
        for (index, module) in modules.enumerated() {
            let code = module.code + ","
            lines.append("            " + code.padding(toLength: width + 1, withPad: " ", startingAt: 0) + "  # \(index): \(module.comment)")
        }
        lines.append("        )")
        return lines.joined(separator: "\n")
    }

    /// PyTorch's BatchNorm momentum for Keras's: PyTorch keeps 1 − momentum of the running
    /// statistics, Keras keeps momentum. Computed in decimal, so that 0.99 gives 0.01, not 0.010000000000000009.
    static func torchMomentum(_ kerasMomentum: Float) -> String {
        guard let keras = Decimal(string: python(kerasMomentum)) else { return python(1 - kerasMomentum) }
        return "\(1 - keras)"
    }

    /// Zero rows before and after the input that a convolution's windows read (Keras's "same":
    /// ⌈n / stride⌉ outputs, the odd extra row after; "valid": none).
    static func convolutionPads(_ size: Int, _ kernel: Int, _ stride: Int, _ padding: Padding, vertical: Bool) -> (before: Int, after: Int) {
        switch padding {
        case .valid: return (0, 0)
        case let .explicit(top, bottom, left, right): return vertical ? (top, bottom) : (left, right)
        case .same: break
        }
        let output = (size + stride - 1) / stride, total = max((output - 1) * stride + kernel - size, 0)
        return (total / 2, total - total / 2)
    }

    /// Rows cut from the full transposed output ((n − 1)·stride + kernel) before and after, so that
    /// it has Keras's size: n·stride for "same" (cut (kernel − stride) / 2 before, the rest after),
    /// n·stride + max(kernel − stride, 0) for "valid". A negative cut adds rows that only the bias reaches.
    static func transposedCrops(_ size: Int, _ kernel: Int, _ stride: Int, _ padding: Padding, vertical: Bool) -> (before: Int, after: Int) {
        if case let .explicit(top, bottom, left, right) = padding { return vertical ? (top, bottom) : (left, right) }
        let full = (size - 1) * stride + kernel
        let (output, before) = padding == .same ? (size * stride, max(kernel - stride, 0) / 2) : (size * stride + max(kernel - stride, 0), 0)
        return (before, full - output - before)
    }

    static func tuple(_ shape: [Int]) -> String {
        "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
    }
}

/// A Float as Python reads it back to the same value ("0.3", "1e-05").
func python(_ value: Float) -> String { "\(value)" }
