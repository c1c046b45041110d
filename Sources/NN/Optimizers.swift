import Foundation
import Kernels

/// Updates parameters in place from their gradients, keeping its own per-parameter state.
public protocol Optimizer: AnyObject {
    var parameters: [Parameter] { get }
    var learningRate: Float { get set }
    /// Number of updates applied so far.
    var step: Int { get }
    /// One update; `gradients[i]` belongs to `parameters[i]`.
    func update(with gradients: [Tensor])
    /// One update from a backward pass's gradients (`gradientsForUpdate`), some of them products
    /// still to be computed; the same numbers as `update(with:)` on them computed.
    func update(with gradients: [ParameterGradient])
}

extension Optimizer {
    public func update(with gradients: [ParameterGradient]) { update(with: gradients.map(\.tensor)) }
}

/// Where Adam's ε goes: Keras adds it to √v before bias correction (ε̂), PyTorch to √v̂.
public enum EpsilonConvention: String { case keras, pytorch }

/// Plain gradient descent with optional (heavy-ball) momentum, as PyTorch's `SGD`
/// (Keras's v = μ·v − lr·g, p += v gives the same parameters for a constant learning rate).
public final class SGD: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let momentum: Float
    public private(set) var step = 0
    var velocity: [Tensor]

    public init(parameters: [Parameter], learningRate: Float = 0.01, momentum: Float = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        velocity = parameters.map { Tensor(shape: $0.value.shape) }
    }

    public func update(with gradients: [Tensor]) {
        step += 1
        let (lr, mu, first) = (learningRate, momentum, step == 1)
        let (p, g) = writablePointers(gradients), v = uniqueMutablePointers(&velocity)
        forEachParameterSlice(parameters) { index, start, n in
            let (p, g, v) = (p[index] + start, g[index] + start, v[index] + start)
            // v = μ·v + g (v = g on the first step); p -= lr·v
            if mu == 0 {
                for i in 0..<n { p[i] -= lr * g[i] }
            } else {
                for i in 0..<n {
                    v[i] = first ? g[i] : mu * v[i] + g[i]
                    p[i] -= lr * v[i]
                }
            }
        }
    }
}

/// RMSProp: v = ρ·v + (1−ρ)·g², p −= lr·g / (√v + ε), PyTorch's form (its `alpha` is ρ,
/// default 0.99, ε 1e-8). Keras 3 (ρ 0.9, ε 1e-7) puts ε inside the root, p −= lr·g / √(v + ε):
/// `epsilonInsideRoot`; TensorFlow 1's optimizer did too and started v at 1 (`initialMeanSquare`).
/// Both forms are checked against reference numbers in Tests/NNTests.
public final class RMSProp: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let rho: Float, epsilon: Float, epsilonInsideRoot: Bool
    public private(set) var step = 0
    var meanSquare: [Tensor]

    public init(parameters: [Parameter], learningRate: Float = 1e-3, rho: Float = 0.9, epsilon: Float = 1e-7,
                epsilonInsideRoot: Bool = false, initialMeanSquare: Float = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.rho = rho
        self.epsilon = epsilon
        self.epsilonInsideRoot = epsilonInsideRoot
        meanSquare = parameters.map { Tensor(shape: $0.value.shape, repeating: initialMeanSquare) }
    }

    public func update(with gradients: [Tensor]) {
        step += 1
        let (lr, rho, eps, inside) = (learningRate, rho, epsilon, epsilonInsideRoot)
        let (p, g) = writablePointers(gradients), v = uniqueMutablePointers(&meanSquare)
        forEachParameterSlice(parameters) { index, start, n in
            rmsPropStep(parameter: p[index] + start, gradient: g[index] + start, meanSquare: v[index] + start, count: n,
                        rho: rho, learningRate: lr, epsilon: eps, epsilonInsideRoot: inside)
        }
    }
}

/// Adam: m = β1·m + (1−β1)·g, v = β2·v + (1−β2)·g², p −= lr·m̂ / (√v̂ + ε), with ε placed
/// as Keras or PyTorch place it (`EpsilonConvention`).
public final class Adam: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float, convention: EpsilonConvention
    public private(set) var step = 0
    var firstMoment: [Tensor], secondMoment: [Tensor]

    public init(parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-7, convention: EpsilonConvention = .keras) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.convention = convention
        firstMoment = parameters.map { Tensor(shape: $0.value.shape) }
        secondMoment = firstMoment
    }

    public func update(with gradients: [Tensor]) { update(with: gradients.map(ParameterGradient.tensor)) }

    /// The update on every gradient that is a tensor, and, one weight at a time, on every pending
    /// product that can be taken in blocks (`PendingProduct.forEachBlock`): each block of the
    /// gradient updates its rows of the weight and its moments while it is in cache, so the
    /// gradient never goes to memory. Elementwise, so the same bits either way.
    public func update(with gradients: [ParameterGradient]) {
        precondition(gradients.count == parameters.count, "\(gradients.count) gradients for \(parameters.count) parameters")
        step += 1
        let t = Double(step)
        let correction1 = Float(1 - pow(Double(beta1), t)), correction2 = Float(1 - pow(Double(beta2), t))
        // Keras: lr_t = lr·√(1−β2ᵗ)/(1−β1ᵗ), p −= lr_t·m / (√v + ε).
        // PyTorch: p −= lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε), i.e. ε scaled by √(1−β2ᵗ) in the Keras form.
        let stepSize = learningRate * correction2.squareRoot() / correction1
        let eps = convention == .keras ? epsilon : epsilon * correction2.squareRoot()
        let (b1, b2) = (beta1, beta2)
        let m = uniqueMutablePointers(&firstMoment)
        let v = uniqueMutablePointers(&secondMoment)
        // m = β1·m + (1 − β1)·g, v = β2·v + (1 − β2)·g·g, p −= stepSize·m / (√v + ε), in that
        // order, on the portable kernels' vectors.
        var whole = gradients.map { _ in Tensor?.none }  // the gradients that are tensors (or computed whole)
        for (index, gradient) in gradients.enumerated() {
            guard case .pending(let product) = gradient else {
                whole[index] = gradient.tensor
                continue
            }
            checkShape(product.shape, of: index)
            let p = parameters[index].value.uniqueMutablePointer(), width = product.shape[1]
            let (mi, vi) = (m[index], v[index])
            let blocked = product.forEachBlock { rows, block in  // whole rows: one run of the weight and its moments
                let offset = rows.lowerBound * width
                adamStep(parameter: p + offset, gradient: block, firstMoment: mi + offset, secondMoment: vi + offset,
                         count: rows.count * width, beta1: b1, beta2: b2, stepSize: stepSize, epsilon: eps)
            }
            if !blocked { whole[index] = product.value() }
        }
        let rest = whole.indices.filter { whole[$0] != nil }
        if rest.isEmpty { return }
        let (p, g) = writablePointers(rest.map { whole[$0]! }, of: rest)
        forEachParameterSlice(rest.map { parameters[$0] }) { slot, start, n in
            let index = rest[slot]
            adamStep(parameter: p[slot] + start, gradient: g[slot] + start, firstMoment: m[index] + start,
                     secondMoment: v[index] + start, count: n, beta1: b1, beta2: b2, stepSize: stepSize, epsilon: eps)
        }
    }
}

typealias Buffer = UnsafeMutablePointer<Float>

/// The fewest elements each thread's slice of an update gets (256 KB of every buffer), so that a
/// slice outweighs waking a thread; smaller updates run on one thread.
let updateSlice = 1 << 16

extension Optimizer {
    /// Every parameter's elements, made writable (copied first if shared), beside its
    /// gradient's, checking that each gradient has its parameter's shape.
    func writablePointers(_ gradients: [Tensor]) -> (parameters: [Buffer], gradients: [UnsafePointer<Float>]) {
        precondition(gradients.count == parameters.count, "\(gradients.count) gradients for \(parameters.count) parameters")
        return writablePointers(gradients, of: Array(parameters.indices))
    }

    /// The same for the parameters at `indices`, `gradients[i]` belonging to `parameters[indices[i]]`.
    func writablePointers(_ gradients: [Tensor], of indices: [Int]) -> (parameters: [Buffer], gradients: [UnsafePointer<Float>]) {
        for (index, gradient) in zip(indices, gradients) { checkShape(gradient.shape, of: index) }
        return (indices.map { parameters[$0].value.uniqueMutablePointer() }, gradients.map { UnsafePointer($0.storage.pointer) })
    }

    func checkShape(_ shape: [Int], of index: Int) {
        let parameter = parameters[index]
        precondition(shape == parameter.value.shape, "gradient \(shape) for \(parameter.name) \(parameter.value.shape)")
    }
}

/// Every state tensor's elements, made writable (copied first if shared).
func uniqueMutablePointers(_ states: inout [Tensor]) -> [Buffer] {
    states.indices.map { states[$0].uniqueMutablePointer() }
}

/// Runs `rule(index, start, count)` on elements start..<start + count of parameter `index`, over
/// all of them: the parameters laid end to end as one range, cut into slices on the lab's threads
/// (each at least `updateSlice` elements), so one hand-off serves the whole update and small
/// parameters share a slice. An update is elementwise, so its numbers do not depend on the cut.
func forEachParameterSlice(_ parameters: [Parameter], _ rule: (Int, Int, Int) -> Void) {
    var ends: [Int] = []  // where each parameter ends in the joined range
    ends.reserveCapacity(parameters.count)
    for parameter in parameters { ends.append((ends.last ?? 0) + parameter.value.count) }
    forEachSlice(ends.last ?? 0, minimumSlice: updateSlice) { slice in
        var index = ends.firstIndex { $0 > slice.lowerBound } ?? ends.count
        while index < ends.count {
            let begin = index == 0 ? 0 : ends[index - 1]
            if begin >= slice.upperBound { break }
            let low = max(slice.lowerBound, begin), high = min(slice.upperBound, ends[index])
            if low < high { rule(index, low - begin, high - low) }
            index += 1
        }
    }
}

/// An optimizer whose state can be saved in a checkpoint and restored, with PyTorch's state names.
public protocol OptimizerState: Optimizer {
    /// Names of the per-parameter state tensors ("exp_avg", "exp_avg_sq", …).
    var stateNames: [String] { get }
    /// State tensor `name` of parameter `index`.
    func state(_ name: String, of index: Int) -> Tensor
    /// Replaces state tensor `name` of parameter `index` and the step count.
    func restore(_ name: String, of index: Int, to value: Tensor)
    func restoreStep(_ step: Int)
}

extension SGD: OptimizerState {
    public var stateNames: [String] { ["momentum_buffer"] }
    public func state(_ name: String, of index: Int) -> Tensor { velocity[index] }
    public func restore(_ name: String, of index: Int, to value: Tensor) { velocity[index] = value }
    public func restoreStep(_ step: Int) { self.step = step }
}

extension RMSProp: OptimizerState {
    public var stateNames: [String] { ["square_avg"] }
    public func state(_ name: String, of index: Int) -> Tensor { meanSquare[index] }
    public func restore(_ name: String, of index: Int, to value: Tensor) { meanSquare[index] = value }
    public func restoreStep(_ step: Int) { self.step = step }
}

extension Adam: OptimizerState {
    public var stateNames: [String] { ["exp_avg", "exp_avg_sq"] }
    public func state(_ name: String, of index: Int) -> Tensor { name == "exp_avg" ? firstMoment[index] : secondMoment[index] }
    public func restore(_ name: String, of index: Int, to value: Tensor) {
        if name == "exp_avg" { firstMoment[index] = value } else { secondMoment[index] = value }
    }
    public func restoreStep(_ step: Int) { self.step = step }
}
