import ArgumentParser
import Charts
import Foundation

struct Gallery: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gallery", abstract: "Render every chart kind from synthetic data, to see them all at once.")

    @Option(name: .long, help: "Folder to write the figures into.")
    var out = "Output/gallery"

    @Option(name: .long, help: "Figure format: png, svg or pdf.")
    var format = "png"

    func validate() throws {
        guard ImageFormat(rawValue: format) != nil else { throw ValidationError("--format \(format): choose png, svg or pdf") }
    }

    func run() throws {
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        } catch {
            throw ChartError("cannot create the folder \(out); choose another with --out")
        }
        for path in try renderGallery(to: out, format: ImageFormat(rawValue: format)!) { print("wrote \(path)") }
    }
}
