import Kernels
import Synchronization

/// Gradients of the scalar `loss` with respect to each of `targets` (zeros where unreachable).
public func gradients(of loss: Variable, at targets: [Variable]) -> [Tensor] {
    differentiableGradients(of: loss, at: targets, createGraph: false).map(\.value)
}

/// Gradients that are themselves recorded in the graph, so they can be differentiated again
/// (as WGAN-GP's gradient penalty needs).
public func differentiableGradients(of loss: Variable, at targets: [Variable], createGraph: Bool = true) -> [Variable] {
    precondition(loss.value.count == 1, "gradients need a scalar loss, got shape \(loss.shape)")
    var results: [Variable?] = Array(repeating: nil, count: targets.count)
    if let root = loss.node {
        let nodes = targets.map(\.node)
        backwardPass(from: root, lossShape: loss.shape, targets: nodes.compactMap { $0 }, createGraph: createGraph,
                     releasing: false) { node, gradient in
            for (index, target) in nodes.enumerated() where target === node { results[index] = gradient }
        }
    }
    return zip(results, targets).map { result, target in result ?? Variable(Tensor(shape: target.shape)) }
}

/// A backward pass that hands each target's gradient to `deliver(index, gradient)` as soon as it
/// is final — when the pass reaches the target, right after the last op that reads it — and
/// uses the graph up as it goes: once an op has passed its gradient on, what it saved (its
/// inputs, output and pullback) is freed, as PyTorch's `backward` does unless told to retain
/// the graph. So an optimizer can update each parameter while its gradient is still in cache,
/// in place (the graph no longer holds the parameter's value), and the gradient is freed
/// before the next one is made. The graph cannot be differentiated again. Targets the loss
/// does not reach get zeros, after the pass.
public func backward(_ loss: Variable, to targets: consuming [Variable], deliver: (Int, Tensor) -> Void) {
    precondition(loss.value.count == 1, "gradients need a scalar loss, got shape \(loss.shape)")
    let nodes = targets.map(\.node), shapes = targets.map(\.shape)
    _ = consume targets  // no hold on the targets' values beyond the graph's, which goes as the pass goes
    var delivered = Array(repeating: false, count: nodes.count)
    if let root = loss.node {
        backwardPass(from: root, lossShape: loss.shape, targets: nodes.compactMap { $0 }, createGraph: false,
                     releasing: true) { node, gradient in
            for (index, target) in nodes.enumerated() where target === node {
                delivered[index] = true
                deliver(index, gradient.value)
            }
        }
    }
    for index in nodes.indices where !delivered[index] { deliver(index, Tensor(shape: shapes[index])) }
}

/// Backward = topological sort + accumulation; only nodes on a path to a target are visited,
/// and each pullback is told which parents need a gradient. `reached(target, gradient)` is
/// called when the pass comes to a target: every op that reads it lies before it in reverse
/// topological order, so its gradient is then complete. With `releasing`, each op frees what it
/// saved once it has run.
private func backwardPass(from root: Node, lossShape: [Int], targets: [Node], createGraph: Bool, releasing: Bool,
                          reached: (Node, Variable) -> Void) {
    let pass = backwardPasses.wrappingAdd(1, ordering: .relaxed).newValue
    for target in targets { target.targetPass = pass }
    let order = topologicalOrder(from: root, pass: pass)
    for node in order {  // parents come before children
        node.isNeeded = node.targetPass == pass || node.parents.contains { $0.node?.isNeeded ?? false }
    }

    root.gradient = Variable(Tensor(shape: lossShape, repeating: 1))
    withGradientRecording(createGraph) {
        for node in order.reversed() {
            guard node.isNeeded, let upstream = node.gradient else { continue }
            if node.targetPass == pass { reached(node, upstream) }
            guard let pullback = node.pullback else {
                if releasing { node.gradient = nil }
                continue
            }
            let needs = node.parents.map { $0.node?.isNeeded ?? false }
            let output = createGraph ? Variable(node.output!, node: node) : Variable(node.output!)
            let parentGrads = pullback(upstream, output, needs)
            for (parent, grad) in zip(node.parents, parentGrads) {
                guard let parentNode = parent.node, let grad, parentNode.isNeeded else { continue }
                precondition(grad.shape == parent.shape, "gradient shape \(grad.shape) for value of shape \(parent.shape)")
                if createGraph, let existing = parentNode.gradient {
                    parentNode.gradient = existing + grad
                } else if var sum = parentNode.gradient?.value {
                    parentNode.gradient = nil  // the sum is then its tensor's only holder: added in place, not copied first
                    sum.add(grad.value)
                    parentNode.gradient = Variable(sum)
                } else {
                    parentNode.gradient = grad
                }
            }
            if !createGraph { node.gradient = nil }  // free as we go
            if releasing { node.release() }
        }
    }
    for node in order { node.gradient = nil }  // every pass leaves its nodes' gradient slots empty
}

/// Numbers the backward passes, so a node's scratch fields can tell which pass wrote them.
private let backwardPasses = Atomic<UInt64>(0)

/// The nodes that `root` depends on, parents before children, each marked with `pass`.
private func topologicalOrder(from root: Node, pass: UInt64) -> [Node] {
    var order: [Node] = []
    var stack: [(Node, Int)] = [(root, 0)]
    root.pass = pass
    while let (node, next) = stack.popLast() {
        // Not `precondition`: release builds are -Ounchecked, which drops its condition.
        if node.isReleased { fatalError("a backward pass reached a graph an earlier pass used up (`backward(_:to:deliver:)`)") }
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
