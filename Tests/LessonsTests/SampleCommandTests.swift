import Autodiff
import Charts
@testable import CLI
import Data
import Evaluation
import Foundation
import GAN
import Kernels
@testable import Lessons
import NN
import XCTest

/// `gan-lab sample` on a tiny generator the tests save themselves.
final class SampleCommandTests: XCTestCase {
    private let architecture = "4 -> 16 relu -> 784 tanh -> reshape 1x28x28"

    /// A generator checkpoint as `train-images` writes one, of a small untrained network.
    private func checkpoint(in folder: String, architecture text: String? = nil, noise: NoiseDistribution = .uniform(low: -1, high: 1)) throws -> String {
        var random = RandomSource(seed: 11)
        let network = try Architecture(parsing: text ?? architecture).build(using: &random)
        let path = folder + "/generator.safetensors"
        try GeneratorCheckpoint(set: .mnist, architecture: text ?? architecture, noise: noise).save(network, to: path)
        return path
    }

    private func sample(_ checkpoint: String, count: Int, seed: UInt64, out: String, threads: Int = 2) throws -> SampleResult {
        var request = SampleRequest(checkpoint: checkpoint, count: count, seed: seed, folder: out)
        request.threads = threads
        return try sampleImages(request)
    }

    /// Every file below `folder`, by relative path, with its bytes.
    private func contents(_ folder: String) throws -> [String: Data] {
        var result: [String: Data] = [:]
        for name in try XCTUnwrap(FileManager.default.subpathsOfDirectory(atPath: folder)) {
            var isFolder: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: folder + "/" + name, isDirectory: &isFolder)
            if !isFolder.boolValue { result[name] = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)) }
        }
        return result
    }

    func testSampleWritesAGridOnePNGEachAnIDXFileAndTheNoise() throws {
        let folder = temporaryFolder()
        let path = try checkpoint(in: folder)
        let out = folder + "/new/samples"  // created, with its parent
        let result = try sample(path, count: 10, seed: 3, out: out)
        XCTAssertEqual(result.set, .mnist)
        XCTAssertEqual(result.gridCount, 10)
        let files = try contents(out)
        XCTAssertEqual(Set(files.keys), Set(["grid.png", "samples-idx3-ubyte", "noise.safetensors"] + (0..<10).map { String(format: "images/%05d.png", $0) }))
        XCTAssertEqual(Set(result.files), Set(files.keys))

        // The noise: [10, 4] from the checkpoint's distribution and the seed, with what made it.
        let noiseFile = try SafeTensors(data: try XCTUnwrap(files["noise.safetensors"]))
        let noise = try XCTUnwrap(noiseFile["noise"])
        XCTAssertEqual(noise.shape, [10, 4])
        XCTAssertTrue(noise.scalars.allSatisfy { (-1..<1).contains($0) })
        XCTAssertEqual(noiseFile.metadata["seed"], "3")
        XCTAssertEqual(noiseFile.metadata["noise"], "uniform -1.0 1.0")
        XCTAssertEqual(noiseFile.metadata["data"], "mnist")
        XCTAssertEqual(noiseFile.metadata["generator"], architecture)
        let generator = try TrainedGenerator(path: path)
        XCTAssertEqual(noise.scalars, generator.noise(count: 10, seed: 3).scalars)

        // The IDX file reads back as the generator's images of that noise, to within half a grey step.
        let made = generator.images(from: noise)
        XCTAssertEqual(made.shape, [10, 1, 28, 28])
        let read = try ImageSource.idx(images: out + "/samples-idx3-ubyte", labels: nil).load()
        XCTAssertEqual(read.images.shape, [10, 1, 28, 28])
        XCTAssertNil(read.labels)
        for (value, back) in zip(made.scalars, read.images.scalars) { XCTAssertEqual(value, back, accuracy: 0.5 / 127.5 + 1e-6) }
        XCTAssertEqual(Array(files["samples-idx3-ubyte"]!.prefix(16)), [0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 28, 0, 0, 0, 28])
        // Bytes → values → bytes is exact, so the IDX file can be written again from what was read.
        XCTAssertEqual(read.pixelBytes(), Array(files["samples-idx3-ubyte"]!.dropFirst(16)))

        // Each PNG: grey (colour type 0), 8 bits, 28×28, the same bytes as the IDX file's image.
        for index in [0, 9] {
            let png = try XCTUnwrap(files[String(format: "images/%05d.png", index)])
            XCTAssertEqual(Array(png[16..<26]), [0, 0, 0, 28, 0, 0, 0, 28, 8, 0])
        }
        let pngs = try ImageSource.pngFolder(out + "/images", size: 28).load()
        XCTAssertEqual(pngs.channels, 1)
        XCTAssertEqual(pngs.pixelBytes(), read.pixelBytes())

        // The grid is the lab's chart: an RGB PNG of the default figure size.
        let grid = try XCTUnwrap(files["grid.png"])
        XCTAssertEqual(Array(grid[16..<26]), [0, 0, 6, 64, 0, 0, 4, 176, 8, 2])
        let lines = result.lines(folder: out, seed: 3)
        XCTAssertEqual(lines.first, "gan-lab · 10 mnist images from noise seed 3")
        XCTAssertTrue(lines.contains { $0.contains("images/00000.png … 00009.png") }, "\(lines)")
        XCTAssertTrue(lines.contains { $0.contains("gan-lab score --data mnist \(out)/samples-idx3-ubyte") }, "\(lines)")
        XCTAssertTrue(lines.contains { $0.contains("[10, 4]") }, "\(lines)")
        // No temporary file is left beside the ones written.
        XCTAssertFalse(try FileManager.default.subpathsOfDirectory(atPath: out).contains { $0.contains("partial") || $0.hasPrefix(".") || $0.contains("/.") })
    }

    func testTheSameCheckpointAndSeedGiveByteIdenticalFiles() throws {
        let folder = temporaryFolder()
        let path = try checkpoint(in: folder)
        _ = try sample(path, count: 12, seed: 3, out: folder + "/first")
        _ = try sample(path, count: 12, seed: 3, out: folder + "/again", threads: 1)  // on one thread: the same bytes
        let first = try contents(folder + "/first"), again = try contents(folder + "/again")
        XCTAssertEqual(first.count, 15)
        XCTAssertEqual(first, again)
        // A copy of the checkpoint elsewhere makes the same files: nothing depends on the path.
        try FileManager.default.createDirectory(atPath: folder + "/copy", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: path, toPath: folder + "/copy/g.safetensors")
        _ = try sample(folder + "/copy/g.safetensors", count: 12, seed: 3, out: folder + "/copied")
        XCTAssertEqual(try contents(folder + "/copied"), first)
        // Another seed, other noise and other images.
        _ = try sample(path, count: 12, seed: 4, out: folder + "/other")
        let other = try contents(folder + "/other")
        XCTAssertNotEqual(other["noise.safetensors"], first["noise.safetensors"])
        XCTAssertNotEqual(other["samples-idx3-ubyte"], first["samples-idx3-ubyte"])
    }

    func testTheGridShowsTheFirst64AndARerunLeavesOnlyItsOwnImages() throws {
        let folder = temporaryFolder()
        let path = try checkpoint(in: folder, noise: .normal)
        let out = folder + "/out"
        let many = try sample(path, count: 70, seed: 1, out: out)
        XCTAssertEqual(many.gridCount, 64)
        XCTAssertTrue(many.lines(folder: out, seed: 1).contains { $0.hasSuffix("grid.png: the first 64") })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out + "/images").count, 70)

        // A smaller run into the same folder: its 5 images only (a user's own file is left alone).
        try Data("notes".utf8).write(to: URL(fileURLWithPath: out + "/images/notes.txt"))
        let few = try sample(path, count: 5, seed: 1, out: out)
        XCTAssertEqual(few.gridCount, 5)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out + "/images").sorted(),
                       (0..<5).map { String(format: "%05d.png", $0) } + ["notes.txt"])
        XCTAssertEqual(try ImageSource.idx(images: out + "/samples-idx3-ubyte", labels: nil).load().count, 5)
        // Normal noise is unbounded: its first values are as `NoiseDistribution.normal` draws them.
        var random = RandomSource(seed: 1)
        let expected = NoiseDistribution.normal.sample(count: 5, size: 4, using: &random)
        XCTAssertEqual(try SafeTensors(contentsOf: URL(fileURLWithPath: out + "/noise.safetensors"))["noise"]?.scalars, expected.scalars)
    }

    /// `gan-lab score` reads the IDX file `sample` wrote.
    func testScoreReadsTheSamples() throws {
        let folder = temporaryFolder()
        _ = try sample(try checkpoint(in: folder), count: 20, seed: 2, out: folder + "/out")
        let scored = try scoreImages(ScoreRequest(set: .mnist, path: folder + "/out/samples-idx3-ubyte")) { _ in }
        XCTAssertEqual(scored.scores.count, 20)
        XCTAssertGreaterThan(scored.scores.frechetFeatures, scored.ceiling.frechetFeatures)  // an untrained generator
        // The folder of PNGs is the same images, so the same scores.
        let fromPNGs = try scoreImages(ScoreRequest(set: .mnist, path: folder + "/out/images")) { _ in }
        XCTAssertEqual(fromPNGs.scores.frechetFeatures, scored.scores.frechetFeatures)
    }

    /// Score's noise is what it always was: drawn where rebuilding the network left the stream.
    func testScoreKeepsItsFixedNoise() throws {
        let folder = temporaryFolder()
        let path = try checkpoint(in: folder)
        var random = RandomSource(seed: 0x7363_6f72_65)
        let network = try Architecture(parsing: architecture).build(using: &random)
        try Checkpoint(model: network).load(from: URL(fileURLWithPath: path))
        network.isTraining = false
        let noise = NoiseDistribution.uniform(low: -1, high: 1).sample(count: 30, size: 4, using: &random)
        let expected = withoutGradientsValue(network, noise)
        let images = try GeneratorCheckpoint.generate(from: path, set: .mnist, count: 30)
        XCTAssertEqual(images.images.scalars, expected.scalars)
        // Made a batch at a time, the images are the same as all at once.
        let generator = try TrainedGenerator(path: path)
        let many = generator.noise(count: 2 * TrainedGenerator.batchSize + 7, seed: 5)
        XCTAssertEqual(generator.images(from: many).scalars, withoutGradientsValue(generator.network, many).scalars)
    }

    func testBadInputGetsOneClearLineAndWritesNothing() throws {
        let folder = temporaryFolder()
        let good = try checkpoint(in: folder)
        let out = folder + "/out"
        func problem(_ checkpoint: String, count: Int = 4, out: String = out, file: StaticString = #filePath, line: UInt = #line) -> String {
            refusal(file: file, line: line) { _ = try sample(checkpoint, count: count, seed: 1, out: out) }
        }
        func write(_ bytes: Data, _ name: String) throws -> String {
            let path = folder + "/" + name
            try bytes.write(to: URL(fileURLWithPath: path))
            return path
        }
        let checkpointBytes = try Data(contentsOf: URL(fileURLWithPath: good))
        var cases: [(String, String)] = [
            (problem(folder + "/nowhere.safetensors"), "nowhere.safetensors: no such checkpoint"),
            (problem(folder), "is a folder; give the generator.safetensors file"),
            (problem(try write(Data(), "empty.safetensors")), "empty.safetensors: not a checkpoint the lab can read: the file is empty"),
            (problem(try write(Data("a lesson, not weights\n".utf8), "text.safetensors")), "text.safetensors: not a checkpoint the lab can read: not a safetensors file"),
            (problem(try write(Data((0..<4000).map { UInt8(truncatingIfNeeded: $0 &* 7919 >> 3) }), "random.bin")), "random.bin: not a checkpoint the lab can read: not a safetensors file"),
        ]
        // Cut anywhere: in the length, in the header, in the weights.
        for length in [1, 7, 8, 9, 50, 200, checkpointBytes.count / 2, checkpointBytes.count - 1] {
            let message = problem(try write(checkpointBytes.prefix(length), "cut-\(length).safetensors"))
            cases.append((message, "cut-\(length).safetensors: not a checkpoint the lab can read: it is truncated"))
        }
        // A discriminator's weights; a lab generator of points; weights that do not fit the network the metadata names.
        var random = RandomSource(seed: 2)
        let discriminator = try Architecture(parsing: "1x28x28 -> flatten -> 16 leaky -> 1").build(using: &random)
        try Checkpoint(model: discriminator).save(to: URL(fileURLWithPath: folder + "/discriminator.safetensors"))
        cases.append((problem(folder + "/discriminator.safetensors"), "discriminator.safetensors: a safetensors file but not a generator checkpoint of the lab's"))
        try FileManager.default.createDirectory(atPath: folder + "/points", withIntermediateDirectories: true)
        let points = try checkpoint(in: folder + "/points", architecture: "4 -> 16 relu -> 2 tanh")
        cases.append((problem(points), "cannot be rebuilt as an image generator: it makes 2 numbers from 4 numbers, not grey 28×28 images"))
        var mismatched = try SafeTensors(contentsOf: URL(fileURLWithPath: good))
        mismatched.metadata["generator"] = "4 -> 32 relu -> 784 tanh -> reshape 1x28x28"
        let mismatchedPath = try write(mismatched.encoded(), "mismatched.safetensors")
        cases.append((problem(mismatchedPath), "mismatched.safetensors: the generator it describes cannot be rebuilt (checkpoint does not match the model"))
        var unknownSet = try SafeTensors(contentsOf: URL(fileURLWithPath: good))
        unknownSet.metadata["data"] = "cifar-10"
        cases.append((problem(try write(unknownSet.encoded(), "cifar.safetensors")), "a generator of \"cifar-10\" images, a data set the lab does not know"))
        // How many.
        cases.append((problem(good, count: 0), "--n 0: choose 1 to 100000 images"))
        cases.append((problem(good, count: 100_001), "--n 100001: choose 1 to 100000 images"))
        for (message, expected) in cases { XCTAssertTrue(message.contains(expected), "\(message)\n  expected: \(expected)") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing written for bad input")

        // Where to: a file, a folder under a file, a folder whose `images` is a file.
        let file = try write(Data("x".utf8), "a-file")
        XCTAssertTrue(problem(good, out: file).contains("a-file is a file, not a folder; move it or give another folder with --out"))
        XCTAssertTrue(problem(good, out: file + "/sub").contains("cannot create the folder \(file)/sub (Not a directory); choose another with --out"))
        try FileManager.default.createDirectory(atPath: folder + "/taken", withIntermediateDirectories: true)
        _ = try write(Data("x".utf8), "taken/images")
        XCTAssertTrue(problem(good, out: folder + "/taken").contains("taken/images is a file, not a folder"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder + "/taken"), ["images"])
        if geteuid() != 0 {  // permissions do not stop root
            try FileManager.default.createDirectory(atPath: folder + "/locked", withIntermediateDirectories: true)
            chmod(folder + "/locked", 0o555)
            defer { chmod(folder + "/locked", 0o755) }
            XCTAssertTrue(problem(good, out: folder + "/locked").contains("is not writable; choose another with --out"))
            XCTAssertTrue(problem(good, out: folder + "/locked/new").contains("cannot create the folder \(folder)/locked/new (Permission denied)"))
        }
    }

    /// The command line: options parsed, files written, bad input one `LessonError` line (which
    /// `main` prints after "gan-lab: " with exit status 1).
    func testSampleCommand() throws {
        let folder = temporaryFolder()
        let path = try checkpoint(in: folder)
        let command = try XCTUnwrap(GanLab.parseAsRoot(["sample", "--checkpoint", path, "--n", "16", "--seed", "3", "--out", folder + "/out"]) as? Sample)
        XCTAssertEqual(command.count, 16)
        XCTAssertEqual(command.seed, 3)
        try command.run()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder + "/out/images").count, 16)
        let defaults = try XCTUnwrap(GanLab.parseAsRoot(["sample", "--checkpoint", path, "--out", folder + "/defaults"]) as? Sample)
        XCTAssertEqual(defaults.count, 64)
        XCTAssertEqual(defaults.seed, 1)
        XCTAssertThrowsError(try GanLab.parseAsRoot(["sample", "--checkpoint", path]))  // --out is required
        XCTAssertThrowsError(try GanLab.parseAsRoot(["sample", "--checkpoint", path, "--out", folder, "--seed", "-1"]))
        for (arguments, message) in [
            (["--checkpoint", folder + "/none.safetensors"], "\(folder)/none.safetensors: no such checkpoint"),
            (["--checkpoint", path, "--n", "0"], "--n 0: choose 1 to 100000 images"),
            (["--checkpoint", path, "--threads", "0"], "--threads 0: choose 1 to 64"),
        ] {
            let command = try XCTUnwrap(GanLab.parseAsRoot(["sample"] + arguments + ["--out", folder + "/bad"]) as? Sample)
            XCTAssertThrowsError(try command.run()) { error in
                XCTAssertEqual((error as? LessonError)?.problems.count, 1)
                XCTAssertTrue((error as? LessonError)?.problems.first?.hasPrefix(message) ?? false, "\(error)")
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/bad"))
    }

    func testHelpOfSample() {
        XCTAssertEqual(GanLab.helpMessage(for: Sample.self, columns: 80), #"""
OVERVIEW: Make images with a trained generator: a grid, one PNG each, an IDX
file and the noise.

Writes into the folder (created if missing): grid.png (all the images, or the
first 64), images/00000.png … (one PNG each: grey 28×28, or colour 64×64 for
shapes), samples-idx3-ubyte (samples-idx4-ubyte for colour; for `gan-lab
score`) and noise.safetensors (the noise that made them). The same checkpoint
and seed give byte-identical files.

USAGE: gan-lab sample --checkpoint <file> [--n <n>] [--seed <n>] --out <folder> [--threads <n>] [--class <k>]

OPTIONS:
  --checkpoint <file>     The generator: a generator.safetensors a train-images
                          stage wrote.
  --n <n>                 How many images (1 to 100000). (default: 64)
  --seed <n>              Seed of the noise. (default: 1)
  --out <folder>          Folder to write into (created if missing).
  --threads <n>           Threads for the generator (the files do not depend on
                          it). (default: 2)
  --class <k>             A conditional generator: the class to ask for (0 to
                          9). Without it, a conditional generator is asked for
                          every class in turn.
  -h, --help              Show help information.

"""#)
    }
}

/// G(z) in one batch, as `gan-lab score` made its images before it made them a batch at a time.
private func withoutGradientsValue(_ network: Sequential, _ noise: Tensor) -> Tensor {
    withoutGradients { network(Variable(noise)).value }
}
