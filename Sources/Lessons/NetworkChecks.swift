import Evaluation
import GAN

/// Whether a stage's generator and discriminator fit each other and the data, before anything
/// runs. The data decide the shape: 2 numbers for the toy sets (and lesson 4's mixtures); for an
/// image set, images channels x height x width: 1x28x28 for mnist and fashion-mnist, 3x64x64 for shapes, and for
/// `images` grey or colour (1 or 3 channels) of `image-size`. G's noise input is a vector; G must
/// make exactly the data's shape (a flat 784 is not an image: end G with `reshape 1x28x28`) and D
/// read it (start D at 1x28x28 and `flatten` when it is an MLP); D ends in one logit. A
/// conditional GAN's G reads its noise and a one-hot label (110 = 100 + 10), and its D the image's
/// channels and one per class (11x28x28).
func checkModels(_ settings: StageSettings) -> [String] { modelProblems(settings).map(\.message) }

/// The classes a stage's GAN is conditioned on: 10 for `conditioning: labels` on a labelled set
/// the lab knows (mnist, fashion-mnist, shapes), 0 otherwise (unconditional, or a set without labels,
/// which `checkImageTraining` reports).
func conditioningClasses(_ settings: StageSettings) -> Int {
    guard settings.kind?.readSettings.contains(where: { $0.name == "conditioning" }) ?? false,
          settings.text("conditioning") == "labels", let set = JudgedSet(rawValue: settings.text("data")) else { return 0 }
    return set.classNames.count
}

/// A problem of the networks and the layer it is about, for `file:line`.
struct ModelProblem {
    /// "generator" or "discriminator".
    let setting: String
    /// The layer at fault (an index into its architecture's layers); nil: the input.
    let layer: Int?
    let message: String
}

/// The shapes the data allow, and how to say them in a message.
struct DataShape {
    let shapes: [[Int]]
    let description: String

    func fits(_ shape: [Int]) -> Bool { shapes.contains(shape) }
    var text: String { shapes.map(Architecture.shapeDescription).joined(separator: " or ") }

    /// The data of a stage: a stage that does not read `data` (the mixtures of lesson 4) trains on 2-D points.
    init(_ settings: StageSettings) {
        let readsData = settings.kind?.readSettings.contains { $0.name == "data" } ?? false
        let data = readsData ? settings.text("data") : "gaussian"
        switch data {
        case _ where JudgedSet(rawValue: data) != nil:
            let shape = JudgedSet(rawValue: data)!.imageShape
            shapes = [shape]
            description = "\(data) images are \(Architecture.shapeText(shape)) (channels x height x width)"
        case "images":
            let side = settings.integer("image-size") > 0 ? settings.integer("image-size") : 28  // stages that do not read it
            shapes = [[1, side, side], [3, side, side]]
            description = "the images of data-file are \(side)x\(side) (image-size), grey or colour"
        default:
            shapes = [[2]]
            description = "the toy data are 2-D points"
        }
    }
}

func modelProblems(_ settings: StageSettings) -> [ModelProblem] {
    guard let generator = try? Architecture(parsing: settings.text("generator")),
          let discriminator = try? Architecture(parsing: settings.text("discriminator")) else { return [] }
    let data = DataShape(settings)
    let classes = conditioningClasses(settings)
    let made = generator.outputShape
    var read = discriminator.inputShape  // a conditional D's image channels, without its label channels
    let lastOfGenerator = generator.layers.count - 1, lastOfDiscriminator = discriminator.layers.count - 1
    var problems: [ModelProblem] = []
    if classes > 0 {
        let image = data.shapes.first { $0.count == 3 } ?? [1, 28, 28]
        if read.count == 3, read[0] > classes {
            read[0] -= classes
        } else {
            problems.append(ModelProblem(setting: "discriminator", layer: nil, message:
                "a conditional discriminator reads the image's channels and then one channel per class, so its input must be "
                + "\(Architecture.shapeText([image[0] + classes] + image.dropFirst())) for \(classes) classes, not \(Architecture.shapeText(read))"))
            read = made
        }
        if generator.inputShape.count == 1, generator.inputShape[0] <= classes {
            problems.append(ModelProblem(setting: "generator", layer: nil, message:
                "a conditional generator reads its noise and then a one-hot label of \(classes), so its input must be more than "
                + "\(classes), such as \(100 + classes) (100 + \(classes)), not \(generator.inputShape[0])"))
        }
    }
    /// A hint when a flat vector holds exactly the data's numbers.
    func flatHint(_ shape: [Int], _ advice: (String) -> String) -> String {
        guard shape.count == 1, let image = data.shapes.first(where: { $0.count == 3 && $0.reduce(1, *) == shape[0] }) else { return "" }
        return " (" + advice(Architecture.shapeText(image)) + ")"
    }
    if generator.inputShape.count != 1 {
        problems.append(ModelProblem(setting: "generator", layer: nil, message:
            "the generator reads noise vectors, so its input must be a size such as 100, not \(Architecture.shapeText(generator.inputShape))"))
    }
    if made != read {
        problems.append(ModelProblem(setting: data.fits(read) ? "generator" : "discriminator",
                                     layer: data.fits(read) ? lastOfGenerator : nil, message:
            "the generator makes \(Architecture.shapeDescription(made)) but the discriminator reads \(Architecture.shapeDescription(read))"
            + flatHint(made) { "end the generator with reshape \($0)" }))
    }
    if !data.fits(read) {
        problems.append(ModelProblem(setting: "discriminator", layer: nil, message:
            "\(data.description), so the discriminator must read \(data.text), not \(Architecture.shapeDescription(read))"
            + flatHint(read) { "write its input as \($0) and flatten it" }))
    }
    if made == read, !data.fits(made) {
        problems.append(ModelProblem(setting: "generator", layer: lastOfGenerator, message:
            "\(data.description), so the generator must make \(data.text), not \(Architecture.shapeDescription(made))"
            + flatHint(made) { "end it with reshape \($0)" }))
    }
    if discriminator.outputShape != [1] {
        problems.append(ModelProblem(setting: "discriminator", layer: lastOfDiscriminator, message:
            "the discriminator must end in 1 output (a logit), not \(Architecture.shapeDescription(discriminator.outputShape))"
            + (discriminator.outputShape.count == 3 ? " (flatten, then dense 1)" : "")))
    }
    return problems
}

/// The line each model problem of a stage points at: the line where its layer was written, in
/// the stage's block or the front matter (`origins`: the entries the stage's settings came from;
/// a `--set` value has none, and its problems stay at the stage's line).
func modelProblemLines(_ settings: StageSettings, origins: [String: LessonFile.Entry]) -> [String: Int] {
    guard settings.kind?.readSettings.contains(where: { $0.name == "generator" }) ?? false else { return [:] }
    var lines: [String: Int] = [:]
    for problem in modelProblems(settings) {
        guard let entry = origins[problem.setting], entry.value == settings.text(problem.setting),
              let architecture = try? Architecture(parsing: entry.value) else { continue }
        let source = problem.layer.map { $0 >= 0 && $0 < architecture.layerSources.count ? architecture.layerSources[$0] : nil }
            ?? architecture.inputSource
        guard let source else { continue }
        lines[problem.message] = entry.part(atOffset: source.offset).line
    }
    return lines
}

/// A setting's problem and the line it is on: for a network, the line of the layer at fault
/// (quoted when the value spans lines); otherwise the setting's line and its whole value.
func locatedProblem(_ kind: ValueKind, _ entry: LessonFile.Entry) -> (line: Int, message: String)? {
    if case .architecture = kind {
        do {
            _ = try Architecture(parsing: entry.value)
            return nil
        } catch {
            let part = (error as? ArchitectureError)?.offset.map(entry.part(atOffset:)) ?? entry.parts[0]
            return (part.line, "\(error), got \"\(entry.isMultiline ? part.text : entry.value)\"")
        }
    }
    return kind.problem(with: entry.value).map { (entry.line, "\($0), got \"\(entry.value)\"") }
}

/// The settings of a models stage beyond the networks: the data whose shape they must fit.
let modelDataSettings = [
    dataSetting,
    SettingSpec("image-size", .integer(4...256), "28"),
]
