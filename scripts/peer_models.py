"""The four benchmark workloads, written once for PyTorch and once for TensorFlow/Keras.

One training step, identical in both frameworks (and the one the engine's `gan-lab bench` runs):

    noise  = U[-1, 1]^latent (normal for dcgan-mnist, as in the TensorFlow tutorial)
    fake   = G(noise)                                              # G runs forward once
    D step: loss_D = BCE(D(real), 1) + BCE(D(fake.detached), 0)    # from logits, mean
            D ← optimizer_D(∂loss_D/∂θ_D)
    G step: loss_G = BCE(D(fake), 1)                               # non-saturating, updated D
            G ← optimizer_G(∂loss_G/∂θ_G)                          # no gradient for θ_D here

All layers are in training mode (batch statistics in BatchNorm, Dropout active). Real data is
random in the data's range, drawn once before timing: the cost is what is measured.
"""

import math

WORKLOADS = ["mlp-gaussian", "mlp-quadratic", "mlp-fashion", "dcgan-mnist"]

SETTINGS = {
    # name: batch, latent size, real-data sampler description, optimizer (name, kwargs)
    "mlp-gaussian": dict(batch=64, latent=100, optimizer=("adam", dict(lr=2e-4, beta1=0.5))),
    "mlp-quadratic": dict(batch=256, latent=2, optimizer=("rmsprop", dict(lr=1e-3))),
    "mlp-fashion": dict(batch=64, latent=100, optimizer=("adam", dict(lr=1e-3, beta1=0.9))),
    "dcgan-mnist": dict(batch=256, latent=100, optimizer=("adam", dict(lr=1e-4, beta1=0.9))),
}
ADAM_BETA2 = 0.999
EPSILON = 1e-7          # Keras's default ε, used by both frameworks so the update math is the same
RMSPROP_RHO = 0.9
SLOPE = 0.2             # LeakyReLU negative slope everywhere
KERAS_BN_EPSILON = 1e-3


# ------------------------------------------------------------------------------------- PyTorch

def torch_models(name):
    import torch.nn as nn

    def lrelu():
        return nn.LeakyReLU(SLOPE)

    if name == "mlp-gaussian":
        generator = nn.Sequential(nn.Linear(100, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                                  nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 2), nn.Tanh())
        discriminator = nn.Sequential(nn.Linear(2, 256), lrelu(), nn.Linear(256, 256), lrelu(),
                                      nn.Linear(256, 256), lrelu(), nn.Linear(256, 1))
    elif name == "mlp-quadratic":
        generator = nn.Sequential(nn.Linear(2, 16), lrelu(), nn.Linear(16, 16), lrelu(),
                                  nn.Linear(16, 2))
        discriminator = nn.Sequential(nn.Linear(2, 16), lrelu(), nn.Linear(16, 16), lrelu(),
                                      nn.Linear(16, 2), nn.Linear(2, 1))
    elif name == "mlp-fashion":
        layers = []
        for fan_in, fan_out in [(100, 256), (256, 512), (512, 1024)]:
            # Keras BatchNormalization(momentum=0.8) == PyTorch momentum 0.2; Keras ε 1e-3
            layers += [nn.Linear(fan_in, fan_out), lrelu(),
                       nn.BatchNorm1d(fan_out, momentum=0.2, eps=KERAS_BN_EPSILON)]
        generator = nn.Sequential(*layers, nn.Linear(1024, 784), nn.Tanh())
        discriminator = nn.Sequential(nn.Linear(784, 512), lrelu(), nn.Linear(512, 256), lrelu(),
                                      nn.Linear(256, 1))
    else:
        def bn(channels):  # Keras defaults: momentum 0.99 (PyTorch 0.01), ε 1e-3
            return nn.BatchNorm2d(channels, momentum=0.01, eps=KERAS_BN_EPSILON)

        # Keras "same" for k5 s2 pads 1 then 2; symmetric padding 2 (and output_padding 1)
        # gives the same shapes and the same cost, shifted by a pixel.
        generator = nn.Sequential(
            nn.Linear(100, 7 * 7 * 256, bias=False), nn.BatchNorm1d(7 * 7 * 256, momentum=0.01,
                                                                     eps=KERAS_BN_EPSILON),
            lrelu(), nn.Unflatten(1, (256, 7, 7)),
            nn.ConvTranspose2d(256, 128, 5, stride=1, padding=2, bias=False), bn(128), lrelu(),
            nn.ConvTranspose2d(128, 64, 5, stride=2, padding=2, output_padding=1, bias=False),
            bn(64), lrelu(),
            nn.ConvTranspose2d(64, 1, 5, stride=2, padding=2, output_padding=1, bias=False),
            nn.Tanh())
        discriminator = nn.Sequential(
            nn.Conv2d(1, 64, 5, stride=2, padding=2), lrelu(), nn.Dropout(0.3),
            nn.Conv2d(64, 128, 5, stride=2, padding=2), lrelu(), nn.Dropout(0.3),
            nn.Flatten(), nn.Linear(7 * 7 * 128, 1))
    return generator, discriminator


def torch_optimizer(name, parameters):
    import torch
    kind, options = SETTINGS[name]["optimizer"]
    if kind == "adam":
        return torch.optim.Adam(parameters, lr=options["lr"], betas=(options["beta1"], ADAM_BETA2),
                                eps=EPSILON)
    return torch.optim.RMSprop(parameters, lr=options["lr"], alpha=RMSPROP_RHO, eps=EPSILON)


def real_batches(name, channels_last=False, count=4):
    """`count` batches of random real data in the data's range (numpy float32, seeded)."""
    import numpy
    generator = numpy.random.default_rng(0)
    batch = SETTINGS[name]["batch"]

    def one():
        if name == "mlp-gaussian":
            return generator.normal(0.0, 0.5, (batch, 2))
        if name == "mlp-quadratic":
            x = generator.uniform(-50, 50, (batch, 1))
            return numpy.concatenate([x, 10 + x ** 2], axis=1)
        if name == "mlp-fashion":
            return generator.uniform(-1, 1, (batch, 784))
        shape = (batch, 28, 28, 1) if channels_last else (batch, 1, 28, 28)
        return generator.uniform(-1, 1, shape)

    return [one().astype(numpy.float32) for _ in range(count)]


def torch_step_function(name, compiled):
    """Return step(real) -> (loss_D, loss_G) as Python floats."""
    import torch
    import torch.nn.functional as F
    generator, discriminator = torch_models(name)
    generator.train()
    discriminator.train()
    optimizer_g = torch_optimizer(name, generator.parameters())
    optimizer_d = torch_optimizer(name, discriminator.parameters())
    g_parameters = list(generator.parameters())
    run_g, run_d = generator, discriminator
    if compiled:
        run_g, run_d = torch.compile(generator), torch.compile(discriminator)
    batch, latent = SETTINGS[name]["batch"], SETTINGS[name]["latent"]
    ones = torch.ones(batch, 1)
    zeros = torch.zeros(batch, 1)

    def step(real):
        if name == "dcgan-mnist":
            noise = torch.randn(batch, latent)
        else:
            noise = torch.rand(batch, latent) * 2 - 1
        fake = run_g(noise)
        optimizer_d.zero_grad(set_to_none=True)
        loss_d = (F.binary_cross_entropy_with_logits(run_d(real), ones)
                  + F.binary_cross_entropy_with_logits(run_d(fake.detach()), zeros))
        loss_d.backward()
        optimizer_d.step()
        loss_g = F.binary_cross_entropy_with_logits(run_d(fake), ones)
        gradients = torch.autograd.grad(loss_g, g_parameters)
        for parameter, gradient in zip(g_parameters, gradients):
            parameter.grad = gradient
        optimizer_g.step()
        return loss_d.item(), loss_g.item()

    return step


# ---------------------------------------------------------------------------------- TensorFlow

def keras_models(name):
    import keras
    from keras import layers

    def lrelu():
        return layers.LeakyReLU(negative_slope=SLOPE)

    if name == "mlp-gaussian":
        generator = keras.Sequential([keras.Input((100,)), layers.Dense(256, "relu"),
                                      layers.Dense(256, "relu"), layers.Dense(256, "relu"),
                                      layers.Dense(2, "tanh")])
        discriminator = keras.Sequential([keras.Input((2,)), layers.Dense(256), lrelu(),
                                          layers.Dense(256), lrelu(), layers.Dense(256), lrelu(),
                                          layers.Dense(1)])
    elif name == "mlp-quadratic":
        generator = keras.Sequential([keras.Input((2,)), layers.Dense(16), lrelu(),
                                      layers.Dense(16), lrelu(), layers.Dense(2)])
        discriminator = keras.Sequential([keras.Input((2,)), layers.Dense(16), lrelu(),
                                          layers.Dense(16), lrelu(), layers.Dense(2),
                                          layers.Dense(1)])
    elif name == "mlp-fashion":
        stack = [keras.Input((100,))]
        for width in (256, 512, 1024):
            stack += [layers.Dense(width), lrelu(), layers.BatchNormalization(momentum=0.8)]
        generator = keras.Sequential(stack + [layers.Dense(784, "tanh")])
        discriminator = keras.Sequential([keras.Input((784,)), layers.Dense(512), lrelu(),
                                          layers.Dense(256), lrelu(), layers.Dense(1)])
    else:
        generator = keras.Sequential([
            keras.Input((100,)), layers.Dense(7 * 7 * 256, use_bias=False),
            layers.BatchNormalization(), lrelu(), layers.Reshape((7, 7, 256)),
            layers.Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False),
            layers.BatchNormalization(), lrelu(),
            layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False),
            layers.BatchNormalization(), lrelu(),
            layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False,
                                   activation="tanh")])
        discriminator = keras.Sequential([
            keras.Input((28, 28, 1)), layers.Conv2D(64, 5, strides=2, padding="same"), lrelu(),
            layers.Dropout(0.3), layers.Conv2D(128, 5, strides=2, padding="same"), lrelu(),
            layers.Dropout(0.3), layers.Flatten(), layers.Dense(1)])
    return generator, discriminator


def keras_optimizer(name):
    import keras
    kind, options = SETTINGS[name]["optimizer"]
    if kind == "adam":
        return keras.optimizers.Adam(options["lr"], beta_1=options["beta1"], beta_2=ADAM_BETA2,
                                     epsilon=EPSILON)
    return keras.optimizers.RMSprop(options["lr"], rho=RMSPROP_RHO, epsilon=EPSILON)


def tf_step_function(name, xla):
    import tensorflow as tf
    generator, discriminator = keras_models(name)
    optimizer_g, optimizer_d = keras_optimizer(name), keras_optimizer(name)
    optimizer_g.build(generator.trainable_variables)
    optimizer_d.build(discriminator.trainable_variables)
    batch, latent = SETTINGS[name]["batch"], SETTINGS[name]["latent"]
    ones = tf.ones((batch, 1))
    zeros = tf.zeros((batch, 1))

    def bce(labels, logits):
        return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))

    @tf.function(jit_compile=xla)
    def train(real):
        if name == "dcgan-mnist":
            noise = tf.random.normal((batch, latent))
        else:
            noise = tf.random.uniform((batch, latent), -1.0, 1.0)
        with tf.GradientTape() as g_tape:
            fake = generator(noise, training=True)
            with g_tape.stop_recording():
                with tf.GradientTape() as d_tape:
                    loss_d = (bce(ones, discriminator(real, training=True))
                              + bce(zeros, discriminator(tf.stop_gradient(fake), training=True)))
                d_gradients = d_tape.gradient(loss_d, discriminator.trainable_variables)
                optimizer_d.apply_gradients(zip(d_gradients, discriminator.trainable_variables))
            loss_g = bce(ones, discriminator(fake, training=True))
        g_gradients = g_tape.gradient(loss_g, generator.trainable_variables)
        optimizer_g.apply_gradients(zip(g_gradients, generator.trainable_variables))
        return loss_d, loss_g

    def step(real):
        loss_d, loss_g = train(real)
        return float(loss_d.numpy()), float(loss_g.numpy())

    return step


# ----------------------------------------------------------------------------------- FLOPs

def dcgan_flops(batch=256, third_discriminator_forward=True):
    """2·MACs of every matmul/convolution of one dcgan-mnist step, in the order it runs.

    Elementwise ops, BatchNorm, Dropout, losses and optimizer updates are not counted.
    Returns (total FLOPs, list of (phase, FLOPs)).
    """
    # (layer, MACs per sample of the forward pass); backward data and backward weight cost the same
    generator = [("G dense 100→12544", 100 * 7 * 7 * 256),
                 ("G convT 256→128 5×5 s1 7×7", 7 * 7 * 256 * 128 * 25),
                 ("G convT 128→64 5×5 s2 7→14", 7 * 7 * 128 * 64 * 25),
                 ("G convT 64→1 5×5 s2 14→28", 14 * 14 * 64 * 1 * 25)]
    discriminator = [("D conv 1→64 5×5 s2 28→14", 14 * 14 * 1 * 64 * 25),
                     ("D conv 64→128 5×5 s2 14→7", 7 * 7 * 64 * 128 * 25),
                     ("D dense 6272→1", 7 * 7 * 128)]
    g_forward = sum(m for _, m in generator)
    d_forward = sum(m for _, m in discriminator)
    d_first = discriminator[0][1]
    g_first = generator[0][1]
    phases = [
        ("G forward (fakes)", g_forward),
        ("D forward (real batch)", d_forward),
        ("D forward (fake batch, detached)", d_forward),
        # D-step backward, both batches: weight gradients of every layer, data gradients of every
        # layer but the first (its input, real or detached, needs none)
        ("D backward, D step (2 batches: weight + data)", 2 * (d_forward + d_forward - d_first)),
    ]
    if third_discriminator_forward:
        phases.append(("D forward (fakes, updated D, G step)", d_forward))
    phases += [
        ("D backward data only, G step", d_forward),
        ("G backward (weight + data but none for the noise)", g_forward + g_forward - g_first),
    ]
    phases = [(label, 2 * macs * batch) for label, macs in phases]
    return sum(f for _, f in phases), phases


def format_flops(value):
    return f"{value / 1e9:.1f} GFLOP"


assert math.isclose(dcgan_flops(third_discriminator_forward=False)[0] / 1e9, 115.6, abs_tol=0.05)
