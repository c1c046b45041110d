import Kernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A node of the recorded graph: its parents and the pullback that maps the gradient of its
/// output to gradients of its parents. Leaves (parameters, inputs) have no parents.
public final class Node {
    let parents: [Variable]
    let output: Tensor?
    let pullback: Pullback?

    // Scratch of the backward pass that visited this node last (see `differentiableGradients`):
    // fields instead of hash tables keyed by node, valid only while `pass` is that pass's number.
    var pass: UInt64 = 0
    var targetPass: UInt64 = 0
    var isNeeded = false
    var gradient: Variable?
    // For `gradientsForUpdate`: whether this target's gradient may stay pending products, and the
    // sum of those the pullbacks left it.
    var acceptsPendingProduct = false
    var pendingProduct: PendingProduct?

    /// A leaf: a parameter or an input whose gradient can be asked for.
    public init() {
        parents = []
        output = nil
        pullback = nil
    }

    init(parents: [Variable], output: Tensor, pullback: @escaping Pullback) {
        self.parents = parents
        self.output = output
        self.pullback = pullback
    }
}

/// Maps (upstream gradient, this op's output, which parents need a gradient) to the parents'
/// gradients, built from differentiable ops so that gradients of gradients work.
public typealias Pullback = (_ upstream: Variable, _ output: Variable, _ needs: [Bool]) -> [Variable?]

/// A tensor value in a define-by-run graph. Without a node it is a constant.
public struct Variable {
    public let value: Tensor
    public let node: Node?

    /// A constant: no gradient flows into it.
    public init(_ value: Tensor) {
        self.value = value
        node = nil
    }

    /// A value attached to a leaf node (a parameter or an input to differentiate against).
    public init(_ value: Tensor, leaf: Node) {
        self.value = value
        node = leaf
    }

    /// A fresh leaf holding `value`, for differentiating with respect to an input.
    public static func leaf(_ value: Tensor) -> Variable { Variable(value, leaf: Node()) }

    public var shape: [Int] { value.shape }
    public var rank: Int { value.rank }
    public var isConstant: Bool { node == nil }

    /// The same value, cut from the graph (gradients stop here).
    public func detached() -> Variable { Variable(value) }

    /// Records the result of an op with its pullback (or returns a constant when nothing to record).
    /// The parents array and the pullback closure are made only when recorded: a backward pass
    /// or inference without a graph allocates neither.
    @inline(__always)
    public static func record(_ value: Tensor, parents: @autoclosure () -> [Variable],
                              pullback: @autoclosure () -> Pullback) -> Variable {
        guard GradientRecording.isEnabled else { return Variable(value) }
        let parents = parents()
        guard parents.contains(where: { $0.node != nil }) else { return Variable(value) }
        return Variable(value, node: Node(parents: parents, output: value, pullback: pullback()))
    }

    init(_ value: Tensor, node: Node) {
        self.value = value
        self.node = node
    }
}

/// Whether ops record a graph. Off inside `withoutGradients` and during plain backward passes.
/// The switch is per thread, so independent training runs can share the process.
public enum GradientRecording {
    public internal(set) static var isEnabled: Bool {
        get { pthread_getspecific(key) == nil }  // no value set: recording (the default)
        set { pthread_setspecific(key, newValue ? nil : UnsafeRawPointer(bitPattern: 1)) }
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        // Not inside `precondition`: release builds are -Ounchecked, which drops its condition.
        let status = pthread_key_create(&key, nil)
        if status != 0 { fatalError("no thread-specific key for gradient recording (error \(status))") }
        return key
    }()
}

/// Runs `body` without recording a graph (inference, sampling, metrics).
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
    let saved = GradientRecording.isEnabled
    GradientRecording.isEnabled = false
    defer { GradientRecording.isEnabled = saved }
    return try body()
}

func withGradientRecording<R>(_ enabled: Bool, _ body: () throws -> R) rethrows -> R {
    let saved = GradientRecording.isEnabled
    GradientRecording.isEnabled = enabled
    defer { GradientRecording.isEnabled = saved }
    return try body()
}
