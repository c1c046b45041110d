import Foundation

extension PyTorchFiles {
    /// train.py: the lab's training step in PyTorch, read from the stage's settings at run time
    /// (optimizer.safetensors' metadata), so that one text serves every stage. `defaultData` is the
    /// data file the lab itself reads for the stage's set (absolute), or a file written beside
    /// train.py (relative: the lab's shapes, which the lab draws instead of reading).
    static func train(defaultData: String) -> String {
        #"""
        """Continues the lab's training in PyTorch with the stage's own recipe, read from the settings in
        optimizer.safetensors: its loss family, update schedule, label tricks, D and G steps, packing,
        optimisers (Adam and RMSProp with the lab's ε placement) and batch size, from the lab's data file,
        on a CPU or a GPU, in one process or several under torchrun. A stage exported before training
        has no optimiser state in optimizer.safetensors: the training then starts from step 0 with fresh
        optimisers, as the lab's stage starts.

            python train.py --steps 1000 --out run
            python train.py --steps 1000 --out run --device cuda
            torchrun --nproc_per_node=2 train.py --steps 1000 --out run      # gloo on CPUs, nccl on GPUs

        With N processes each takes 1/N of every batch (its own real images and noise) and the gradients
        are averaged over the processes before every update (all_reduce, as DistributedDataParallel does;
        DDP's own hooks cannot follow the lab's steps, which take two networks' gradients from one pass).
        BatchNorm layers keep per-process statistics, averaged when a checkpoint is written. Rank 0 writes
        run/samples-step-NNNNNN.png from noise.safetensors every --sample-every steps (a toy stage's
        points: samples-step-NNNNNN.csv, in the data's units), and every --checkpoint-every steps and at
        the end run/weights.safetensors and run/optimizer.safetensors (continue with --from run) and, for
        images, run/generator.safetensors, which `gan-lab sample --checkpoint` and `gan-lab score
        --checkpoint` read. A toy stage's points are drawn here as the lab draws them (class Points).
        Dropout draws other masks than the lab: runs are not the lab's bit for bit. --replay replays
        recorded batches and noise (one process) and writes the losses.
        """
        import argparse
        import gzip
        import json
        import math
        import os
        import struct
        import sys

        import torch
        import torch.distributed as dist
        import torch.nn.functional as F

        from labfiles import load_tensors, save_tensors, write_grid
        from models import CLASSES, DATA, GENERATOR_TEXT, NOISE, Networks, labelled, labels_of_noise, sample_noise

        HERE = os.path.dirname(os.path.abspath(__file__))
        DEFAULT_DATA = \#(defaultData.isEmpty ? "None  # the stage's points are drawn from its distribution" : "os.path.join(HERE, \"\(defaultData)\")  # a relative name is a file of this folder")
        POINT_SETS = ("gaussian", "disk", "quadratic", "points", "ring mixture", "grid mixture")  # the toy lessons' data: train.py draws them


        class KerasAdam(torch.optim.Optimizer):
            """Adam with ε where Keras (and the lab's default convention) puts it, before the bias
            correction: p −= lr·√(1 − β2ᵗ)/(1 − β1ᵗ) · m / (√v + ε). torch.optim.Adam adds ε after it."""

            def __init__(self, params, lr, betas, eps):
                super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

            @torch.no_grad()
            def step(self):
                for group in self.param_groups:
                    beta1, beta2 = group["betas"]
                    for p in group["params"]:
                        if p.grad is None:
                            continue
                        state = self.state[p]
                        if not state:
                            state.update(step=torch.tensor(0.0), exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                        state["step"] += 1
                        t = state["step"].item()
                        state["exp_avg"].mul_(beta1).add_(p.grad, alpha=1 - beta1)
                        state["exp_avg_sq"].mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                        step_size = group["lr"] * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
                        p.addcdiv_(state["exp_avg"], state["exp_avg_sq"].sqrt().add_(group["eps"]), value=-step_size)


        class RootEpsilonRMSprop(torch.optim.Optimizer):
            """RMSProp with ε inside the root, as Keras and TensorFlow 1 have it: p −= lr·g / √(v + ε);
            TensorFlow 1's mean square starts at 1. torch.optim.RMSprop divides by √v + ε."""

            def __init__(self, params, lr, alpha, eps, initial):
                super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, initial=initial))

            @torch.no_grad()
            def step(self):
                for group in self.param_groups:
                    for p in group["params"]:
                        if p.grad is None:
                            continue
                        state = self.state[p]
                        if not state:
                            state.update(step=torch.tensor(0.0), square_avg=torch.full_like(p, group["initial"]))
                        state["step"] += 1
                        state["square_avg"].mul_(group["alpha"]).addcmul_(p.grad, p.grad, value=1 - group["alpha"])
                        p.addcdiv_(p.grad, state["square_avg"].add(group["eps"]).sqrt_(), value=-group["lr"])


        STATE_NAMES = {"adam": ["exp_avg", "exp_avg_sq"], "rmsprop": ["square_avg"], "sgd": ["momentum_buffer"]}


        def make_optimizer(settings, parameters):
            kind, convention = settings["optimizer"], settings["optimizer-convention"]
            lr, eps = float(settings["learning-rate"]), float(settings["epsilon"])
            if kind == "adam":
                betas = (float(settings["beta1"]), float(settings["beta2"]))
                if convention == "pytorch":
                    return torch.optim.Adam(parameters, lr=lr, betas=betas, eps=eps)
                return KerasAdam(parameters, lr, betas, eps)
            if kind == "rmsprop":
                rho = float(settings["rho"])
                if convention == "pytorch":
                    return torch.optim.RMSprop(parameters, lr=lr, alpha=rho, eps=eps)
                return RootEpsilonRMSprop(parameters, lr, rho, eps, 1.0 if convention == "tensorflow1" else 0.0)
            return torch.optim.SGD(parameters, lr=lr, momentum=float(settings["momentum"]))


        def load_optimizer(optimizer, network, name, tensors, kind):
            """The lab's state ("generator_optimizer.generator.0.weight.exp_avg", "….step") into a torch optimizer;
            none (a stage exported before training) or step 0: a fresh optimizer."""
            step = tensors.get(f"{name}_optimizer.step")
            if step is None or step.item() == 0:
                return
            step = step.reshape(()).float()
            for parameter_name, parameter in network.named_parameters():
                state = {"step": step.clone()}
                for state_name in STATE_NAMES[kind]:
                    state[state_name] = tensors[f"{name}_optimizer.{name}.{parameter_name}.{state_name}"].clone().to(parameter.device)
                optimizer.state[parameter] = state


        def optimizer_tensors(optimizer, network, name, kind):
            tensors, step = {}, 0.0
            for parameter_name, parameter in network.named_parameters():
                state = optimizer.state.get(parameter, {})
                step = float(state["step"]) if "step" in state else step
                for state_name in STATE_NAMES[kind]:
                    tensors[f"{name}_optimizer.{name}.{parameter_name}.{state_name}"] = state.get(state_name, torch.zeros_like(parameter)).float()
            tensors[f"{name}_optimizer.step"] = torch.tensor(step)
            return tensors


        def read_file(path):
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rb") as file:
                return file.read()


        def load_images(path):
            """The lab's image files: CSV rows of 784 pixels and a label (mnist_5k.csv.gz) or IDX, gzip or
            raw, in [-1, 1]; and their labels (the CSV's last column, or the IDX labels file beside the
            images, "…-labels-idx1-ubyte…"), or None."""
            data = read_file(path)
            if ".csv" not in path and len(data) < 8:
                raise SystemExit(f"train.py: {path} is too short for an IDX file ({len(data)} bytes)")
            if ".csv" in path:
                rows = [line.split(b",") for line in data.splitlines() if line.strip()]
                side = int(math.isqrt(len(rows[0]) - 1))
                pixels = torch.tensor([[int(value) for value in row[:side * side]] for row in rows], dtype=torch.uint8)
                pixels = pixels.reshape(len(rows), 1, side, side)
                labels = torch.tensor([int(row[side * side]) for row in rows])
            else:
                # Grey images: count, rows, columns (idx3); colour: count, rows, columns, 3 (idx4, RGB per pixel).
                dimensions = data[3]
                if data[2] != 0x08 or dimensions not in (3, 4):
                    raise SystemExit(f"train.py: {path} is not an IDX file of grey or RGB images (unsigned bytes, 3 or 4 dimensions)")
                shape = struct.unpack(">" + "I" * dimensions, data[4:4 + 4 * dimensions])
                start, size = 4 + 4 * dimensions, math.prod(shape)
                if len(data) < start + size:
                    raise SystemExit(f"train.py: {path} ends early ({len(data)} bytes; its header asks for {start + size})")
                pixels = torch.frombuffer(bytearray(data[start:start + size]), dtype=torch.uint8)
                pixels = pixels.reshape(shape[0], 1, shape[1], shape[2]) if dimensions == 3 else pixels.reshape(shape).permute(0, 3, 1, 2).contiguous()
                count = shape[0]
                labels_path = path.replace("images-idx3", "labels-idx1").replace("images-idx4", "labels-idx1")
                labels = None
                if labels_path != path and os.path.exists(labels_path):
                    labels = torch.frombuffer(bytearray(read_file(labels_path)[8:8 + count]), dtype=torch.uint8).long()
            return pixels.float() / 127.5 - 1, labels


        def load_points(path):
            """A CSV of points, one x,y a row (a header allowed), as the lab reads `data-file`."""
            rows = []
            for number, line in enumerate(read_file(path).decode("utf-8").splitlines(), start=1):
                fields = [field.strip() for field in line.split(",")]
                if not line.strip():
                    continue
                try:
                    rows.append([float(fields[0]), float(fields[1])])
                except (ValueError, IndexError):
                    if rows or number > 1:
                        raise SystemExit(f"train.py: {path}, line {number}: not a point (x,y)")
            if not rows:
                raise SystemExit(f"train.py: {path} holds no points (one x,y a row)")
            return torch.tensor(rows)


        class Points:
            """The toy lessons' points (Sources/Data/ToyDistribution.swift): N(mean, std²·I), uniform in the
            unit disk (by rejection from the square), x uniform in [-50, 50] with y = 10 + x², a user's
            points drawn with replacement, or lesson 4's mixtures (Sources/Data/GaussianMixture.swift: 8 modes
            on the unit circle, or 25 on a 5 × 5 grid of spacing 2, each N(mode, mixture-std²·I); models.py's
            Scale modules map them to the networks' units); with `standardize: yes` mapped to zero mean and unit standard
            deviation by the statistics of 10,000 draws, as the lab does (drawn from the seed alone, so that
            every process trains in the same units). Each process draws its own share of every batch."""

            def __init__(self, settings, path, count, seed, rank):
                self.settings, self.count = settings, count
                self.points = load_points(path) if DATA == "points" else None
                self.random = torch.Generator().manual_seed(seed)
                self.mean, self.std = torch.zeros(2), torch.ones(2)
                if settings.get("standardize") == "yes":
                    sample = self.draw(10_000)
                    self.mean, self.std = sample.mean(0), sample.std(0, unbiased=False).clamp_min(1e-12)
                self.random.manual_seed(seed * 1000 + rank)

            def draw(self, count):
                if DATA == "disk":
                    points = torch.empty(0, 2)
                    while len(points) < count:
                        square = torch.rand(2 * count, 2, generator=self.random) * 2 - 1
                        points = torch.cat([points, square[(square ** 2).sum(1) <= 1]])
                    return points[:count]
                if DATA == "quadratic":
                    x = torch.rand(count, generator=self.random) * 100 - 50
                    return torch.stack([x, 10 + x * x], 1)
                if DATA == "points":
                    return self.points[torch.randint(len(self.points), (count,), generator=self.random)]
                if DATA.endswith("mixture"):
                    if DATA == "ring mixture":
                        angles = 2 * math.pi * torch.arange(8, dtype=torch.float64) / 8
                        modes = torch.stack([torch.cos(angles), torch.sin(angles)], 1).float()
                    else:
                        steps = 2 * (torch.arange(5, dtype=torch.float32) - 2)
                        modes = torch.stack([steps.repeat(5), steps.repeat_interleave(5)], 1)
                    chosen = modes[torch.randint(len(modes), (count,), generator=self.random)]
                    return chosen + float(self.settings["mixture-std"]) * torch.randn(count, 2, generator=self.random)
                mean = torch.tensor([float(self.settings["data-mean-x"]), float(self.settings["data-mean-y"])])
                return mean + float(self.settings["data-std"]) * torch.randn(count, 2, generator=self.random)

            def real(self):
                return (self.draw(self.count) - self.mean) / self.std

            def noise(self, count, real):
                return sample_noise(count, generator=self.random)

            def restored(self, points):
                """Points in the data's units, from the units the networks work in."""
                return points * self.std.to(points.device) + self.mean.to(points.device)


        class Batches:
            """The lab's batches: each pass over the images in a new order, its short last batch dropped
            ("shuffled"), or drawn with replacement; this process's share of each."""

            def __init__(self, images, labels, batch_size, with_replacement, seed, rank, world):
                self.images, self.labels, self.batch_size, self.with_replacement = images, labels, batch_size, with_replacement
                self.rank, self.world, self.position, self.order = rank, world, len(images), None
                self.random = torch.Generator().manual_seed(seed)  # the same order on every process

            def real(self):
                if self.with_replacement:
                    indices = torch.randint(len(self.images), (self.batch_size,), generator=self.random)
                else:
                    if self.position + self.batch_size > len(self.images):
                        self.order, self.position = torch.randperm(len(self.images), generator=self.random), 0
                    indices = self.order[self.position:self.position + self.batch_size]
                    self.position += self.batch_size
                share = self.batch_size // self.world
                mine = indices[self.rank * share:(self.rank + 1) * share]
                if CLASSES == 0:
                    return self.images[mine]
                # A conditional GAN's real batch carries its labels as channels after the images'.
                return labelled(self.images[mine], F.one_hot(self.labels[mine], CLASSES).float())


        class Replay:
            """Recorded real batches and noise ("real.0", "noise.0", … in the order the lab drew them)."""

            def __init__(self, path):
                self.tensors = load_tensors(path)[0]
                self.reals, self.noises = 0, 0

            def real(self):
                self.reals += 1
                return self.tensors[f"real.{self.reals - 1}"]

            def noise(self, count, real):
                self.noises += 1
                return self.tensors[f"noise.{self.noises - 1}"]


        class Trainer:
            """The lab's D step and G step (Sources/GAN/Trainer.swift), and its rounds."""

            def __init__(self, networks, settings, device, world):
                self.generator, self.discriminator = networks.generator, networks.discriminator
                self.settings, self.device, self.world = settings, device, world
                self.loss = settings["loss"]
                self.update = settings["update"]
                self.pack = int(settings["pack"])
                self.real_label = float(settings["real-label"])
                self.label_noise, self.label_flip = float(settings["label-noise"]), float(settings["label-flip"])
                self.soft_labels = float(settings.get("soft-labels", 0))
                self.halves = settings["discriminator-halves"]
                self.inference_fakes = settings["fakes-made-in"] == "inference-mode"
                self.average_halves = self.update == "alternating"
                self.kind = settings["optimizer"]
                self.generator_optimizer = make_optimizer(settings, self.generator.parameters())
                self.discriminator_optimizer = make_optimizer(settings, self.discriminator.parameters())
                self.random = torch.Generator().manual_seed(0)

            def packed(self, samples):
                return samples if self.pack == 1 else samples.reshape(samples.shape[0] // self.pack, -1)

            def labels(self, count, value):
                targets = torch.full((count, 1), value)
                if self.label_noise > 0:
                    targets += (torch.rand((count, 1), generator=self.random) * 2 - 1) * self.label_noise
                elif self.soft_labels > 0:
                    low = value - self.soft_labels if value >= 0.5 else value
                    targets = low + torch.rand((count, 1), generator=self.random) * self.soft_labels
                if self.label_flip > 0:
                    flipped = torch.rand((count, 1), generator=self.random) < self.label_flip
                    targets[flipped] = 0.0 if value >= 0.5 else self.real_label
                return targets.to(self.device)

            def half_loss(self, outputs, targets):
                if self.loss == "least-squares":
                    return F.mse_loss(outputs, targets)
                return F.binary_cross_entropy_with_logits(outputs, targets)

            def discriminator_loss(self, real_outputs, fake_outputs, real_input, fake_input):
                if self.loss in ("bce", "minimax", "least-squares"):
                    real = self.half_loss(real_outputs, self.labels(len(real_outputs), self.real_label))
                    fake = self.half_loss(fake_outputs, self.labels(len(fake_outputs), 0.0))
                    return (real + fake) * 0.5 if self.average_halves else real + fake
                if self.loss == "hinge":
                    return F.relu(1 - real_outputs).mean() + F.relu(1 + fake_outputs).mean()
                loss = fake_outputs.mean() - real_outputs.mean()
                if self.loss == "wgan-gp":
                    mixing = torch.rand((len(real_input),) + (1,) * (real_input.dim() - 1), generator=self.random).to(self.device)
                    interpolates = (real_input * mixing + fake_input * (1 - mixing)).requires_grad_(True)
                    gradient, = torch.autograd.grad(self.discriminator(interpolates).sum(), interpolates, create_graph=True)
                    if CLASSES:  # a conditional critic's penalty is on the gradient at the image (its label channels are equal in both halves)
                        gradient = gradient[:, :gradient.shape[1] - CLASSES]
                    norm = torch.exp(0.5 * torch.log(gradient.flatten(1).pow(2).sum(1) + 1e-12))
                    loss = loss + float(self.settings["penalty-weight"]) * ((norm - 1) ** 2).mean()
                return loss

            def generator_loss(self, fake_outputs):
                if self.loss == "bce":
                    return F.binary_cross_entropy_with_logits(fake_outputs, torch.ones_like(fake_outputs))
                if self.loss == "minimax":
                    return -F.binary_cross_entropy_with_logits(fake_outputs, torch.zeros_like(fake_outputs))
                if self.loss == "least-squares":
                    return 0.5 * F.mse_loss(fake_outputs, torch.ones_like(fake_outputs))
                return -fake_outputs.mean()

            def apply(self, optimizer, network, gradients=None):
                """Averages the gradients over the processes, then updates (and clips WGAN's critic)."""
                parameters = list(network.parameters())
                if gradients is not None:
                    for parameter, gradient in zip(parameters, gradients):
                        parameter.grad = gradient
                if self.world > 1:
                    for parameter in parameters:
                        dist.all_reduce(parameter.grad)
                        parameter.grad /= self.world
                optimizer.step()
                if network is self.discriminator and self.loss == "wgan":
                    with torch.no_grad():
                        for parameter in parameters:
                            parameter.clamp_(-float(self.settings["clip"]), float(self.settings["clip"]))

            def samples(self, noise):
                """G's samples of `noise`, a conditional GAN's with the label channels its noise asked for."""
                return labelled(self.generator(noise), labels_of_noise(noise))

            def fakes(self, noise):
                """G's samples for D's step, detached, in the mode the stage names."""
                with torch.no_grad():
                    if not self.inference_fakes:
                        return self.samples(noise)
                    self.generator.eval()
                    samples = self.samples(noise)
                    self.generator.train()
                    return samples

            def discriminator_step(self, real, fake):
                real_input, fake_input = self.packed(real), self.packed(fake)
                if self.halves == "separately":
                    losses = []
                    for samples, value in ((real_input, self.real_label), (fake_input, 0.0)):
                        targets = self.labels(len(samples), value)
                        loss = self.half_loss(self.discriminator(samples), targets)
                        gradients = torch.autograd.grad(loss, list(self.discriminator.parameters()))
                        self.apply(self.discriminator_optimizer, self.discriminator, gradients)
                        losses.append(loss.item())
                    return sum(losses) / 2
                loss = self.discriminator_loss(self.discriminator(real_input), self.discriminator(fake_input), real_input, fake_input)
                self.apply(self.discriminator_optimizer, self.discriminator, torch.autograd.grad(loss, list(self.discriminator.parameters())))
                return loss.item()

            def generator_step(self, samples):
                loss = self.generator_loss(self.discriminator(self.packed(samples)))
                self.apply(self.generator_optimizer, self.generator, torch.autograd.grad(loss, list(self.generator.parameters())))
                return loss.item()

            def round(self, source, count):
                """One round of the stage's schedule; the losses of its last D and G updates."""
                d_steps = int(self.settings["discriminator-steps"])
                if self.update == "alternating":
                    for _ in range(max(d_steps, 1)):
                        real = source.real().to(self.device)
                        d_loss = self.discriminator_step(real, self.fakes(source.noise(count, real).to(self.device)))
                    return d_loss, self.generator_step(self.samples(source.noise(count, real).to(self.device)))
                real = source.real().to(self.device)
                noise = source.noise(count, real).to(self.device)
                if self.update == "phases":
                    for _ in range(d_steps):
                        d_loss = self.discriminator_step(real, self.fakes(noise))
                    for _ in range(int(self.settings["generator-steps"])):
                        g_loss = self.generator_step(self.samples(noise))
                    return d_loss, g_loss
                samples = self.samples(noise)
                if self.update == "shared-fakes":
                    d_loss = self.discriminator_step(real, samples.detach())
                    return d_loss, self.generator_step(samples)
                # joint: one pass of G feeds both losses; both gradients at the same parameters.
                real_input, fake = self.packed(real), self.packed(samples)
                fake_outputs = self.discriminator(fake)
                d_loss = self.discriminator_loss(self.discriminator(real_input), fake_outputs, real_input, fake.detach())
                g_loss = self.generator_loss(fake_outputs)
                g_gradients = torch.autograd.grad(g_loss, list(self.generator.parameters()), retain_graph=True)
                d_gradients = torch.autograd.grad(d_loss, list(self.discriminator.parameters()))
                self.apply(self.generator_optimizer, self.generator, g_gradients)
                self.apply(self.discriminator_optimizer, self.discriminator, d_gradients)
                return d_loss.item(), g_loss.item()


        class Draws:
            """This process's real batches and noise."""

            def __init__(self, batches, seed):
                self.batches, self.random = batches, torch.Generator().manual_seed(seed)

            def real(self):
                return self.batches.real()

            def noise(self, count, real):
                """Noise for the fakes beside `real`: a conditional GAN's ask for the real batch's labels."""
                return sample_noise(count, generator=self.random, one_hot=real[:, real.shape[1] - CLASSES:, 0, 0] if CLASSES else None)


        def save_checkpoint(folder, networks, trainer, settings, world):
            """weights.safetensors and optimizer.safetensors as the export wrote them, and a generator.safetensors the lab reads."""
            if world > 1:  # BatchNorm statistics: the processes' average
                for name, buffer in networks.named_buffers():
                    if buffer.is_floating_point():
                        dist.all_reduce(buffer)
                        buffer /= world
            if dist.is_initialized() and dist.get_rank() != 0:
                return
            state = {name: tensor.detach().cpu() for name, tensor in networks.state_dict().items()}
            save_tensors(os.path.join(folder, "weights.safetensors"), state, {"kind": "gan-lab pytorch export"})
            optimizers = optimizer_tensors(trainer.generator_optimizer, networks.generator, "generator", trainer.kind)
            optimizers.update(optimizer_tensors(trainer.discriminator_optimizer, networks.discriminator, "discriminator", trainer.kind))
            save_tensors(os.path.join(folder, "optimizer.safetensors"), optimizers, {"settings": json.dumps(settings, sort_keys=True)})
            if DATA in POINT_SETS:
                return  # the lab reads image generators only (gan-lab sample, gan-lab score)
            generator = {name[len("generator."):]: tensor for name, tensor in state.items()
                         if name.startswith("generator.") and not name.endswith("num_batches_tracked")}
            facts = {"kind": "gan-lab generator", "data": DATA, "generator": GENERATOR_TEXT, "noise": NOISE}
            if CLASSES:
                facts["classes"] = str(CLASSES)
            save_tensors(os.path.join(folder, "generator.safetensors"), generator, facts)


        def write_points(path, points):
            """Points as a CSV of x,y rows, written atomically."""
            partial = path + ".partial"
            with open(partial, "w") as file:
                file.write("x,y\n" + "".join(f"{x:.9g},{y:.9g}\n" for x, y in points.tolist()))
            os.replace(partial, path)


        def main():
            parser = argparse.ArgumentParser(description="Continue the lab's training in PyTorch.")
            parser.add_argument("--steps", type=int, default=100, help="rounds of the stage's schedule (default: 100)")
            parser.add_argument("--out", default=os.path.join(HERE, "run"), help="folder for samples and checkpoints")
            parser.add_argument("--from", dest="source", default=HERE, help="folder with weights.safetensors and optimizer.safetensors")
            parser.add_argument("--data", default=DEFAULT_DATA,
                                help=f"the images, or a toy stage's points as a CSV of x,y rows (default: {DEFAULT_DATA or 'drawn from the distribution'})")
            parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
            parser.add_argument("--seed", type=int, default=1)
            parser.add_argument("--sample-every", type=int, default=100)
            parser.add_argument("--checkpoint-every", type=int, default=1000)
            parser.add_argument("--log-every", type=int, default=10)
            parser.add_argument("--replay", help="safetensors of recorded batches and noise (real.0, noise.0, …); one process")
            parser.add_argument("--losses", help="with --replay: write each round's D and G losses here")
            args = parser.parse_args()

            world = int(os.environ.get("WORLD_SIZE", "1"))
            rank = int(os.environ.get("RANK", "0"))
            device = args.device
            if world > 1:
                local = int(os.environ.get("LOCAL_RANK", "0"))
                if device.startswith("cuda"):
                    device = f"cuda:{local}"
                    torch.cuda.set_device(local)
                dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")

            tensors, metadata = load_tensors(os.path.join(args.source, "optimizer.safetensors"))
            settings = json.loads(metadata["settings"])
            if float(settings.get("decay-to", "1")) < 1:
                raise SystemExit("train.py: the stage's learning rates decay (decay-to < 1), which train.py does not follow; "
                                 "set decay-to to 1 in the lesson to continue it")
            if float(settings.get("average-generator", "1")) < 1 and rank == 0:
                print(f"train.py: the lab also keeps a running average of G's weights (average-generator {settings['average-generator']}) "
                      "for its figures; train.py does not, and its samples are the generator's own", file=sys.stderr)
            batch_size = int(settings["batch-size"]) * int(settings["pack"])
            if batch_size % world:
                raise SystemExit(f"train.py: a batch of {batch_size} does not split over {world} processes; choose a divisor")

            networks = Networks()
            networks.load_state_dict(load_tensors(os.path.join(args.source, "weights.safetensors"))[0], strict=True)
            networks.to(device).train()
            trainer = Trainer(networks, settings, device, world)
            load_optimizer(trainer.generator_optimizer, networks.generator, "generator", tensors, trainer.kind)
            load_optimizer(trainer.discriminator_optimizer, networks.discriminator, "discriminator", tensors, trainer.kind)

            if args.replay:
                source = Replay(args.replay)
            elif DATA in POINT_SETS:
                if args.data and DATA != "points":
                    raise SystemExit(f"train.py: this stage draws its points from its distribution ({DATA}); --data is for a stage on a file of points")
                source = Points(settings, args.data, batch_size // world, args.seed, rank)
                trainer.random.manual_seed(args.seed * 1000 + rank)
            else:
                images, labels = load_images(args.data)
                if CLASSES and labels is None:
                    raise SystemExit(f"train.py: {args.data} has no labels beside it, and a conditional GAN trains on labelled images")
                batches = Batches(images, labels, batch_size, settings.get("batches") == "with-replacement", args.seed, rank, world)
                source = Draws(batches, args.seed * 1000 + rank)
                trainer.random.manual_seed(args.seed * 1000 + rank)
            share = batch_size // world
            fixed = load_tensors(os.path.join(HERE, "noise.safetensors"))[0]["noise"].to(device)
            os.makedirs(args.out, exist_ok=True)
            losses = []
            for step in range(1, args.steps + 1):
                d_loss, g_loss = trainer.round(source, share)
                losses.append((d_loss, g_loss))
                if rank == 0 and (step % args.log_every == 0 or step == args.steps):
                    print(f"step {step}: D loss {d_loss:.4f}, G loss {g_loss:.4f}", flush=True)
                if rank == 0 and not args.replay and step % args.sample_every == 0:
                    networks.generator.eval()
                    with torch.no_grad():
                        samples = networks.generator(fixed).cpu()
                        if DATA in POINT_SETS:
                            write_points(os.path.join(args.out, f"samples-step-{step:06d}.csv"), source.restored(samples))
                        else:
                            write_grid(os.path.join(args.out, f"samples-step-{step:06d}.png"), samples)
                    networks.generator.train()
                if step % args.checkpoint_every == 0 or step == args.steps:
                    save_checkpoint(args.out, networks, trainer, settings, world)
            if args.losses and rank == 0:
                save_tensors(args.losses, {"discriminator_loss": torch.tensor([d for d, _ in losses]),
                                           "generator_loss": torch.tensor([g for _, g in losses])})
            if world > 1:
                # Rank 0 may still be writing the checkpoint: a rank that tears its process group down
                # first can abort under gloo, and torchrun then stops rank 0 mid-write.
                dist.barrier()
                dist.destroy_process_group()


        if __name__ == "__main__":
            main()

        """#
    }
}
