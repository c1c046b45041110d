import ArgumentParser
import Foundation
import Lessons

/// `gan-lab sample`: images from a trained generator, as files to look at, score and reproduce.
struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Make images with a trained generator: a grid, one PNG each, an IDX file and the noise.",
        discussion: "Writes into the folder (created if missing): grid.png (all the images, or the first 64), images/00000.png … "
            + "(one PNG each: grey 28×28, or colour 64×64 for shapes), samples-idx3-ubyte (samples-idx4-ubyte for colour; for "
            + "`gan-lab score`) and noise.safetensors (the noise that made "
            + "them). The same checkpoint and seed give byte-identical files.")

    @Option(name: .long, help: ArgumentHelp("The generator: a generator.safetensors a train-images stage wrote.", valueName: "file"))
    var checkpoint: String

    @Option(name: .customLong("n"), help: ArgumentHelp("How many images (1 to 100000).", valueName: "n"))
    var count = 64

    @Option(name: .long, help: ArgumentHelp("Seed of the noise.", valueName: "n"))
    var seed: UInt64 = 1

    @Option(name: .long, help: ArgumentHelp("Folder to write into (created if missing).", valueName: "folder"))
    var out: String

    @Option(name: .long, help: ArgumentHelp("Threads for the generator (the files do not depend on it).", valueName: "n"))
    var threads = 2

    @Option(name: .customLong("class"), help: ArgumentHelp(
        "A conditional generator: the class to ask for (0 to 9). Without it, a conditional generator is asked for every class in turn.",
        valueName: "k"))
    var label: Int?

    func run() throws {
        guard (1...64).contains(threads) else { throw LessonError(["--threads \(threads): choose 1 to 64"]) }
        var request = SampleRequest(checkpoint: checkpoint, count: count, seed: seed, folder: out)
        request.threads = threads
        request.label = label
        let result = try sampleImages(request) { line in FileHandle.standardError.write(Data(("  " + line + "\n").utf8)) }
        for line in result.lines(folder: out, seed: seed) { print(line) }
    }
}
