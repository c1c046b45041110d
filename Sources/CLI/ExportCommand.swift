import ArgumentParser
import Foundation
import Lessons

/// `gan-lab export --pytorch`: a checkpoint's networks, weights and noise as a folder PyTorch runs.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Hand a checkpoint's networks, weights and optimiser state to PyTorch.",
        discussion: "Writes into the folder (created if missing): models.py (the networks as nn.Module classes, "
            + "state_dict names as the lab's), weights.safetensors (load_state_dict(strict=True)), noise.safetensors and "
            + "lab-samples.safetensors (noise and the lab's images of it), sample.py (makes the images again in PyTorch and prints "
            + "how far they are from the lab's), labfiles.py and README.md; from a training checkpoint also optimizer.safetensors "
            + "and train.py (continues the training with the stage's recipe, under torchrun too).")

    @Flag(name: .long, help: "Write PyTorch code and files (the only format so far).")
    var pytorch = false

    @Option(name: .long, help: ArgumentHelp("A training.safetensors (both networks) or generator.safetensors (the generator) a train-images stage wrote.",
                                            valueName: "file"))
    var checkpoint: String

    @Option(name: .long, help: ArgumentHelp("Folder to write into (created if missing).", valueName: "folder"))
    var out: String

    @Option(name: .customLong("n"), help: ArgumentHelp("How many noise vectors to export with the lab's images of them (1 to 1000).", valueName: "n"))
    var count = 64

    @Option(name: .long, help: ArgumentHelp("Seed of the noise (as gan-lab sample --seed).", valueName: "n"))
    var seed: UInt64 = 1

    func run() throws {
        guard pytorch else { throw LessonError(["say what to export to: --pytorch (the only format so far)"]) }
        var request = PyTorchExportRequest(checkpoint: checkpoint, folder: out)
        (request.count, request.seed) = (count, seed)
        let result = try exportToPyTorch(request)
        for line in result.lines(folder: out) { print(line) }
    }
}
