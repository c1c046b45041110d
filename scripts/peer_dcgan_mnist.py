"""Lesson 6's yardstick: the class-time DCGAN trained in PyTorch for the same wall-clock time.

The networks of lesson 6's `class` stage (the TensorFlow tutorial's DCGAN at half its width, or at
its full width with `--width full`): G Dense 100→7·7·128 without bias, BatchNorm, LeakyReLU 0.3,
three 5×5 transposed convolutions (64 at stride 1, 32 and 1 at stride 2) with BatchNorm and
LeakyReLU between and tanh out; D two 5×5 stride-2 convolutions (32, 64) with LeakyReLU 0.3 and
dropout 0.3, then one logit. BatchNorm as Keras's defaults (momentum 0.99, ε 1e-3); PyTorch's
own default initialisation (what a student writing PyTorch gets). Keras's "same" padding for the
stride-2 layers is written as symmetric padding 2 with output padding 1: the same shapes and the
same cost, shifted by one pixel.

The training step is the tutorial's `train_step`, as the lab's `update: joint`: one batch of real
digits and one of N(0, 1) noise, G runs once in training mode, D runs once on each, both losses
come from that one pass (D: BCE on real and fake, added; G: BCE of D's fakes against 1), both
gradients are taken at the same parameters, then both Adam optimisers step (2e-4, β1 0.5, β2 0.999,
ε 1e-7). Data: the lab's 5,000 digits (`data/mnist_5k.csv.gz`), shuffled every epoch, the short
last batch dropped. Training stops after `--seconds` of wall-clock time (or `--steps`); then
`--samples` images from fresh noise (G in inference mode) go to an IDX file the lab judges:

    scripts/peer_dcgan_mnist.py --seconds 370 --out Output/peer/dcgan.idx
    gan-lab score --data mnist Output/peer/dcgan.idx

It runs inside `.venv-peers/` (created on first use, see peer_env.py) on two CPU threads.
"""

import argparse
import gzip
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_env  # noqa: E402
from peer_fashion_gan import write_idx  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "mnist_5k.csv.gz")


def read_digits(path):
    """The lab's 5,000 digits: rows of 784 pixels (0–255) and a label, scaled to [-1, 1]."""
    import numpy
    if not os.path.exists(path):
        raise SystemExit(f"{path}: missing; scripts/setup.sh fetches it")
    with gzip.open(path, "rt") as stream:
        rows = numpy.loadtxt(stream, delimiter=",", dtype=numpy.float32)
    return (rows[:, :784] / 127.5 - 1).reshape(-1, 1, 28, 28).copy()


def models(width):
    import torch.nn as nn
    scale = 1 if width == "full" else 2

    def lrelu():
        return nn.LeakyReLU(0.3)

    def bn(channels):
        return nn.BatchNorm2d(channels, momentum=0.01, eps=1e-3)

    g1, g2, g3 = 256 // scale, 128 // scale, 64 // scale
    d1, d2 = 64 // scale, 128 // scale
    generator = nn.Sequential(
        nn.Linear(100, 7 * 7 * g1, bias=False), nn.BatchNorm1d(7 * 7 * g1, momentum=0.01, eps=1e-3), lrelu(),
        nn.Unflatten(1, (g1, 7, 7)),
        nn.ConvTranspose2d(g1, g2, 5, stride=1, padding=2, bias=False), bn(g2), lrelu(),
        nn.ConvTranspose2d(g2, g3, 5, stride=2, padding=2, output_padding=1, bias=False), bn(g3), lrelu(),
        nn.ConvTranspose2d(g3, 1, 5, stride=2, padding=2, output_padding=1, bias=False), nn.Tanh())
    discriminator = nn.Sequential(
        nn.Conv2d(1, d1, 5, stride=2, padding=2), lrelu(), nn.Dropout(0.3),
        nn.Conv2d(d1, d2, 5, stride=2, padding=2), lrelu(), nn.Dropout(0.3),
        nn.Flatten(), nn.Linear(7 * 7 * d2, 1))
    return generator, discriminator


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=0, help="wall-clock training budget (0: use --steps)")
    parser.add_argument("--steps", type=int, default=3120)
    parser.add_argument("--width", choices=["half", "full"], default="half")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--beta1", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", required=True, help="IDX file to write the samples to")
    arguments = parser.parse_args()
    peer_env.ensure_environment(need_tensorflow=False)

    import numpy
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(arguments.threads)
    torch.manual_seed(arguments.seed)
    numpy_random = numpy.random.default_rng(arguments.seed)
    digits = torch.from_numpy(read_digits(DATA))
    generator, discriminator = models(arguments.width)
    betas = (arguments.beta1, 0.999)
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=arguments.lr, betas=betas, eps=1e-7)
    optimizer_d = torch.optim.Adam(discriminator.parameters(), lr=arguments.lr, betas=betas, eps=1e-7)
    batch = arguments.batch
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)
    per_epoch = len(digits) // batch
    d_parameters, g_parameters = list(discriminator.parameters()), list(generator.parameters())

    start = time.perf_counter()
    step, order = 0, None
    while True:
        elapsed = time.perf_counter() - start
        if (arguments.seconds > 0 and elapsed >= arguments.seconds) or (arguments.seconds <= 0 and step >= arguments.steps):
            break
        if step % per_epoch == 0:
            order = torch.from_numpy(numpy_random.permutation(len(digits)))
        index = step % per_epoch
        real = digits[order[index * batch:(index + 1) * batch]]
        fake = generator(torch.randn(batch, 100))
        real_output, fake_output = discriminator(real), discriminator(fake)
        loss_d = (F.binary_cross_entropy_with_logits(real_output, ones)
                  + F.binary_cross_entropy_with_logits(fake_output, zeros))
        loss_g = F.binary_cross_entropy_with_logits(fake_output, ones)
        gradients_d = torch.autograd.grad(loss_d, d_parameters, retain_graph=True)
        gradients_g = torch.autograd.grad(loss_g, g_parameters)
        for parameter, gradient in zip(d_parameters, gradients_d):
            parameter.grad = gradient
        for parameter, gradient in zip(g_parameters, gradients_g):
            parameter.grad = gradient
        optimizer_d.step()
        optimizer_g.step()
        step += 1
        if step % 500 == 0:
            elapsed = time.perf_counter() - start
            print(f"step {step}: D loss {loss_d.item():.3f} · G loss {loss_g.item():.3f} · {step / elapsed:.1f} steps/s",
                  flush=True)
    seconds = time.perf_counter() - start
    generator.eval()
    with torch.no_grad():
        samples = torch.cat([generator(torch.randn(1000, 100)) for _ in range((arguments.samples + 999) // 1000)])
    write_idx(arguments.out, samples[:arguments.samples].reshape(-1, 784).numpy())
    print(f"wrote {arguments.samples} samples to {arguments.out} "
          f"({step} steps in {seconds:.1f} s, {step / seconds:.2f} steps/s, torch {torch.__version__})")


if __name__ == "__main__":
    main()
