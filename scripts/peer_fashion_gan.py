"""Lesson 5's yardstick: the Fashion-MNIST MLP GAN trained in PyTorch, judged by the lab's judge.

Trains the networks of `peer_models.py` ("mlp-fashion": G 100→256→512→1024→784 with LeakyReLU 0.2
and BatchNorm momentum 0.8 after each activation, tanh out; D 784→512→256→1 logit) on the 60,000
Fashion-MNIST training images of Debian's `dataset-fashion-mnist`, with PyTorch's own default
initialisation (what a student writing PyTorch gets), for the same number of iterations and with
the same recipe as a lab run: each iteration draws 64 images uniformly with replacement and
N(0, 1) noise, makes D's fakes in the mode asked, updates D on real and fake (together, or
separately as Keras's `train_on_batch` twice), then G through D on fresh noise in training mode.
Then it writes `--samples` images from fresh noise (G in inference mode, as the lab samples) as an
IDX file the lab judges:

    scripts/peer_fashion_gan.py --steps 10000 --lr 2e-4 --beta1 0.5 --out Output/peer/torch.idx
    gan-lab score --data fashion-mnist Output/peer/torch.idx

It runs inside `.venv-peers/` (created on first use, see peer_env.py) on two CPU threads.
"""

import argparse
import gzip
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_env  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"


def read_images(path):
    with gzip.open(path, "rb") as stream:
        magic, count, rows, columns = struct.unpack(">IIII", stream.read(16))
        if magic != 2051:
            raise SystemExit(f"{path}: not an IDX image file (magic {magic})")
        data = stream.read(count * rows * columns)
    import numpy
    pixels = numpy.frombuffer(data, dtype=numpy.uint8).reshape(count, rows * columns)
    return (pixels.astype(numpy.float32) / 127.5 - 1).copy()


def write_idx(path, images):
    """Images in [-1, 1], [n, 784], as an IDX file of 28×28 unsigned bytes (written atomically)."""
    import numpy
    pixels = numpy.clip(numpy.rint((images + 1) * 127.5), 0, 255).astype(numpy.uint8)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    partial = path + ".part"
    with open(partial, "wb") as stream:
        stream.write(struct.pack(">IIII", 2051, len(pixels), 28, 28))
        stream.write(pixels.tobytes())
    os.replace(partial, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--beta1", type=float, default=0.5)
    parser.add_argument("--real-label", type=float, default=1.0)
    parser.add_argument("--halves", choices=["together", "separately"], default="together")
    parser.add_argument("--fakes-mode", choices=["training", "inference"], default="training")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", required=True, help="IDX file to write the samples to")
    arguments = parser.parse_args()
    peer_env.ensure_environment(need_tensorflow=False)

    import numpy
    import torch
    import torch.nn.functional as F
    from peer_models import torch_models, ADAM_BETA2, EPSILON

    torch.set_num_threads(arguments.threads)
    torch.manual_seed(arguments.seed)
    numpy_random = numpy.random.default_rng(arguments.seed)
    images = torch.from_numpy(read_images(DATA))
    generator, discriminator = torch_models("mlp-fashion")
    betas = (arguments.beta1, ADAM_BETA2)
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=arguments.lr, betas=betas, eps=EPSILON)
    optimizer_d = torch.optim.Adam(discriminator.parameters(), lr=arguments.lr, betas=betas, eps=EPSILON)
    batch = 64
    real_targets = torch.full((batch, 1), arguments.real_label)
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)

    def d_update(loss):
        optimizer_d.zero_grad(set_to_none=True)
        loss.backward()
        optimizer_d.step()

    start = time.perf_counter()
    for step in range(1, arguments.steps + 1):
        real = images[numpy_random.integers(0, len(images), batch)]
        generator.train(arguments.fakes_mode == "training")
        with torch.no_grad():
            fake = generator(torch.randn(batch, 100))
        generator.train()
        if arguments.halves == "together":
            d_update(0.5 * (F.binary_cross_entropy_with_logits(discriminator(real), real_targets)
                            + F.binary_cross_entropy_with_logits(discriminator(fake), zeros)))
        else:
            d_update(F.binary_cross_entropy_with_logits(discriminator(real), real_targets))
            d_update(F.binary_cross_entropy_with_logits(discriminator(fake), zeros))
        loss_g = F.binary_cross_entropy_with_logits(discriminator(generator(torch.randn(batch, 100))), ones)
        optimizer_g.zero_grad(set_to_none=True)
        loss_g.backward()
        optimizer_g.step()
        if step % 1000 == 0 or step == arguments.steps:
            elapsed = time.perf_counter() - start
            print(f"step {step}: G loss {loss_g.item():.3f} · {step / elapsed:.1f} steps/s", flush=True)
    generator.eval()
    with torch.no_grad():
        samples = torch.cat([generator(torch.randn(1000, 100)) for _ in range((arguments.samples + 999) // 1000)])
    write_idx(arguments.out, samples[:arguments.samples].numpy())
    print(f"wrote {arguments.samples} samples to {arguments.out} "
          f"({arguments.steps} steps in {time.perf_counter() - start:.1f} s, torch {torch.__version__})")


if __name__ == "__main__":
    main()
