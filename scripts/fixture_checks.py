"""Checks behind `make_torch_fixtures.py --check`.

1. Every stored float32 value against the same case recomputed in float64, under the comparison
   rule of Tests/Fixtures/torch/README.md: |stored - exact| <= 1e-4 * max(|exact|, 0.01 * max|exact|),
   where max|exact| is taken over the whole tensor. The worst ratio error/allowance is printed
   (a ratio below 1 passes; the float32 references are expected to sit far below it).
2. Every file read back by our own reader, and by the `safetensors` package when it is installed.
3. With TensorFlow installed: the Keras-convention cases against TensorFlow/Keras itself.
"""

import glob
import os

import numpy
import torch

import safetensors_f32

RELATIVE = 1e-4
FLOOR = 0.01


def allowance_ratio(stored, exact):
    stored = numpy.asarray(stored, dtype=numpy.float64)
    exact = numpy.asarray(exact, dtype=numpy.float64)
    if exact.size == 0:
        return 0.0
    scale = numpy.abs(exact).max()
    allowed = RELATIVE * numpy.maximum(numpy.abs(exact), FLOOR * scale)
    error = numpy.abs(stored - exact)
    with numpy.errstate(divide="ignore", invalid="ignore"):
        ratio = numpy.where(allowed > 0, error / allowed, numpy.where(error > 0, numpy.inf, 0.0))
    return float(ratio.max())


def load(directory, name):
    tensors, metadata = safetensors_f32.read(os.path.join(directory, name + ".safetensors"))
    arrays = {key: numpy.array(values, dtype=numpy.float32).reshape(shape)
              for key, (shape, values) in tensors.items()}
    return arrays, metadata


def check_float64(directory, names, compute):
    ok = True
    print("\nfloat32 fixtures vs float64 recomputation (worst error / allowance; < 1 passes)")
    for name in names:
        stored, metadata = load(directory, name)
        exact, exact_metadata = compute(name, torch.float64)
        if set(stored) != set(exact) or metadata != exact_metadata:
            print(f"  {name}: tensor names or metadata differ between float32 and float64")
            ok = False
            continue
        worst = max((allowance_ratio(stored[key], exact[key].detach().numpy()), key)
                    for key in stored)
        flag = "" if worst[0] < 0.3 else "   <-- large"
        ok = ok and worst[0] < 1
        print(f"  {worst[0]:9.2e}  {name} ({worst[1]}){flag}")
    return ok


def check_reread(directory, names):
    try:
        from safetensors.numpy import load_file
    except ImportError:
        load_file = None
        print("\n(safetensors package not installed: read back with our own reader only)")
    ok = True
    for name in names:
        ours, _ = load(directory, name)
        if load_file is not None:
            theirs = load_file(os.path.join(directory, name + ".safetensors"))
            same = set(theirs) == set(ours) and all(
                theirs[key].dtype == numpy.float32 and numpy.array_equal(theirs[key], ours[key])
                for key in ours)
            if not same:
                print(f"  {name}: the safetensors package reads something else")
                ok = False
    if load_file is not None and ok:
        print(f"\nall {len(names)} files read identically by the safetensors package")
    return ok


# --------------------------------------------------------------------------------- against Keras

def close(label, ours, theirs, results):
    ratio = allowance_ratio(numpy.asarray(ours), numpy.asarray(theirs))
    results.append(ratio < 1)
    print(f"  {ratio:9.2e}  {label}")


def keras_convolutions(directory, results):
    import tensorflow as tf
    for path in sorted(glob.glob(os.path.join(directory, "conv*_same*.safetensors"))):
        name = os.path.basename(path)[:-len(".safetensors")]
        t, m = load(directory, name)
        stride = int(m["stride"])
        x = tf.Variable(t["input"].transpose(0, 2, 3, 1))
        if m["op"] == "conv2d":
            kernel = tf.Variable(t["weight"].transpose(2, 3, 1, 0))
        else:
            kernel = tf.Variable(t["weight"].transpose(2, 3, 1, 0))  # [kh, kw, out, in]
        bias = tf.Variable(t["bias"]) if "bias" in t else None
        upstream = tf.constant(t["upstream"].transpose(0, 2, 3, 1))
        with tf.GradientTape() as tape:
            if m["op"] == "conv2d":
                y = tf.nn.conv2d(x, kernel, stride, "SAME")
            else:
                n, h, w, _ = x.shape
                shape = [n, h * stride, w * stride, kernel.shape[2]]
                y = tf.nn.conv2d_transpose(x, kernel, shape, stride, "SAME")
            if bias is not None:
                y = y + bias
            loss = tf.reduce_sum(y * upstream)
        variables = [x, kernel] + ([bias] if bias is not None else [])
        grads = tape.gradient(loss, variables)
        close(f"{name}: output", t["output"], y.numpy().transpose(0, 3, 1, 2), results)
        close(f"{name}: grad_input", t["grad_input"], grads[0].numpy().transpose(0, 3, 1, 2), results)
        close(f"{name}: grad_weight", t["grad_weight"], grads[1].numpy().transpose(3, 2, 0, 1), results)
        if bias is not None:
            close(f"{name}: grad_bias", t["grad_bias"], grads[2].numpy(), results)


def keras_batch_norm(directory, results):
    import keras
    import tensorflow as tf
    for name in ("batch_norm1d_train_keras", "batch_norm2d_train_keras", "batch_norm1d_eval_keras"):
        t, m = load(directory, name)
        layer = keras.layers.BatchNormalization(axis=1, momentum=float(m.get("keras_momentum", 0.8)),
                                                epsilon=float(m["eps"]))
        layer.build(t["input"].shape)
        layer.set_weights([t["weight"], t["bias"], t["running_mean"], t["running_var"]])
        x = tf.Variable(t["input"])
        with tf.GradientTape() as tape:
            y = layer(x, training=m["mode"] == "train")
            loss = tf.reduce_sum(y * t["upstream"])
        grads = tape.gradient(loss, [x, layer.gamma, layer.beta])
        close(f"{name}: output", t["output"], y.numpy(), results)
        close(f"{name}: grad_input", t["grad_input"], grads[0].numpy(), results)
        close(f"{name}: grad_weight", t["grad_weight"], grads[1].numpy(), results)
        close(f"{name}: grad_bias", t["grad_bias"], grads[2].numpy(), results)
        if m["mode"] == "train":
            close(f"{name}: moving_mean vs running_mean_updated", t["running_mean_updated"],
                  layer.moving_mean.numpy(), results)
            close(f"{name}: moving_variance vs running_var_updated_keras",
                  t["running_var_updated_keras"], layer.moving_variance.numpy(), results)


def keras_optimizers(directory, results):
    import keras
    makers = {
        "sgd_momentum": lambda m: keras.optimizers.SGD(float(m["lr"]), momentum=float(m["momentum"])),
        "rmsprop_keras": lambda m: keras.optimizers.RMSprop(float(m["lr"]), rho=float(m["rho"]),
                                                            epsilon=float(m["eps"])),
        "adam_keras": lambda m: keras.optimizers.Adam(float(m["lr"]), beta_1=float(m["beta1"]),
                                                      beta_2=float(m["beta2"]),
                                                      epsilon=float(m["eps"])),
    }
    for name, make in makers.items():
        t, m = load(directory, name)
        optimizer = make(m)
        variable = keras.Variable(t["param"])
        for step in (1, 2, 3):
            optimizer.apply_gradients([(t[f"grad_step{step}"], variable)])
            close(f"{name}: param_step{step}", t[f"param_step{step}"], variable.numpy(), results)


def check_torch_padding(directory):
    """Where a Keras "same" transposed convolution has a PyTorch padding, it gives the same output."""
    import torch.nn.functional as F
    results = []
    print("\nconv_transpose2d keras_same vs PyTorch padding/output_padding from the metadata")
    for path in sorted(glob.glob(os.path.join(directory, "conv_transpose2d_*_same_*.safetensors"))):
        name = os.path.basename(path)[:-len(".safetensors")]
        t, m = load(directory, name)
        if m["torch_padding"] == "none":
            print(f"  {'-':>9}  {name}: no symmetric PyTorch padding (crop {m['crop_top']}/"
                  f"{m['crop_bottom']})")
            continue
        bias = torch.from_numpy(t["bias"]) if "bias" in t else None
        y = F.conv_transpose2d(torch.from_numpy(t["input"]), torch.from_numpy(t["weight"]), bias,
                               stride=int(m["stride"]), padding=int(m["torch_padding"]),
                               output_padding=int(m["torch_output_padding"]))
        close(f"{name}: output", t["output"], y.numpy(), results)
    return all(results)


def check_keras(directory):
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        print("\n(TensorFlow not installed: Keras cross-checks skipped)")
        return True
    results = []
    print("\nKeras-convention fixtures vs TensorFlow/Keras (error / allowance; < 1 passes)")
    keras_convolutions(directory, results)
    keras_batch_norm(directory, results)
    keras_optimizers(directory, results)
    return all(results)


def run(directory, names, compute):
    torch.set_num_threads(1)
    ok = check_float64(directory, names, compute)
    ok = check_reread(directory, names) and ok
    ok = check_torch_padding(directory) and ok
    ok = check_keras(directory) and ok
    print("\ncheck:", "passed" if ok else "FAILED")
    return ok
