import Autodiff
import Kernels

/// Mean binary cross-entropy of `logits` against `targets` in [0, 1] (or noisy labels),
/// computed stably as softplus(x) − x·t: −[t·log σ(x) + (1−t)·log(1−σ(x))].
public func binaryCrossEntropy(logits: Variable, targets: Tensor) -> Variable {
    (logits.softplus() - logits * targets).mean()
}

/// Mean squared error.
public func meanSquaredError(_ prediction: Variable, _ target: Tensor) -> Variable {
    let difference = prediction - target
    return (difference * difference).mean()
}
