import Kernels

/// Gradients of the scalar `loss` with respect to each of `targets` (zeros where unreachable).
/// Backward = topological sort + accumulation; only nodes on a path to a target are visited,
/// and each pullback is told which parents need a gradient.
public func gradients(of loss: Variable, at targets: [Variable]) -> [Tensor] {
    differentiableGradients(of: loss, at: targets, createGraph: false).map(\.value)
}

/// Gradients that are themselves recorded in the graph, so they can be differentiated again
/// (as WGAN-GP's gradient penalty needs).
public func differentiableGradients(of loss: Variable, at targets: [Variable], createGraph: Bool = true) -> [Variable] {
    precondition(loss.value.count == 1, "gradients need a scalar loss, got shape \(loss.shape)")
    let zeros = { (t: Variable) in Variable(Tensor(shape: t.shape)) }
    guard let root = loss.node else { return targets.map(zeros) }

    let order = topologicalOrder(from: root)
    let targetIDs = Set(targets.compactMap { $0.node.map(ObjectIdentifier.init) })
    var needed = Set<ObjectIdentifier>()
    for node in order {  // parents come before children
        let id = ObjectIdentifier(node)
        if targetIDs.contains(id) || node.parents.contains(where: { $0.node.map { needed.contains(ObjectIdentifier($0)) } ?? false }) {
            needed.insert(id)
        }
    }

    var grads: [ObjectIdentifier: Variable] = [ObjectIdentifier(root): Variable(Tensor(shape: loss.shape, repeating: 1))]
    withGradientRecording(createGraph) {
        for node in order.reversed() {
            let id = ObjectIdentifier(node)
            guard needed.contains(id), let pullback = node.pullback, let upstream = grads[id] else { continue }
            let needs = node.parents.map { $0.node.map { needed.contains(ObjectIdentifier($0)) } ?? false }
            let output = createGraph ? Variable(node.output!, node: node) : Variable(node.output!)
            let parentGrads = pullback(upstream, output, needs)
            for (parent, grad) in zip(node.parents, parentGrads) {
                guard let parentNode = parent.node, let grad else { continue }
                let pid = ObjectIdentifier(parentNode)
                guard needed.contains(pid) else { continue }
                precondition(grad.shape == parent.shape, "gradient shape \(grad.shape) for value of shape \(parent.shape)")
                if let existing = grads[pid] {
                    grads[pid] = accumulate(existing, grad, createGraph: createGraph)
                } else {
                    grads[pid] = grad
                }
            }
            if !createGraph { grads[id] = nil }  // free as we go
        }
    }
    return targets.map { target in target.node.flatMap { grads[ObjectIdentifier($0)] } ?? zeros(target) }
}

private func accumulate(_ a: Variable, _ b: Variable, createGraph: Bool) -> Variable {
    if createGraph { return a + b }
    var sum = a.value
    sum.add(b.value)
    return Variable(sum)
}

private func topologicalOrder(from root: Node) -> [Node] {
    var order: [Node] = []
    var visited = Set<ObjectIdentifier>()
    var stack: [(Node, Int)] = [(root, 0)]
    visited.insert(ObjectIdentifier(root))
    while let (node, next) = stack.popLast() {
        if next < node.parents.count {
            stack.append((node, next + 1))
            if let parent = node.parents[next].node, visited.insert(ObjectIdentifier(parent)).inserted {
                stack.append((parent, 0))
            }
        } else {
            order.append(node)
        }
    }
    return order
}

