"""Fixture cases of training: losses, the WGAN-GP gradient penalty, optimizers (see fixture_cases.py)."""

import math

import torch
import torch.nn.functional as F

from fixture_cases import case, differentiate, normal, uniform, with_extremes


# ------------------------------------------------------------------------------------------ losses

def bce_with_logits(dtype, targets):
    logits = with_extremes(normal(64, 1, scale=3.0))
    half = logits.shape[0] // 2
    if targets == "hard":
        target = torch.cat([torch.ones(half, 1), torch.zeros(half, 1)])
    elif targets == "smoothed":
        target = torch.cat([torch.full((half, 1), 0.9), torch.zeros(half, 1)])
    else:
        target = torch.cat([1 - 0.1 * uniform(half, 1), 0.1 * uniform(half, 1)])
    tensors = differentiate(lambda input, target: F.binary_cross_entropy_with_logits(input, target),
                            {"input": logits}, {}, dtype, constants={"target": target})
    return tensors, {"op": "binary_cross_entropy_with_logits", "reduction": "mean",
                     "targets": targets,
                     "formula": "mean(max(x,0) - x*t + log(1 + exp(-|x|)))"}


case("bce_with_logits_hard", targets="hard")(bce_with_logits)
case("bce_with_logits_smoothed", targets="smoothed")(bce_with_logits)
case("bce_with_logits_noisy", targets="noisy")(bce_with_logits)


@case("mse")
def mse(dtype):
    tensors = differentiate(lambda input, target: F.mse_loss(input, target),
                            {"input": normal(8, 6)}, {}, dtype, constants={"target": normal(8, 6)})
    return tensors, {"op": "mse_loss", "reduction": "mean", "formula": "mean((input - target)^2)"}


@case("hinge")
def hinge(dtype):
    target = torch.where(uniform(64, 1) < 0.5, -1.0, 1.0)
    logits = normal(64, 1, scale=1.5)
    margin = 1 - target * logits
    logits = torch.where(margin.abs() < 0.05, logits + 0.1, logits)  # away from the kink
    tensors = differentiate(lambda input, target: F.relu(1 - target * input).mean(),
                            {"input": logits}, {}, dtype, constants={"target": target})
    return tensors, {"op": "hinge_loss", "reduction": "mean", "targets": "-1 or 1",
                     "formula": "mean(relu(1 - target * input))"}


@case("wasserstein")
def wasserstein(dtype):
    tensors = differentiate(lambda input_real, input_fake: input_fake.mean() - input_real.mean(),
                            {"input_real": normal(32, 1, scale=2.0), "input_fake": normal(32, 1)},
                            {}, dtype)
    return tensors, {"op": "wasserstein_critic_loss", "reduction": "mean",
                     "formula": "mean(input_fake) - mean(input_real)"}


# -------------------------------------------------------------------------------- gradient penalty

def penalty_case(parameters, real, fake, alpha, critic, dtype):
    """WGAN-GP's penalty mean((‖∂critic/∂x‖₂ − 1)²) at x = alpha·real + (1 − alpha)·fake, the norm over
    everything but the batch axis, and its gradients of gradients; `critic(x, leaves)`. A bias that does
    not reach ∂critic/∂x gets a gradient of zeros."""
    interpolates = alpha * real + (1 - alpha) * fake
    leaves = {name: value.to(dtype).clone().requires_grad_() for name, value in parameters.items()}
    point = interpolates.to(dtype).clone().requires_grad_()
    scores = critic(point, leaves)
    (input_gradient,) = torch.autograd.grad(scores.sum(), point, create_graph=True)
    norms = input_gradient.flatten(1).norm(2, dim=1)
    penalty = ((norms - 1) ** 2).mean()
    gradients = torch.autograd.grad(penalty, [point, *leaves.values()], allow_unused=True, materialize_grads=True)
    tensors = {"real": real, "fake": fake, "alpha": alpha, "input": interpolates, **parameters,
               "critic_output": scores.detach(), "input_gradient": input_gradient.detach(),
               "gradient_norm": norms.detach(), "upstream": torch.ones(()),
               "output": penalty.detach(), "grad_input": gradients[0]}
    for name, gradient in zip(leaves, gradients[1:]):
        tensors["grad_" + name] = gradient
    return tensors


@case("gradient_penalty")
def gradient_penalty(dtype):
    sizes = [(2, 8), (8, 8), (8, 1)]
    parameters = {}
    for index, (fan_in, fan_out) in enumerate(sizes, start=1):
        parameters[f"fc{index}.weight"] = normal(fan_out, fan_in, scale=1.5 * fan_in ** -0.5)
        parameters[f"fc{index}.bias"] = normal(fan_out, scale=0.2)
    real = normal(16, 2, scale=0.5, shift=1.0)
    fake = normal(16, 2, scale=0.3)
    alpha = uniform(16, 1)

    def critic(x, leaves):
        x = F.leaky_relu(F.linear(x, leaves["fc1.weight"], leaves["fc1.bias"]), 0.2)
        x = F.leaky_relu(F.linear(x, leaves["fc2.weight"], leaves["fc2.bias"]), 0.2)
        return F.linear(x, leaves["fc3.weight"], leaves["fc3.bias"])

    return penalty_case(parameters, real, fake, alpha, critic, dtype), {
        "op": "gradient_penalty", "critic": "2-8-8-1, leaky_relu 0.2 after fc1 and fc2",
        "negative_slope": "0.2", "lambda": "1 (the weight is not applied)",
        "formula": "mean((||d critic(input) / d input||_2 per row - 1)^2)"}


@case("gradient_penalty_images")
def gradient_penalty_images(dtype):
    """WGAN-GP's penalty for a convolutional critic on [N, C, H, W] images, one ε per image."""
    parameters = {"conv.weight": normal(4, 2, 3, 3, scale=1.5 * 18 ** -0.5), "conv.bias": normal(4, scale=0.2),
                  "fc.weight": normal(1, 64, scale=1.5 * 64 ** -0.5), "fc.bias": normal(1, scale=0.2)}
    real = normal(6, 2, 8, 8, scale=0.5, shift=0.2)
    fake = normal(6, 2, 8, 8, scale=0.3)
    alpha = uniform(6, 1, 1, 1)

    def critic(x, leaves):
        x = F.leaky_relu(F.conv2d(x, leaves["conv.weight"], leaves["conv.bias"], stride=2, padding=1), 0.2)
        return F.linear(x.flatten(1), leaves["fc.weight"], leaves["fc.bias"])

    return penalty_case(parameters, real, fake, alpha, critic, dtype), {
        "op": "gradient_penalty", "critic": "conv2d 2->4 3x3 stride 2 padding 1, leaky_relu 0.2, flatten, linear 64->1",
        "negative_slope": "0.2", "lambda": "1 (the weight is not applied)",
        "formula": "mean((||d critic(input) / d input||_2 per image, over C, H, W - 1)^2), input = alpha real + (1 - alpha) fake"}


# -------------------------------------------------------------------------------------- optimizers

def optimizer_inputs():
    """A [4, 6] parameter and three gradients; row 3 is tiny (~1e-6) and element [3, 5] is 0."""
    parameter = normal(4, 6)
    gradients = []
    for _ in range(3):
        gradient = normal(4, 6)
        gradient[3] *= 1e-6
        gradient[3, 5] = 0.0
        gradients.append(gradient)
    return parameter, gradients


def optimizer(dtype, kind, lr, **hyper):
    parameter, gradients = optimizer_inputs()
    value = parameter.to(dtype).clone()
    steps = []
    if kind.endswith("_keras"):
        steps = keras_by_hand(kind, value, [g.to(dtype) for g in gradients], lr, **hyper)
    else:
        variable = torch.nn.Parameter(value)
        if kind == "sgd":
            torch_optimizer = torch.optim.SGD([variable], lr=lr, momentum=hyper["momentum"])
        elif kind == "rmsprop_torch":
            torch_optimizer = torch.optim.RMSprop([variable], lr=lr, alpha=hyper["rho"],
                                                  eps=hyper["eps"])
        else:
            torch_optimizer = torch.optim.Adam([variable], lr=lr,
                                               betas=(hyper["beta1"], hyper["beta2"]),
                                               eps=hyper["eps"])
        for gradient in gradients:
            variable.grad = gradient.to(dtype).clone()
            torch_optimizer.step()
            steps.append(variable.detach().clone())
    tensors = {"param": parameter}
    for index, gradient in enumerate(gradients, start=1):
        tensors[f"grad_step{index}"] = gradient
    for index, value in enumerate(steps, start=1):
        tensors[f"param_step{index}"] = value
    metadata = {"op": kind, "lr": repr(lr), **{key: repr(value) for key, value in hyper.items()},
                "steps": "3", "formula": OPTIMIZER_FORMULAS[kind]}
    return tensors, metadata


OPTIMIZER_FORMULAS = {
    "sgd": "b = momentum*b + g (b = g at step 1); p -= lr*b  (Keras's SGD gives the same numbers)",
    "rmsprop_torch": "(rho is PyTorch's alpha) v = rho*v + (1-rho)*g^2 (v0 = 0); p -= lr*g / (sqrt(v) + eps)",
    "rmsprop_keras": "v = rho*v + (1-rho)*g^2 (v0 = 0); p -= lr*g / sqrt(v + eps)",
    "adam_torch": "m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; "
                  "p -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)",
    "adam_keras": "m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; lr_t = lr*sqrt(1-b2^t)/(1-b1^t); "
                  "p -= lr_t*m / (sqrt(v) + eps)",
}


def keras_by_hand(kind, value, gradients, lr, **hyper):
    steps = []
    first = torch.zeros_like(value)
    second = torch.zeros_like(value)
    for step, gradient in enumerate(gradients, start=1):
        if kind == "rmsprop_keras":
            second = hyper["rho"] * second + (1 - hyper["rho"]) * gradient ** 2
            value = value - lr * gradient / torch.sqrt(second + hyper["eps"])
        else:
            beta1, beta2 = hyper["beta1"], hyper["beta2"]
            rate = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
            first = first + (gradient - first) * (1 - beta1)
            second = second + (gradient ** 2 - second) * (1 - beta2)
            value = value - rate * first / (torch.sqrt(second) + hyper["eps"])
        steps.append(value.clone())
    return steps


case("sgd_momentum", kind="sgd", lr=0.1, momentum=0.9)(optimizer)
case("rmsprop_torch", kind="rmsprop_torch", lr=0.01, rho=0.9, eps=1e-7)(optimizer)
case("rmsprop_keras", kind="rmsprop_keras", lr=0.01, rho=0.9, eps=1e-7)(optimizer)
case("adam_torch", kind="adam_torch", lr=0.05, beta1=0.5, beta2=0.999, eps=1e-7)(optimizer)
case("adam_keras", kind="adam_keras", lr=0.05, beta1=0.5, beta2=0.999, eps=1e-7)(optimizer)
