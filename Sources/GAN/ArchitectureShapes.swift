import Kernels

/// The shape rules: what each layer reads and what it gives, checked before anything is built.
///
/// - Dense reads a vector (put `flatten` before it after a convolution or a reshape to an image).
/// - conv and deconv read images, channels x height x width (`reshape` a vector first); a `valid`
///   convolution needs images at least as large as its kernel.
/// - reshape keeps the number of values (12,544 = 256·7·7).
/// - batchnorm normalises each feature of a vector or each channel of an image; activations,
///   dropout and flatten take any input.
extension Architecture {
    /// The shape of each layer's output (after the batch dimension), or an error naming the first
    /// layer that does not fit what comes before it, with the shapes involved.
    public func layerShapes() throws -> [[Int]] {
        var shape = inputShape
        var shapes: [[Int]] = []
        guard Architecture.count(of: shape) != nil else {
            throw ArchitectureError("the input \(Architecture.shapeText(shape)) must hold 1 to \(grouped(Architecture.largestCount)) numbers",
                                    at: inputSource?.offset)
        }
        for (index, layer) in layers.enumerated() {
            let source = index < layerSources.count ? layerSources[index] : nil
            let written = source?.text ?? Architecture.text(of: layer)
            let before = index == 0 ? "the input is" : "the layer before gives"
            func fail(_ problem: String) -> ArchitectureError {
                ArchitectureError("layer \"\(written)\": \(problem)", at: source?.offset)
            }
            switch layer {
            case .dense(let width, _):
                guard shape.count == 1 else {
                    throw fail("a Dense layer reads a vector, but \(before) \(Architecture.shapeDescription(shape)); put flatten before it")
                }
                shape = [width]
            case .activation, .dropout:
                break
            case .batchNormalization:
                guard shape.count == 1 || shape.count == 3 else { throw fail("batchnorm reads a vector or images, not \(Architecture.shapeDescription(shape))") }
            case .reshape(let target):
                let count = Architecture.count(of: shape)!
                guard let targetCount = Architecture.count(of: target) else {
                    throw fail("\(Architecture.shapeText(target)) holds more than \(grouped(Architecture.largestCount)) numbers")
                }
                guard count == targetCount else {
                    throw fail("\(Architecture.shapeText(target)) holds \(grouped(targetCount)) numbers, but \(before) \(Architecture.shapeDescription(shape))"
                               + (shape.count > 1 ? " = \(grouped(count)) numbers" : ""))
                }
                shape = target
            case .flatten:
                shape = [shape.reduce(1, *)]
            case let .convolution(filters, kernel, stride, padding, _), let .transposedConvolution(filters, kernel, stride, padding, _):
                let transposed: Bool
                if case .transposedConvolution = layer { transposed = true } else { transposed = false }
                guard shape.count == 3 else {
                    throw fail("a \(transposed ? "transposed " : "")convolution reads images (channels x height x width), but "
                               + "\(before) \(Architecture.shapeDescription(shape)); reshape them to images first (reshape CxHxW)")
                }
                if !transposed, padding == .valid, shape[1] < kernel || shape[2] < kernel {
                    throw fail("a \(kernel)x\(kernel) kernel does not fit in \(shape[1])x\(shape[2]) images without padding; "
                               + "write same, or use a smaller kernel")
                }
                let batchShape = [1] + shape, weight = [filters, shape[0], kernel, kernel]
                shape = transposed
                    ? Array(ConvolutionGeometry.transposedConvolution(inputShape: batchShape, weightShape: [shape[0], filters, kernel, kernel],
                                                                      stride: stride, padding: padding).inputShape.dropFirst())
                    : Array(ConvolutionGeometry.convolution(inputShape: batchShape, weightShape: weight, stride: stride,
                                                            padding: padding).outputShape.dropFirst())
            }
            guard Architecture.count(of: shape) != nil else {
                throw fail("it gives \(Architecture.shapeText(shape)), more than \(grouped(Architecture.largestCount)) numbers per sample")
            }
            shapes.append(shape)
        }
        return shapes
    }

    /// The most numbers one sample may hold between layers.
    static let largestCount = Int(Int32.max)

    /// The number of values in `shape`, nil beyond `largestCount` (or with a size that is not positive).
    static func count(of shape: [Int]) -> Int? {
        var count = 1
        for size in shape {
            guard size > 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, product <= largestCount else { return nil }
            count = product
        }
        return count
    }
}

extension Architecture {
    /// "784 numbers" for a vector, "128x7x7 images" for channels x height x width.
    public static func shapeDescription(_ shape: [Int]) -> String {
        shape.count == 1 ? "\(grouped(shape[0])) number\(shape[0] == 1 ? "" : "s")" : "\(shapeText(shape)) images"
    }

    /// "100" for a vector, "1x28x28" for an image shape: the grammar's spelling.
    public static func shapeText(_ shape: [Int]) -> String { shape.map(String.init).joined(separator: "x") }
}

/// Thousands separated with commas, as Keras prints parameter counts: 12544 → "12,544".
public func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var result = ""
    for (index, digit) in digits.enumerated() {
        if index > 0, (digits.count - index) % 3 == 0 { result += "," }
        result.append(digit)
    }
    return (value < 0 ? "-" : "") + result
}
