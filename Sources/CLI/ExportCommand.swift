import ArgumentParser
import Foundation
import Lessons

/// `gan-lab export --pytorch`: a checkpoint's networks, or a lesson stage's before training, with
/// weights and noise, as a folder PyTorch runs.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Hand a checkpoint's or a lesson stage's networks, weights and optimiser state to PyTorch.",
        discussion: "Exports either a checkpoint (--checkpoint F) or a lesson stage's GAN before training (a train, train-images or collapse stage; "
            + "LESSON --stage ID: the networks `gan-lab lesson LESSON --stage ID` starts from, --seed and --set as there). "
            + "Writes into the folder (created if missing): models.py (the networks as nn.Module classes, "
            + "state_dict names as the lab's), weights.safetensors (load_state_dict(strict=True)), noise.safetensors and "
            + "lab-samples.safetensors (noise and the lab's images or points of it), sample.py (makes them again in PyTorch and prints "
            + "how far they are from the lab's), labfiles.py and README.md; with a stage's settings also optimizer.safetensors "
            + "and train.py (continues a checkpoint's training with the stage's recipe, or starts a stage's from step 0 with fresh "
            + "optimisers; under torchrun too; a toy stage's points and lesson 4's mixtures it draws itself).")

    @Flag(name: .long, help: "Write PyTorch code and files (the only format so far).")
    var pytorch = false

    @Argument(help: ArgumentHelp("A lesson number or the path of a lesson file, with --stage: that stage's networks before training.",
                                 valueName: "lesson"))
    var lesson: String?

    @Option(name: .long, help: ArgumentHelp("The stage of LESSON to export (number or id).", valueName: "stage"))
    var stage: String?

    @Option(name: .long, help: ArgumentHelp("A training.safetensors (both networks) or generator.safetensors (the generator) a train-images stage wrote.",
                                            valueName: "file"))
    var checkpoint: String?

    @Option(name: .long, help: ArgumentHelp("Folder to write into (created if missing).", valueName: "folder"))
    var out: String

    @Option(name: .customLong("set"), help: ArgumentHelp("With LESSON: change a setting, key=value (every stage) or stage.key=value.",
                                                         valueName: "setting"))
    var overrides: [String] = []

    @Option(name: .customLong("n"), help: ArgumentHelp("How many noise vectors to export with the lab's images of them (1 to 1000).", valueName: "n"))
    var count = 64

    @Option(name: .long, help: ArgumentHelp("With --checkpoint: seed of the noise (as gan-lab sample --seed; default 1). With LESSON: "
                                            + "the lesson's seed (default its own), for the networks and the noise.", valueName: "n"))
    var seed: UInt64?

    func run() throws {
        guard pytorch else { throw LessonError(["say what to export to: --pytorch (the only format so far)"]) }
        var request = PyTorchExportRequest(folder: out)
        request.checkpoint = checkpoint
        // A lesson is looked up only when it is the one source (otherwise the library says what is wrong).
        request.lesson = checkpoint != nil || stage == nil ? lesson
            : try lesson.map { try Int($0).map { try LessonCatalog.locate().path(ofLesson: $0) } ?? lessonFilePath($0) }
        (request.stage, request.overrides, request.count, request.seed) = (stage, overrides, count, seed)
        let result = try exportToPyTorch(request)
        for line in result.lines(folder: out) { print(line) }
    }
}
