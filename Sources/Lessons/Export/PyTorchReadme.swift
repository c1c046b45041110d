import Foundation
import Data
import GAN

extension PyTorchFiles {
    /// README.md: what each file is and how to run it.
    static func readme(source: ExportSource, count: Int, seed: UInt64) -> String {
        let both = source.discriminator != nil, output = source.outputName, classes = source.classes
        let conditional = classes == 0 ? "" : """

        A conditional GAN: the generator reads \(source.generator.inputSize - classes) noise numbers and then a one-hot label of
        \(classes) classes (`sample_noise(n, one_hot=…)`; `noise.safetensors` asks for every class in turn,
        0, 1, …)\(both ? ", and the discriminator reads the label as \(classes) constant channels after the image's (`labelled(images, one_hot)` in models.py)" : "").
        """
        let use = classes == 0 ? "images = networks.generator(sample_noise(16))" : """
        labels = torch.arange(16) % CLASSES   # the classes asked for
        images = networks.generator(sample_noise(16, one_hot=torch.nn.functional.one_hot(labels, CLASSES).float()))
        """
        // The data files written beside train.py: a user's points, or the lab's shapes.
        let dataRows = source.userPointsPath.map { """
        | `\(ExportSource.pointsFile)` | the stage's points (`\($0)`), one x,y a row: train.py's data |

        """ } ?? (source.set != .shapes ? "" : """
        | `\(ExportSource.shapesFiles.images)` | the lab's 5,000 shapes (64×64 RGB, drawn from their fixed seed), IDX as MNIST's with a fourth dimension of 3: train.py's data |
        | `\(ExportSource.shapesFiles.labels)` | their classes (\(ShapesSet.classNames.joined(separator: ", "))) |

        """)
        let optimizer = !source.writesTraining ? "" : source.untrained ? """
        | `optimizer.safetensors` | the stage's settings in its metadata (`settings`), and no optimiser state yet: train.py starts fresh optimisers at step 0 |
        | `train.py` | trains the networks from scratch with the stage's recipe, read from those settings |
        \(dataRows)
        """ : """
        | `optimizer.safetensors` | both optimisers' state under the lab's names (`generator_optimizer.generator.0.weight.exp_avg`, …, `generator_optimizer.step`); the stage's settings in its metadata (`settings`) |
        | `train.py` | continues the training with the stage's recipe, read from those settings |
        \(dataRows)
        """
        let trainRun = !source.writesTraining ? "" : """
        To \(source.untrained ? "train the networks from scratch" : "continue the training") (the top of train.py says what it follows and every option):

            python train.py --steps 1000 --out run                        # CPU, or --device cuda
            torchrun --nproc_per_node=2 train.py --steps 1000 --out run   # several processes (GPUs, or CPUs with gloo)
            \(source.isOnPoints ? "python train.py --steps 1000 --from run --out run2           # on from run's weights and optimisers" : "gan-lab sample --checkpoint run/generator.safetensors --out run/lab-samples   # back in the lab")


        """
        let optimizerNote = !source.writesTraining ? "" : """

        ## The optimisers
        `optimizer.safetensors` holds, for each network's optimiser, its per-parameter state under
        PyTorch's state names (Adam: `exp_avg`, `exp_avg_sq`; RMSProp: `square_avg`; SGD:
        `momentum_buffer`) and its step count (none yet for a stage exported before training: train.py
        then starts fresh optimisers at step 0), and the stage's settings as JSON in the metadata
        (`optimizer`, `learning-rate`, `beta1`, `beta2`, `epsilon`, `optimizer-convention`, `batch-size`, …).
        With `optimizer-convention: keras` (the lab's default) Adam adds ε to √v before the bias
        correction, PyTorch's `torch.optim.Adam` after it: the two agree only when PyTorch's ε is the
        lab's divided by √(1 − β2ᵗ), a number that changes every step. train.py therefore brings its own
        `KerasAdam` (and, for RMSProp, `RootEpsilonRMSprop`, ε inside the root as Keras has it) and uses
        PyTorch's own optimisers where the stage asked for `optimizer-convention: pytorch`.

        """
        return """
        # \(source.untrained ? "A gan-lab stage's networks, before training," : "A gan-lab checkpoint") in PyTorch

        Exported by `gan-lab export --pytorch` from \(source.summary).

        - generator: `\(source.generator.description)`\(source.discriminator.map { "\n- discriminator: `\($0.description)`" } ?? "")\(conditional)

        | file | what it is |
        |---|---|
        | `models.py` | `Generator`\(both ? " and `Discriminator`" : ""): `nn.Sequential` class\(both ? "es" : "") written from the lab's network text, module i = the lab's layer i; `Networks` holds them as `generator`\(both ? " and `discriminator`" : ""); `sample_noise` draws the lab's noise (\(GeneratorCheckpoint.text(of: source.noise))) |
        | `weights.safetensors` | every parameter and buffer under its state_dict name (`generator.0.weight`, `generator.1.running_mean`, `generator.1.num_batches_tracked`, …) |
        \(optimizer)| `noise.safetensors` | \(count) noise vectors (`noise`), drawn as `gan-lab sample --seed \(seed) --n \(count)` draws them |
        | `lab-samples.safetensors` | the lab's \(output) of that noise (`\(output)`, inference mode)\(both ? " and its discriminator's logits of them (`logits`)" : "") |
        | `sample.py` | makes the \(output) again in PyTorch and says how far they are from the lab's |
        | `labfiles.py` | reads and writes safetensors and PNG files with torch alone |

        ## Run it
        Python 3 with `torch` (and `numpy`, which torch uses to write files):

            python sample.py                 # \(output == "images" ? "samples.png" : "samples.csv"), samples.safetensors, and the differences from the lab
            python sample.py --device cuda   # the same on a GPU

        \(trainRun)\(output == "images" ? "`samples.png` shows the images in rows of ⌈√n⌉, each pixel round((x + 1)·127.5) as the lab\nwrites it. " : "`samples.csv` has one sample a row. ")The differences printed are the largest over all values; the lab and PyTorch sum
        in other orders, so expect about 1e-6, not 0.

        ## Use the networks
        ```python
        from labfiles import load_tensors
        import torch
        from models import CLASSES, Networks, sample_noise

        networks = Networks()
        networks.load_state_dict(load_tensors("weights.safetensors")[0], strict=True)
        networks.eval()                       # inference mode, as the lab's samples
        \(use)
        ```
        `safetensors.torch.load_file("weights.safetensors")` reads the same file.

        ## What changed on the way
        The lab writes its networks in Keras's conventions; `models.py` writes them in PyTorch's.
        Keras's "same" padding puts the odd extra row and column at the bottom and right, which
        `nn.Conv2d`'s symmetric padding cannot: such a convolution is a `PaddedConv2d` with its pads
        written out, and a transposed one a `CroppedConvTranspose2d` cropped as Keras crops it.
        BatchNorm's momentum is PyTorch's (1 − Keras's: 0.99 becomes 0.01) with the same ε, and
        `KerasBatchNorm1d`/`2d` feed the running variance the batch variance over n as Keras does
        (PyTorch's own layers divide by n − 1). Dropout draws other masks than the lab: training
        continues the lab's recipe, not its exact numbers.
        \(optimizerNote)
        """
    }
}
