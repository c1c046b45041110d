#!/usr/bin/env python3
"""Write the PyTorch reference values that the engine's tests compare against.

Usage:
    python3 scripts/make_torch_fixtures.py [--out Tests/Fixtures/torch] [--check] [--only NAME]

Every case is one safetensors file under `Tests/Fixtures/torch/` (format: scripts/safetensors_f32.py;
the list of files, tensors and metadata keys: Tests/Fixtures/torch/README.md). Each case seeds
PyTorch with `torch.manual_seed(seed of the case)`, draws its inputs in float32 on the CPU and
computes in float32, so rerunning the script rewrites the same bytes.

`--check` also, for every case: recomputes it in float64 from the same float32 inputs and prints
the worst error of the stored float32 values under the README's comparison rule; reads every file
back (and with the `safetensors` package too, when it is installed); and, when TensorFlow is
installed, compares the Keras-convention cases ("same" convolutions, BatchNorm momentum and
moving variance, RMSProp and Adam formulas) against Keras itself.

The script runs itself inside `.venv-peers/` (see scripts/peer_env.py), creating it if needed.
"""

import argparse
import math
import os
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_env  # noqa: E402

if __name__ == "__main__":
    checking = "--check" in sys.argv
    peer_env.ensure_environment(need_tensorflow=checking,
                                extras=[("safetensors", "safetensors")] if checking else [])

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import safetensors_f32  # noqa: E402

DEFAULT_OUT = os.path.join(peer_env.REPOSITORY, "Tests", "Fixtures", "torch")
CASES = {}


def case(name, **settings):
    """Register `function(dtype, **settings) -> (tensors, metadata)` as the fixture `name`."""
    def register(function):
        CASES[name] = (function, settings)
        return function
    return register


# ----------------------------------------------------------------------------------- random inputs

def normal(*shape, scale=1.0, shift=0.0):
    return torch.randn(*shape, dtype=torch.float32) * scale + shift


def uniform(*shape, low=0.0, high=1.0):
    return torch.rand(*shape, dtype=torch.float32) * (high - low) + low


def away_from_zero(values, gap=0.05):
    """Push values at least `gap` away from 0 so that no input sits on a kink."""
    return values + torch.where(values >= 0, gap, -gap)


def with_extremes(values):
    """Put large-magnitude entries first (numerical stability of exp/log/tanh)."""
    flat = values.reshape(-1).clone()
    extremes = torch.tensor([30.0, -30.0, 12.0, -12.0, 25.0, -25.0])
    flat[:len(extremes)] = extremes
    return flat.reshape(values.shape)


# ----------------------------------------------------------------------- forward + backward driver

def differentiate(forward, inputs, parameters, dtype, constants=None, scalar_upstream_one=True):
    """Run `forward(**inputs, **parameters, **constants)` and its backward pass in `dtype`.

    `inputs` and `parameters` map names to float32 tensors (drawn before this call); the gradient
    of sum(output * upstream) is returned for each as `grad_<name>` (`grad_input` for `input`).
    The upstream weighting is drawn here, after the forward pass, in float32; a scalar output gets
    the upstream 1.
    """
    constants = constants or {}
    leaves = {name: value.to(dtype).clone().requires_grad_()
              for name, value in {**inputs, **parameters}.items()}
    output = forward(**leaves, **{name: value.to(dtype) for name, value in constants.items()})
    if output.dim() == 0 and scalar_upstream_one:
        upstream = torch.ones((), dtype=torch.float32)
    else:
        upstream = normal(*output.shape)
    (output * upstream.to(dtype)).sum().backward()
    tensors = {}
    tensors.update(inputs)
    tensors.update(constants)
    tensors.update(parameters)
    tensors["upstream"] = upstream
    tensors["output"] = output.detach()
    for name in list(inputs) + list(parameters):
        tensors["grad_" + name] = leaves[name].grad.detach()
    return tensors


# ------------------------------------------------------------------------------------------- dense

def dense(dtype, batch, features_in, features_out, bias):
    parameters = {"weight": normal(features_out, features_in, scale=features_in ** -0.5)}
    if bias:
        parameters["bias"] = normal(features_out, scale=0.1)
    inputs = {"input": normal(batch, features_in)}
    tensors = differentiate(lambda input, weight, bias=None: F.linear(input, weight, bias),
                            inputs, parameters, dtype)
    metadata = {"op": "linear", "in_features": features_in, "out_features": features_out,
                "bias": str(bias).lower(),
                "formula": "output = input @ weight^T" + (" + bias" if bias else "")}
    return tensors, metadata


case("dense_bias", batch=9, features_in=37, features_out=23, bias=True)(dense)
case("dense_nobias", batch=6, features_in=29, features_out=11, bias=False)(dense)


# ------------------------------------------------------------------------------------------ conv2d

def keras_same_padding(size, kernel, stride):
    """TensorFlow's "same": output ceil(size/stride); the odd extra padding goes bottom/right."""
    output = -(-size // stride)
    total = max((output - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def conv2d(dtype, shape, out_channels, kernel, stride, padding, bias):
    batch, in_channels, height, width = shape
    if padding == "same":
        top, bottom = keras_same_padding(height, kernel, stride)
        left, right = keras_same_padding(width, kernel, stride)
    else:
        top = bottom = left = right = padding
    parameters = {"weight": normal(out_channels, in_channels, kernel, kernel,
                                   scale=(in_channels * kernel * kernel) ** -0.5)}
    if bias:
        parameters["bias"] = normal(out_channels, scale=0.1)
    inputs = {"input": normal(*shape)}

    def forward(input, weight, bias=None):
        return F.conv2d(F.pad(input, (left, right, top, bottom)), weight, bias, stride=stride)

    tensors = differentiate(forward, inputs, parameters, dtype)
    metadata = {"op": "conv2d", "layout": "NCHW; weight [out_channels, in_channels, kh, kw]",
                "in_channels": in_channels, "out_channels": out_channels,
                "kernel_h": kernel, "kernel_w": kernel, "stride": stride, "dilation": 1,
                "padding": "keras_same" if padding == "same" else "explicit",
                "pad_top": top, "pad_bottom": bottom, "pad_left": left, "pad_right": right,
                "bias": str(bias).lower()}
    return tensors, metadata


case("conv2d_k5_s1_p2_bias", shape=(2, 3, 9, 10), out_channels=4, kernel=5, stride=1, padding=2,
     bias=True)(conv2d)
case("conv2d_k5_s1_valid_nobias", shape=(2, 3, 9, 11), out_channels=2, kernel=5, stride=1,
     padding=0, bias=False)(conv2d)
case("conv2d_k5_s2_same_bias", shape=(2, 3, 14, 14), out_channels=4, kernel=5, stride=2,
     padding="same", bias=True)(conv2d)
case("conv2d_k5_s2_same_odd_nobias", shape=(2, 2, 11, 12), out_channels=3, kernel=5, stride=2,
     padding="same", bias=False)(conv2d)
case("conv2d_k4_s2_p1_nobias", shape=(2, 3, 10, 8), out_channels=5, kernel=4, stride=2,
     padding=1, bias=False)(conv2d)
case("conv2d_k4_s2_p0_odd_bias", shape=(2, 2, 11, 11), out_channels=3, kernel=4, stride=2,
     padding=0, bias=True)(conv2d)
case("conv2d_k4_s1_same_bias", shape=(1, 3, 8, 7), out_channels=4, kernel=4, stride=1,
     padding="same", bias=True)(conv2d)
case("conv2d_k4_s2_same_odd_bias", shape=(2, 2, 9, 9), out_channels=3, kernel=4, stride=2,
     padding="same", bias=True)(conv2d)


# -------------------------------------------------------------------------------- conv_transpose2d

def keras_same_transpose_crop(size, kernel, stride):
    """Rows cut from the full transposed output ((size-1)*stride + kernel) to get size*stride.

    Keras's Conv2DTranspose(padding="same") is the gradient of a "same" Conv2D whose input is
    size*stride long, so it cuts that conv's padding: total//2 first, the rest at the end.
    (A negative number means zeros appended, which happens only when kernel < stride.)
    """
    total = kernel - stride
    return total // 2, total - total // 2


def conv_transpose2d(dtype, shape, out_channels, kernel, stride, bias, padding="same",
                     output_padding=0):
    batch, in_channels, height, width = shape
    parameters = {"weight": normal(in_channels, out_channels, kernel, kernel,
                                   scale=(in_channels * kernel * kernel / stride ** 2) ** -0.5)}
    if bias:
        parameters["bias"] = normal(out_channels, scale=0.1)
    inputs = {"input": normal(*shape)}
    metadata = {"op": "conv_transpose2d", "layout": "NCHW; weight [in_channels, out_channels, kh, kw]",
                "in_channels": in_channels, "out_channels": out_channels,
                "kernel_h": kernel, "kernel_w": kernel, "stride": stride, "dilation": 1,
                "bias": str(bias).lower()}
    if padding == "same":
        top, bottom = keras_same_transpose_crop(height, kernel, stride)
        left, right = keras_same_transpose_crop(width, kernel, stride)
        assert min(top, bottom, left, right) >= 0, "kernel < stride is not covered here"

        def forward(input, weight, bias=None):
            full = F.conv_transpose2d(input, weight, bias, stride=stride)
            return full[:, :, top:full.shape[2] - bottom, left:full.shape[3] - right]

        symmetric = top == bottom and left == right and top == left
        metadata.update({"padding": "keras_same", "crop_top": top, "crop_bottom": bottom,
                         "crop_left": left, "crop_right": right,
                         "torch_padding": top if symmetric else "none",
                         "torch_output_padding": 0 if symmetric else "none"})
    else:
        def forward(input, weight, bias=None):
            return F.conv_transpose2d(input, weight, bias, stride=stride, padding=padding,
                                      output_padding=output_padding)

        metadata.update({"padding": "explicit", "torch_padding": padding,
                         "torch_output_padding": output_padding})
    tensors = differentiate(forward, inputs, parameters, dtype)
    return tensors, metadata


case("conv_transpose2d_k5_s1_same_nobias", shape=(2, 4, 7, 7), out_channels=3, kernel=5, stride=1,
     bias=False)(conv_transpose2d)
case("conv_transpose2d_k5_s2_same_nobias", shape=(2, 4, 7, 6), out_channels=3, kernel=5, stride=2,
     bias=False)(conv_transpose2d)
case("conv_transpose2d_k5_s2_same_odd_bias", shape=(1, 3, 5, 5), out_channels=2, kernel=5,
     stride=2, bias=True)(conv_transpose2d)
case("conv_transpose2d_k4_s2_same_bias", shape=(2, 3, 5, 6), out_channels=2, kernel=4, stride=2,
     bias=True)(conv_transpose2d)
case("conv_transpose2d_k4_s1_same_bias", shape=(1, 3, 6, 5), out_channels=2, kernel=4, stride=1,
     bias=True)(conv_transpose2d)
case("conv_transpose2d_k5_s2_p2_op1_bias", shape=(2, 3, 4, 5), out_channels=2, kernel=5, stride=2,
     bias=True, padding=2, output_padding=1)(conv_transpose2d)


# -------------------------------------------------------------------------------------- batch_norm

def batch_norm(dtype, shape, training, momentum, eps):
    channels = shape[1]
    spread = [channels] + [1] * (len(shape) - 2)
    inputs = {"input": normal(*shape) * uniform(*spread, low=0.5, high=2.0)
              + normal(*spread, scale=1.5)}
    parameters = {"weight": uniform(channels, low=0.5, high=1.5), "bias": normal(channels, scale=0.3)}
    running_mean = normal(channels, scale=0.5)
    running_var = uniform(channels, low=0.5, high=2.0)
    statistics = {"mean": running_mean.to(dtype).clone(), "var": running_var.to(dtype).clone()}

    def forward(input, weight, bias):
        return F.batch_norm(input, statistics["mean"], statistics["var"], weight, bias,
                            training=training, momentum=momentum, eps=eps)

    tensors = differentiate(forward, inputs, parameters, dtype)
    tensors["running_mean"] = running_mean
    tensors["running_var"] = running_var
    axes = [0] + list(range(2, len(shape)))
    metadata = {"op": "batch_norm", "mode": "train" if training else "eval", "eps": repr(eps),
                "num_features": channels,
                "normalized_over": "N" if len(shape) == 2 else "N,H,W",
                "layout": "NC" if len(shape) == 2 else "NCHW"}
    if training:
        batch_mean = inputs["input"].to(dtype).mean(dim=axes)
        biased_var = inputs["input"].to(dtype).var(dim=axes, unbiased=False)
        tensors["running_mean_updated"] = statistics["mean"]
        tensors["running_var_updated"] = statistics["var"]
        tensors["running_var_updated_keras"] = (1 - momentum) * running_var.to(dtype) + momentum * biased_var
        tensors["batch_mean"] = batch_mean
        tensors["batch_var"] = biased_var
        metadata.update({"momentum": repr(momentum), "keras_momentum": repr(round(1 - momentum, 6)),
                         "count": str(inputs["input"].numel() // channels)})
    return tensors, metadata


case("batch_norm1d_train_keras", shape=(16, 10), training=True, momentum=0.2, eps=1e-3)(batch_norm)
case("batch_norm1d_train_torch", shape=(9, 7), training=True, momentum=0.1, eps=1e-5)(batch_norm)
case("batch_norm1d_eval_keras", shape=(8, 10), training=False, momentum=0.2, eps=1e-3)(batch_norm)
case("batch_norm2d_train_keras", shape=(4, 3, 6, 5), training=True, momentum=0.2, eps=1e-3)(batch_norm)
case("batch_norm2d_train_torch", shape=(3, 4, 5, 5), training=True, momentum=0.1, eps=1e-5)(batch_norm)
case("batch_norm2d_eval_torch", shape=(2, 3, 4, 5), training=False, momentum=0.1, eps=1e-5)(batch_norm)


# ------------------------------------------------------------------------------------- activations

ACTIVATIONS = {
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), {"negative_slope": "0.2"}),
    "relu": (F.relu, {}),
    "tanh": (torch.tanh, {}),
    "sigmoid": (torch.sigmoid, {}),
    "softplus": (F.softplus, {"beta": "1", "threshold": "20",
                              "formula": "log(1 + exp(x)); PyTorch returns x itself where x > 20"}),
}


def activation(dtype, function_name):
    function, extra = ACTIVATIONS[function_name]
    values = away_from_zero(normal(6, 50, scale=2.0))
    if function_name in ("tanh", "sigmoid", "softplus"):
        values = with_extremes(values)
    tensors = differentiate(lambda input: function(input), {"input": values}, {}, dtype)
    return tensors, {"op": function_name, **extra}


for _name in ACTIVATIONS:
    case(_name, function_name=_name)(activation)


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
    interpolates = alpha * real + (1 - alpha) * fake
    leaves = {name: value.to(dtype).clone().requires_grad_() for name, value in parameters.items()}
    point = interpolates.to(dtype).clone().requires_grad_()

    def critic(x):
        x = F.leaky_relu(F.linear(x, leaves["fc1.weight"], leaves["fc1.bias"]), 0.2)
        x = F.leaky_relu(F.linear(x, leaves["fc2.weight"], leaves["fc2.bias"]), 0.2)
        return F.linear(x, leaves["fc3.weight"], leaves["fc3.bias"])

    scores = critic(point)
    (input_gradient,) = torch.autograd.grad(scores.sum(), point, create_graph=True)
    norms = input_gradient.norm(2, dim=1)
    penalty = ((norms - 1) ** 2).mean()
    # fc3.bias does not reach d critic / d input: its gradient is stored as zeros.
    gradients = torch.autograd.grad(penalty, [point, *leaves.values()], allow_unused=True,
                                    materialize_grads=True)
    tensors = {"real": real, "fake": fake, "alpha": alpha, "input": interpolates, **parameters,
               "critic_output": scores.detach(), "input_gradient": input_gradient.detach(),
               "gradient_norm": norms.detach(), "upstream": torch.ones(()),
               "output": penalty.detach(), "grad_input": gradients[0]}
    for name, gradient in zip(leaves, gradients[1:]):
        tensors["grad_" + name] = gradient
    return tensors, {"op": "gradient_penalty", "critic": "2-8-8-1, leaky_relu 0.2 after fc1 and fc2",
                     "negative_slope": "0.2", "lambda": "1 (the weight is not applied)",
                     "formula": "mean((||d critic(input) / d input||_2 per row - 1)^2)"}


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


# ------------------------------------------------------------------------------------------ driver

def seed_of(name):
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def compute(name, dtype):
    function, settings = CASES[name]
    torch.manual_seed(seed_of(name))
    tensors, metadata = function(dtype, **settings)
    metadata = {key: str(value) for key, value in metadata.items()}
    metadata["seed"] = str(seed_of(name))
    metadata["case"] = name
    return tensors, metadata


def write_case(directory, name):
    tensors, metadata = compute(name, torch.float32)
    path = os.path.join(directory, name + ".safetensors")
    safetensors_f32.write(path, {key: (list(value.shape), value.detach().to(torch.float32)
                                       .reshape(-1).tolist())
                                 for key, value in tensors.items()}, metadata)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="float64, read-back and Keras checks")
    parser.add_argument("--only", action="append", help="write only this case (repeatable)")
    arguments = parser.parse_args()
    torch.set_num_threads(1)
    os.makedirs(arguments.out, exist_ok=True)
    names = arguments.only or list(CASES)
    total = 0
    for name in names:
        path = write_case(arguments.out, name)
        total += os.path.getsize(path)
        print(f"{os.path.getsize(path):8d}  {os.path.relpath(path, peer_env.REPOSITORY)}")
    print(f"{total:8d}  bytes in {len(names)} files")
    if arguments.check:
        import fixture_checks
        sys.exit(0 if fixture_checks.run(arguments.out, names, compute) else 1)


if __name__ == "__main__":
    main()
