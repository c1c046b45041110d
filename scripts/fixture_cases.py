"""Fixture cases of the engine's layers: dense, conv2d, conv_transpose2d, spectral_norm, batch_norm,
activations.

Also the registry (`CASES`, `case`) and the helpers every case uses; the training-side cases
(losses, gradient penalty, optimizers) are in fixture_cases_training.py. A case is a function
`(dtype, **settings) -> (tensors: name -> torch.Tensor, metadata: name -> value)` that draws its
inputs in float32 from PyTorch's global generator (seeded by the driver) and computes in `dtype`.
"""

import torch
import torch.nn.functional as F

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
# Enough channels for oneDNN's blocked layouts (16 a block), and one input channel (kept plain).
case("conv2d_k3_s2_same_c16_bias", shape=(2, 16, 8, 8), out_channels=16, kernel=3, stride=2,
     padding="same", bias=True)(conv2d)
case("conv2d_k5_s2_same_c1_nobias", shape=(2, 1, 12, 12), out_channels=16, kernel=5, stride=2,
     padding="same", bias=False)(conv2d)


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
# oneDNN's blocked layouts, and one output channel (the DCGAN generator's last layer).
case("conv_transpose2d_k3_s2_same_c16_bias", shape=(2, 16, 4, 4), out_channels=16, kernel=3,
     stride=2, bias=True)(conv_transpose2d)
case("conv_transpose2d_k5_s2_same_c1_bias", shape=(2, 16, 6, 6), out_channels=1, kernel=5,
     stride=2, bias=True)(conv_transpose2d)


# ----------------------------------------------------------------------------------- spectral_norm

def spectral_norm(dtype, module, weight_shape, input_shape, bias, **options):
    """`torch.nn.utils.spectral_norm(module)`: one forward pass in training mode.

    The raw weight `weight_orig`, `weight_u` and `weight_v` (each N(0, 1) then normalized, as
    spectral_norm draws them) and the input are drawn here; the forward pass takes one power-
    iteration step (`weight_u_updated`, `weight_v_updated`), then sigma = u^T W v and the weight
    W / sigma (`weight`). Gradients: `grad_input`, `grad_weight_orig` (through W / sigma, with u
    and v constants), `grad_bias`.
    """
    # spectral_norm draws u and v of its own (replaced below); in float32, so that the float64
    # recomputation of --check draws the same numbers after it.
    layer = torch.nn.utils.spectral_norm(module(**options, bias=bias)).to(dtype)
    dim = 1 if isinstance(layer, torch.nn.ConvTranspose2d) else 0
    rows = weight_shape[dim]
    columns = 1
    for size in weight_shape:
        columns *= size
    columns //= rows
    weight = normal(*weight_shape, scale=(columns ** -0.5))
    u = F.normalize(normal(rows), dim=0, eps=1e-12)
    v = F.normalize(normal(columns), dim=0, eps=1e-12)
    bias_value = normal(rows, scale=0.1) if bias else None  # one per output unit or channel
    inputs = {"input": normal(*input_shape)}
    with torch.no_grad():
        layer.weight_orig.copy_(weight.to(dtype))
        layer.weight_u.copy_(u.to(dtype))
        layer.weight_v.copy_(v.to(dtype))
        if bias:
            layer.bias.copy_(bias_value.to(dtype))
    layer.train()
    leaf = inputs["input"].to(dtype).clone().requires_grad_()
    output = layer(leaf)
    upstream = normal(*output.shape)
    (output * upstream.to(dtype)).sum().backward()
    u_updated, v_updated = layer.weight_u.detach().clone(), layer.weight_v.detach().clone()
    matrix = weight.to(dtype) if dim == 0 else weight.to(dtype).transpose(0, 1)
    sigma = torch.dot(u_updated, torch.mv(matrix.reshape(rows, -1), v_updated))
    tensors = {"input": inputs["input"], "weight_orig": weight, "weight_u": u, "weight_v": v,
               "upstream": upstream, "output": output.detach(),
               "weight_u_updated": u_updated, "weight_v_updated": v_updated, "sigma": sigma,
               "weight": layer.weight.detach(),
               "grad_input": leaf.grad.detach(), "grad_weight_orig": layer.weight_orig.grad.detach()}
    if bias:
        tensors["bias"] = bias_value
        tensors["grad_bias"] = layer.bias.grad.detach()
    metadata = {"op": "spectral_norm", "module": type(layer).__name__, "dim": dim, "eps": "1e-12",
                "n_power_iterations": 1, "mode": "train", "bias": str(bias).lower(),
                "matrix": f"[{rows}, {columns}]",
                "formula": "v = normalize(W^T u), u = normalize(W v), sigma = u^T W v, weight = weight_orig / sigma",
                **{key: value for key, value in options.items()}}
    return tensors, metadata


case("spectral_norm_linear", module=torch.nn.Linear, weight_shape=(7, 12), input_shape=(5, 12),
     bias=True, in_features=12, out_features=7)(spectral_norm)
case("spectral_norm_conv2d", module=torch.nn.Conv2d, weight_shape=(6, 3, 4, 4), input_shape=(2, 3, 8, 7),
     bias=True, in_channels=3, out_channels=6, kernel_size=4, stride=2, padding=1)(spectral_norm)
case("spectral_norm_conv_transpose2d", module=torch.nn.ConvTranspose2d, weight_shape=(5, 3, 4, 4),
     input_shape=(2, 5, 4, 3), bias=False, in_channels=5, out_channels=3, kernel_size=4, stride=2,
     padding=1)(spectral_norm)


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
