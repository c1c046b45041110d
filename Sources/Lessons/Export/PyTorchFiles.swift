import Foundation
import GAN

/// The Python and Markdown files of an exported folder, as text. The networks come from
/// `PyTorchNetwork`; everything else is fixed text with the checkpoint's few facts filled in.
enum PyTorchFiles {
    /// models.py: the modules the networks need beyond `torch.nn`, the networks, both together
    /// (`Networks`, whose state_dict names are weights.safetensors'), and the lab's noise.
    /// `generatorScale` and `discriminatorScale`: the lab's fixed scalings after G and before D (lesson 4's networks).
    /// `classes`: a conditional GAN's classes (G reads [z | one-hot], D the label as that many channels after the image's).
    static func models(generator: Architecture, discriminator: Architecture?, noise: NoiseDistribution, data: String, source: String,
                       generatorScale: Float? = nil, discriminatorScale: Float? = nil, classes: Int = 0) -> String {
        let networks = [PyTorchNetwork(className: "Generator", architecture: generator, outputScale: generatorScale)]
            + (discriminator.map { [PyTorchNetwork(className: "Discriminator", architecture: $0, inputScale: discriminatorScale)] } ?? [])
        let scaleClass = generatorScale == nil && discriminatorScale == nil ? "" : #"""



        class Scale(nn.Module):
            """Multiplies by a fixed factor (the lab's FixedScale: no parameters)."""

            def __init__(self, factor):
                super().__init__()
                self.factor = factor

            def forward(self, x):
                return x * self.factor

            def extra_repr(self):
                return str(self.factor)
        """#
        let noiseCode: String
        switch noise {
        case .normal:
            noiseCode = "torch.randn(count, LATENT_SIZE, generator=generator, device=device)"
        case let .uniform(low, high):
            noiseCode = "torch.rand(count, LATENT_SIZE, generator=generator, device=device) * \(python(high - low)) + \(python(low))"
        }
        let noiseText = GeneratorCheckpoint.text(of: noise)
        let discriminatorMember = discriminator == nil ? "" : "\n        self.discriminator = Discriminator()"
        return #"""
        """The lab's networks as PyTorch modules, written by `gan-lab export --pytorch` from
        \#(source).

        Module i of each network is the lab's layer i, so the state_dict names are the lab's
        ("generator.0.weight", "generator.1.running_mean", …) and
        `Networks().load_state_dict(load_tensors("weights.safetensors")[0], strict=True)` loads
        every tensor. The lab follows Keras's conventions; here they are PyTorch's:
        - Keras's "same" padding: ⌈n / stride⌉ outputs, and when the padding is odd the extra row and
          column go at the bottom and right. nn.Conv2d's padding is symmetric, so a convolution that
          needs more at the bottom is a PaddedConv2d with its pads written out; a transposed
          convolution is cropped to n·stride as Keras crops it (CroppedConvTranspose2d).
        - BatchNorm: Keras keeps `momentum` of the running statistics, PyTorch keeps 1 − momentum, so
          Keras's 0.99 is momentum=0.01 here; ε is the same number. Keras (and the lab) feed the
          running variance the batch variance over n, PyTorch over n − 1: KerasBatchNorm1d/2d are
          PyTorch's layers with Keras's running variance, so that training goes on as in the lab.
        - Dense is nn.Linear with the same [out, in] weight; LeakyReLU keeps its slope; Dropout its rate.
        """
        import torch
        from torch import nn
        import torch.nn.functional as F

        LATENT_SIZE = \#(generator.inputSize - classes)
        CLASSES = \#(classes)  # a conditional GAN's classes: G reads [noise | one-hot label], D the label as CLASSES channels
        NOISE = "\#(noiseText)"
        DATA = "\#(data)"
        GENERATOR_TEXT = "\#(generator.description)"


        def sample_noise(count, generator=None, device="cpu", one_hot=None):
            """`count` noise vectors as the lab draws them (\#(noiseText)), from torch's generator; a
            conditional GAN's are followed by the one-hot labels `one_hot` [count, CLASSES] they ask for."""
            z = \#(noiseCode)
            return z if CLASSES == 0 else torch.cat([z, one_hot.to(z.device)], 1)


        def labelled(images, one_hot):
            """The discriminator's input: the images, then (a conditional GAN) one constant channel per
            class holding the one-hot label [N, CLASSES] — the lab's way of giving D the label."""
            if CLASSES == 0:
                return images
            return torch.cat([images, one_hot[:, :, None, None].expand(-1, -1, *images.shape[2:])], 1)


        def labels_of_noise(noise):
            """The one-hot labels a conditional generator's noise asks for (its last CLASSES numbers)."""
            return noise[:, noise.shape[1] - CLASSES:]


        class Reshape(nn.Module):
            """[N, …] to [N, *shape] (Keras's Reshape: the batch dimension is kept)."""

            def __init__(self, *shape):
                super().__init__()
                self.shape = shape

            def forward(self, x):
                return x.reshape(x.shape[0], *self.shape)

            def extra_repr(self):
                return ", ".join(map(str, self.shape))\#(scaleClass)


        class KerasRunningVariance:
            """In training, the running variance takes the batch's variance over n (Keras's moments), not
            over n − 1 as PyTorch's BatchNorm has it; normalisation and the running mean are PyTorch's."""

            def forward(self, x):
                if not self.training:
                    return super().forward(x)
                with torch.no_grad():
                    variance = x.var(dim=[0] + list(range(2, x.dim())), unbiased=False)
                    kept = self.running_var * (1 - self.momentum)
                y = super().forward(x)
                # A new tensor, not an in-place write: the graph keeps the one the layer read.
                self.running_var = kept + variance * self.momentum
                return y


        class KerasBatchNorm1d(KerasRunningVariance, nn.BatchNorm1d):
            pass


        class KerasBatchNorm2d(KerasRunningVariance, nn.BatchNorm2d):
            pass


        class PaddedConv2d(nn.Conv2d):
            """nn.Conv2d after zero padding `pad` = (left, right, top, bottom), as F.pad orders it:
            Keras's "same" at stride 2 pads one row fewer at the top than at the bottom."""

            def __init__(self, in_channels, out_channels, kernel_size, stride, pad, bias=True):
                super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=0, bias=bias)
                self.pad = tuple(pad)

            def forward(self, x):
                return super().forward(F.pad(x, self.pad))

            def extra_repr(self):
                return super().extra_repr() + f", pad={self.pad}"


        class CroppedConvTranspose2d(nn.ConvTranspose2d):
            """nn.ConvTranspose2d whose full output ((n − 1)·stride + kernel) loses `crop` = (left, right,
            top, bottom) rows and columns before the bias is added; a negative crop adds zeros that only
            the bias reaches. Keras's "same" gives n·stride: at stride 2 and kernel 5 it cuts 1 before and
            2 after, which nn.ConvTranspose2d's padding and output_padding cannot."""

            def __init__(self, in_channels, out_channels, kernel_size, stride, crop, bias=True):
                super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=0, bias=bias)
                self.crop = tuple(crop)

            def forward(self, x):
                y = F.conv_transpose2d(x, self.weight, None, self.stride)
                y = F.pad(y, tuple(-amount for amount in self.crop))
                return y if self.bias is None else y + self.bias.view(1, -1, 1, 1)

            def extra_repr(self):
                return super().extra_repr() + f", crop={self.crop}"


        \#(networks.map(\.source).joined(separator: "\n\n\n"))


        class Networks(nn.Module):
            """The lab's networks together; their state_dict is weights.safetensors'."""

            def __init__(self):
                super().__init__()
                self.generator = Generator()\#(discriminatorMember)

        """#
    }

    /// labfiles.py: safetensors and PNG files with torch alone (no `safetensors` or image package needed).
    static let labFiles = #"""
    """Reading and writing the lab's files with torch alone: safetensors (F32 and I64 tensors, as the
    lab writes them) and grey PNG grids whose pixels are the lab's."""
    import json
    import math
    import os
    import struct
    import zlib

    import torch

    DTYPES = {"F32": torch.float32, "I64": torch.int64}


    def load_tensors(path):
        """The tensors of a safetensors file by name, and its metadata."""
        with open(path, "rb") as file:
            data = file.read()
        (length,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8:8 + length])
        metadata = header.pop("__metadata__", {})
        tensors = {}
        for name, entry in header.items():
            begin, end = entry["data_offsets"]
            dtype = DTYPES[entry["dtype"]]
            raw = bytearray(data[8 + length + begin:8 + length + end])
            values = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
            tensors[name] = values.reshape(entry["shape"])
        return tensors, metadata


    def save_tensors(path, tensors, metadata=None):
        """Writes float32 and int64 tensors as safetensors, atomically (a temporary file, then a rename)."""
        header, chunks, offset = {}, [], 0
        if metadata:
            header["__metadata__"] = {key: str(value) for key, value in metadata.items()}
        for name, tensor in tensors.items():
            tensor = tensor.detach().to("cpu").contiguous()
            dtype = {torch.float32: "F32", torch.int64: "I64"}[tensor.dtype]
            raw = tensor.numpy().tobytes()
            header[name] = {"dtype": dtype, "shape": list(tensor.shape), "data_offsets": [offset, offset + len(raw)]}
            chunks.append(raw)
            offset += len(raw)
        text = json.dumps(header, sort_keys=True).encode()
        text += b" " * (-(8 + len(text)) % 8)
        temporary = path + ".partial"
        with open(temporary, "wb") as file:
            file.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))
        os.replace(temporary, path)


    def pixel_bytes(images):
        """Images in [-1, 1], [N, C, H, W], as the lab's 8-bit pixels: round((x + 1)·127.5), halves
        away from zero, clamped to 0…255 (not-a-number: 0)."""
        values = (images.detach().to("cpu", torch.float32) + 1) * 127.5
        values = torch.where(torch.isfinite(values), values, torch.zeros_like(values)).double()
        rounded = torch.where(values >= 0, torch.floor(values + 0.5), torch.ceil(values - 0.5))
        return rounded.clamp(0, 255).to(torch.uint8)


    def write_grid(path, images, columns=None, gap=2, scale=4):
        """Grey or colour images [N, C, H, W] in [-1, 1] as one PNG: ⌈√N⌉ to a row (as `gan-lab sample`
        lays out its grid), `gap` pixels apart on grey, each pixel drawn `scale` times larger."""
        count, channels, height, width = images.shape
        columns = columns or math.ceil(math.sqrt(count))
        rows = math.ceil(count / columns)
        pixels = pixel_bytes(images)
        canvas = torch.full((channels, rows * (height + gap) + gap, columns * (width + gap) + gap), 128, dtype=torch.uint8)
        for index in range(count):
            top, left = gap + (index // columns) * (height + gap), gap + (index % columns) * (width + gap)
            canvas[:, top:top + height, left:left + width] = pixels[index]
        canvas = canvas.repeat_interleave(scale, dim=1).repeat_interleave(scale, dim=2)
        write_png(path, canvas)


    def write_png(path, canvas):
        """An 8-bit grey (1 channel) or RGB (3 channels) PNG of a [C, H, W] uint8 tensor, atomically."""
        channels, height, width = canvas.shape
        rows = canvas.permute(1, 2, 0).reshape(height, width * channels).numpy()
        raw = b"".join(b"\x00" + row.tobytes() for row in rows)

        def chunk(kind, body):
            return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

        colour = {1: 0, 3: 2}[channels]
        png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0))
               + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
        temporary = path + ".partial"
        with open(temporary, "wb") as file:
            file.write(png)
        os.replace(temporary, path)

    """#

    /// sample.py: the generator's images (or points: `output` "samples") of the lab's noise, D's
    /// logits of them, and how far both are from the lab's own numbers.
    static func sample(hasDiscriminator: Bool, output: String = "images") -> String {
        let images = output == "images"
        let discriminatorPart = hasDiscriminator ? #"""
                logits = networks.discriminator(labelled(samples, labels_of_noise(noise.to(args.device))))
                outputs["logits"] = logits.cpu()
                if lab is not None:
                    on_lab_samples = networks.discriminator(labelled(lab[OUTPUT].to(args.device), labels_of_noise(noise.to(args.device)))).cpu()
                    outputs["logits_of_lab_\#(output)"] = on_lab_samples
        """# : ""
        let discriminatorReport = hasDiscriminator ? #"""
            if lab is not None:
                difference = (outputs["logits_of_lab_\#(output)"] - lab["logits"]).abs().max().item()
                print(f"  discriminator: max |PyTorch − lab| {difference:.3g} over the logits of the lab's \#(output)")
        """# : ""
        let written = images
            ? "samples.png (the images in a grid) and samples.safetensors (\"images\" [N, C, H, W] in\n[-1, 1]"
            : "samples.csv (one sample a row) and samples.safetensors (\"samples\" [N, …]"
        let picture = images
            ? #"write_grid(os.path.join(args.out, "samples.png"), outputs[OUTPUT])"#
            : #"write_csv(os.path.join(args.out, "samples.csv"), outputs[OUTPUT])"#
        let pictureName = images ? "samples.png" : "samples.csv"
        let writeCSV = images ? "" : #"""


        def write_csv(path, samples):
            """One sample a row, its values comma-separated, as the lab's points files."""
            with open(path, "w") as file:
                for row in samples.reshape(len(samples), -1).tolist():
                    file.write(",".join(repr(value) for value in row) + "\n")
        """#
        return #"""
        """\#(images ? "Images" : "Samples") from the exported generator, made from the lab's own noise (noise.safetensors), in
        inference mode as `gan-lab sample` makes them:

            python sample.py [--device cuda] [--noise noise.safetensors] [--out .]

        writes \#(written)\#(hasDiscriminator ? ", and \"logits\", the discriminator's logits of them" : "")), and, when the noise is the one
        exported beside lab-samples.safetensors, prints how far they are from the lab's numbers."""
        import argparse
        import os

        import torch

        from labfiles import load_tensors, save_tensors\#(images ? ", write_grid" : "")
        from models import Networks, labelled, labels_of_noise

        HERE = os.path.dirname(os.path.abspath(__file__))
        OUTPUT = "\#(output)"\#(writeCSV)


        def main():
            parser = argparse.ArgumentParser(description="\#(images ? "Images" : "Samples") from the exported generator and the lab's noise.")
            parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, mps … (default: cpu)")
            parser.add_argument("--weights", default=os.path.join(HERE, "weights.safetensors"))
            parser.add_argument("--noise", default=os.path.join(HERE, "noise.safetensors"), help="safetensors with \"noise\" [N, latent size]")
            parser.add_argument("--out", default=HERE, help="folder for \#(pictureName) and samples.safetensors (default: this one)")
            args = parser.parse_args()

            networks = Networks()
            networks.load_state_dict(load_tensors(args.weights)[0], strict=True)
            networks.to(args.device).eval()  # inference mode: BatchNorm's running statistics, no dropout
            noise = load_tensors(args.noise)[0]["noise"]
            lab_path = os.path.join(HERE, "lab-samples.safetensors")
            same_noise = os.path.abspath(args.noise) == os.path.join(HERE, "noise.safetensors")
            lab = load_tensors(lab_path)[0] if same_noise and os.path.exists(lab_path) else None

            with torch.no_grad():
                samples = networks.generator(noise.to(args.device))
                outputs = {OUTPUT: samples.cpu()}
        \#(discriminatorPart)
            os.makedirs(args.out, exist_ok=True)
            save_tensors(os.path.join(args.out, "samples.safetensors"), outputs)
            \#(picture)
            print(f"{len(noise)} \#(output) from {args.noise}: {os.path.join(args.out, '\#(pictureName)')}, {os.path.join(args.out, 'samples.safetensors')}")
            if lab is not None:
                difference = (outputs[OUTPUT] - lab[OUTPUT]).abs().max().item()
                print(f"  generator: max |PyTorch − lab| {difference:.3g} over the \#(images ? "images' values in [-1, 1]" : "samples' values")")
        \#(discriminatorReport)

        if __name__ == "__main__":
            main()

        """#
    }
}
