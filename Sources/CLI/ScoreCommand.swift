import ArgumentParser
import Evaluation
import Foundation
import Lessons

/// `gan-lab score`: the judge's numbers for any set of images, each beside its real-data ceiling.
struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Judge generated images with the lab's classifier: IS, Fréchet distances, precision/recall, coverage.",
        discussion: "The judge for the data set is trained on first use (MNIST about half a minute, Fashion-MNIST a few minutes "
            + "on two cores, the shapes half a minute) and cached under data/judges/. Every score is printed beside its ceiling: as many real images "
            + "the judge never trained on, scored the same way.")

    @Option(name: .long, help: ArgumentHelp("The data set the images imitate: mnist, fashion-mnist or shapes.", valueName: "set"))
    var data: String

    @Argument(help: "The images: an IDX file (raw or .gz), a CSV of pixel rows, a folder of PNGs, or one PNG grid (with --grid).")
    var images: String?

    @Option(name: .long, help: ArgumentHelp("Score a generator a train-images stage saved (generator.safetensors) instead of files.", valueName: "file"))
    var checkpoint: String?

    @Option(name: .long, help: ArgumentHelp("Images the checkpoint's generator makes (fixed noise).", valueName: "n"))
    var samples = 10_000

    @Option(name: .long, help: ArgumentHelp("The shape of a PNG grid, ROWSxCOLUMNS (8x8).", valueName: "shape"))
    var grid: String?

    @Option(name: .long, help: ArgumentHelp("Pixels around and between a grid's tiles (torchvision's save_image: 2).", valueName: "n"))
    var padding = 2

    @Flag(name: .long, help: "Print JSON instead of the table.")
    var json = false

    func validate() throws {
        guard JudgedSet(rawValue: data) != nil else {
            throw ValidationError("--data \(data): the lab has judges for \(JudgedSet.allCases.map(\.rawValue).joined(separator: " and "))")
        }
        if let grid, parsedGrid(grid) == nil { throw ValidationError("--grid \(grid): write the grid's shape as ROWSxCOLUMNS, such as 8x8") }
        guard padding >= 0 else { throw ValidationError("--padding \(padding): give 0 or more pixels") }
        guard (images == nil) != (checkpoint == nil) else { throw ValidationError("give either image files or --checkpoint, not both or neither") }
        guard (10...100_000).contains(samples) else { throw ValidationError("--samples \(samples): choose 10 to 100000") }
    }

    func run() throws {
        var request = ScoreRequest(set: JudgedSet(rawValue: data)!, path: images ?? "", grid: grid.flatMap(parsedGrid), padding: padding)
        request.checkpoint = checkpoint
        request.samples = samples
        let result = try scoreImages(request) { line in FileHandle.standardError.write(Data(("  " + line + "\n").utf8)) }
        if json {
            print(result.json)
            return
        }
        print(result.heading(source: images ?? checkpoint ?? "", set: request.set))
        print(result.table)
    }

    private func parsedGrid(_ text: String) -> (rows: Int, columns: Int)? {
        let parts = text.lowercased().split(separator: "x")
        guard parts.count == 2, let rows = Int(parts[0]), let columns = Int(parts[1]), rows > 0, columns > 0 else { return nil }
        return (rows, columns)
    }
}
