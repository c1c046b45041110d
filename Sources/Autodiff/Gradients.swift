import Kernels
import Synchronization

/// Gradients of the scalar `loss` with respect to each of `targets` (zeros where unreachable).
/// Backward = topological sort + accumulation; only nodes on a path to a target are visited,
/// and each pullback is told which parents need a gradient.
public func gradients(of loss: Variable, at targets: [Variable]) -> [Tensor] {
    differentiableGradients(of: loss, at: targets, createGraph: false).map(\.value)
}

/// Gradients for an update: as `gradients(of:at:)`, except that a target whose whole gradient is
/// one layer's weight-gradient product (`linear`'s, the target used once in the graph) gets it
/// as a pending product, so that the optimizer can compute it a block at a time and update the
/// weight from each block while it is in cache. The same numbers as `gradients(of:at:)`.
public func gradientsForUpdate(of loss: Variable, at targets: [Variable]) -> [ParameterGradient] {
    precondition(loss.value.count == 1, "gradients need a scalar loss, got shape \(loss.shape)")
    guard loss.node != nil else { return targets.map { .tensor(Tensor(shape: $0.shape)) } }
    return backward(from: loss, at: targets, createGraph: false, pendingProducts: true).map { gradient in
        switch gradient {
        case .variable(let variable): .tensor(variable.value)
        case .pending(let product): .pending(product)
        }
    }
}

/// Gradients that are themselves recorded in the graph, so they can be differentiated again
/// (as WGAN-GP's gradient penalty needs).
public func differentiableGradients(of loss: Variable, at targets: [Variable], createGraph: Bool = true) -> [Variable] {
    precondition(loss.value.count == 1, "gradients need a scalar loss, got shape \(loss.shape)")
    guard loss.node != nil else { return targets.map { Variable(Tensor(shape: $0.shape)) } }
    return backward(from: loss, at: targets, createGraph: createGraph, pendingProducts: false).map { gradient in
        guard case .variable(let variable) = gradient else { preconditionFailure("a pending product without asking for one") }
        return variable
    }
}

/// A target's gradient as the backward pass leaves it.
private enum TargetGradient {
    case variable(Variable)
    case pending(PendingProduct)
}

/// The backward pass. With `pendingProducts` (and no graph recorded), a target accepts its
/// gradient as products not computed yet, summed in the order they arrive, while every op using
/// it offers one (`weightGradient(_:for:)`, a layer's weight); a gradient of another kind then
/// computes the sum so far and adds to it, as the pass would have.
private func backward(from loss: Variable, at targets: [Variable], createGraph: Bool, pendingProducts: Bool) -> [TargetGradient] {
    let zeros = { (t: Variable) in Variable(Tensor(shape: t.shape)) }
    let root = loss.node!
    let pass = backwardPasses.wrappingAdd(1, ordering: .relaxed).newValue
    for target in targets { target.node?.targetPass = pass }
    let order = topologicalOrder(from: root, pass: pass)
    for node in order {  // parents come before children
        node.isNeeded = node.targetPass == pass || node.parents.contains { $0.node?.isNeeded ?? false }
    }
    if pendingProducts && !createGraph {
        for target in targets { if let node = target.node, node.pass == pass { node.acceptsPendingProduct = true } }
    }

    root.gradient = Variable(Tensor(shape: loss.shape, repeating: 1))
    var needs: [Bool] = []  // refilled for each node: one array for the pass unless a pullback keeps it
    withGradientRecording(createGraph) {
        for node in order.reversed() {
            guard node.isNeeded, let pullback = node.pullback, let upstream = node.gradient else { continue }
            needs.removeAll(keepingCapacity: true)
            for parent in node.parents { needs.append(parent.node?.isNeeded ?? false) }
            let output = createGraph ? Variable(node.output!, node: node) : Variable(node.output!)
            let parentGrads = pullback(upstream, output, needs)
            for (parent, grad) in zip(node.parents, parentGrads) {
                guard let parentNode = parent.node, let grad, parentNode.isNeeded else { continue }
                precondition(grad.shape == parent.shape, "gradient shape \(grad.shape) for value of shape \(parent.shape)")
                if createGraph, let existing = parentNode.gradient {
                    parentNode.gradient = existing + grad
                } else if let pending = parentNode.pendingProduct {
                    // A gradient that is not a product after one that is: the sum computed here, in the same order.
                    parentNode.pendingProduct = nil
                    var sum = pending.value()
                    sum.add(grad.value)
                    parentNode.gradient = Variable(sum)
                } else if var sum = parentNode.gradient?.value {
                    parentNode.gradient = nil  // the sum is then its tensor's only holder: added in place, not copied first
                    sum.add(grad.value)
                    parentNode.gradient = Variable(sum)
                } else {
                    parentNode.gradient = grad
                }
            }
            if !createGraph { node.gradient = nil }  // free as we go
        }
    }
    let results = targets.map { target -> TargetGradient in
        guard let node = target.node, node.pass == pass else { return .variable(zeros(target)) }
        if let product = node.pendingProduct { return .pending(product) }
        return .variable(node.gradient ?? zeros(target))
    }
    for target in targets {
        target.node?.acceptsPendingProduct = false
        target.node?.pendingProduct = nil
    }
    for node in order { node.gradient = nil }  // every pass leaves its nodes' gradient slots empty
    return results
}

/// Numbers the backward passes, so a node's scratch fields can tell which pass wrote them.
private let backwardPasses = Atomic<UInt64>(0)

/// The nodes that `root` depends on, parents before children, each marked with `pass`.
private func topologicalOrder(from root: Node, pass: UInt64) -> [Node] {
    var order: [Node] = [], stack: [(Node, Int)] = []
    order.reserveCapacity(96)  // a small graph without growing one node at a time, and under glibc's 1 KB per-thread cache
    stack.reserveCapacity(32)
    stack.append((root, 0))
    root.pass = pass
    while let (node, next) = stack.popLast() {
        if next < node.parents.count {
            stack.append((node, next + 1))
            if let parent = node.parents[next].node, parent.pass != pass {
                parent.pass = pass
                stack.append((parent, 0))
            }
        } else {
            order.append(node)
        }
    }
    return order
}
