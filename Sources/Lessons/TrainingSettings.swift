import GAN
import Kernels

/// How a GAN trains, as lesson files write it: one list, one default each, read by every stage
/// kind that trains (and parsed into a typed `GANConfiguration` in one place, below).
let trainingSettings = [
    SettingSpec("noise", .choice(["uniform", "normal"]), "uniform"),
    SettingSpec("loss", .choice(LossName.allCases.map(\.rawValue)), LossName.bce.rawValue),
    SettingSpec("clip", .number(1e-6...10), "0.01"),
    SettingSpec("penalty-weight", .number(0...1e4), "10"),
    SettingSpec("update", .choice(UpdateName.allCases.map(\.rawValue)), UpdateName.alternating.rawValue),
    SettingSpec("discriminator-steps", .integer(1...1000), "1"),
    SettingSpec("generator-steps", .integer(1...1000), "1"),
    SettingSpec("optimizer", .choice(OptimizerConfiguration.Kind.allCases.map(\.rawValue)), "adam"),
    SettingSpec("optimizer-convention", .choice(OptimizerConfiguration.Convention.allCases.map(\.rawValue)), "keras"),
    SettingSpec("learning-rate", .number(1e-8...10), "2e-4"),
    SettingSpec("beta1", .number(0...0.999999), "0.9"),
    SettingSpec("beta2", .number(0...0.999999), "0.999"),
    SettingSpec("epsilon", .number(0...1), "1e-7"),
    SettingSpec("rho", .number(0...0.999999), "0.9"),
    SettingSpec("momentum", .number(0...0.999999), "0"),
    SettingSpec("decay-to", .number(0...1), "1"),
    SettingSpec("batch-size", .integer(1...65_536), "64"),
    SettingSpec("pack", .integer(1...64), "1"),
    SettingSpec("real-label", .number(0.5...1), "1"),
    SettingSpec("label-noise", .number(0...0.5), "0"),
    SettingSpec("soft-labels", .number(0...0.5), "0"),
    SettingSpec("label-flip", .number(0...0.5), "0"),
    SettingSpec("discriminator-halves", .choice(DiscriminatorHalves.allCases.map(\.rawValue)), DiscriminatorHalves.together.rawValue),
    SettingSpec("fakes-made-in", .choice(NetworkMode.allCases.map { $0.rawValue + "-mode" }), "training-mode"),
]

/// The loss families by the names lesson files use.
enum LossName: String, CaseIterable {
    case bce, minimax, leastSquares = "least-squares", hinge, wgan, wganGP = "wgan-gp"
}

/// The update schedules by the names lesson files use.
enum UpdateName: String, CaseIterable {
    case alternating, joint, sharedFakes = "shared-fakes", phases
}

extension GANConfiguration {
    /// The configuration a stage's settings describe (every value was checked when the lesson loaded).
    init(_ settings: StageSettings) {
        let discriminatorSteps = settings.integer("discriminator-steps")
        switch UpdateName(rawValue: settings.text("update")) ?? .alternating {
        case .alternating: self.init(schedule: .alternating(discriminatorSteps: discriminatorSteps))
        case .joint: self.init(schedule: .joint)
        case .sharedFakes: self.init(schedule: .sharedFakes)
        case .phases: self.init(schedule: .phases(discriminatorSteps: discriminatorSteps, generatorSteps: settings.integer("generator-steps")))
        }
        switch LossName(rawValue: settings.text("loss")) ?? .bce {
        case .bce: loss = .nonSaturating
        case .minimax: loss = .minimax
        case .leastSquares: loss = .leastSquares
        case .hinge: loss = .hinge
        case .wgan: loss = .wasserstein(clip: Float(settings.number("clip")))
        case .wganGP: loss = .wassersteinGradientPenalty(weight: Float(settings.number("penalty-weight")))
        }
        batchSize = settings.integer("batch-size")
        noise = settings.text("noise") == "normal" ? .normal : .uniform(low: -1, high: 1)
        packSize = settings.integer("pack")
        realLabel = Float(settings.number("real-label"))
        labelNoise = Float(settings.number("label-noise"))
        softLabels = Float(settings.number("soft-labels"))
        labelFlip = Float(settings.number("label-flip"))
        discriminatorHalves = DiscriminatorHalves(rawValue: settings.text("discriminator-halves")) ?? .together
        fakesMode = NetworkMode(rawValue: String(settings.text("fakes-made-in").dropLast("-mode".count))) ?? .training
        var optimizer = OptimizerConfiguration()
        optimizer.kind = OptimizerConfiguration.Kind(rawValue: settings.text("optimizer")) ?? .adam
        optimizer.convention = OptimizerConfiguration.Convention(rawValue: settings.text("optimizer-convention")) ?? .keras
        optimizer.learningRate = Float(settings.number("learning-rate"))
        optimizer.beta1 = Float(settings.number("beta1"))
        optimizer.beta2 = Float(settings.number("beta2"))
        optimizer.epsilon = Float(settings.number("epsilon"))
        optimizer.rho = Float(settings.number("rho"))
        optimizer.momentum = Float(settings.number("momentum"))
        (generatorOptimizer, discriminatorOptimizer) = (optimizer, optimizer)
    }

    /// A short description for the terminal and the scoreboard.
    var summary: String {
        var parts: [String] = []
        switch loss {
        case .nonSaturating: parts.append("BCE")
        case .minimax: parts.append("minimax BCE")
        case .leastSquares: parts.append("least squares")
        case .hinge: parts.append("hinge")
        case .wasserstein(let clip): parts.append("WGAN, clip ±\(clip)")
        case .wassersteinGradientPenalty(let weight): parts.append("WGAN-GP, λ = \(weight)")
        }
        switch schedule {
        case .alternating(let steps): if steps > 1 { parts.append("\(steps) D steps per G step") }
        case .joint: parts.append("joint updates")
        case .sharedFakes: parts.append("shared fakes")
        case .phases(let d, let g): parts.append("\(d) D steps then \(g) G steps a batch")
        }
        if packSize > 1 { parts.append("packs of \(packSize)") }
        if realLabel < 1 { parts.append("real label \(realLabel)") }
        if labelNoise > 0 { parts.append("label noise ±\(labelNoise)") }
        if softLabels > 0 { parts.append("soft labels (real U[\(realLabel - softLabels), \(realLabel)], fake U[0, \(softLabels)])") }
        if labelFlip > 0 { parts.append("\(Int((labelFlip * 100).rounded())) % labels flipped") }
        if discriminatorHalves == .separately { parts.append("D on real, then on fake") }
        if fakesMode == .inference { parts.append("D's fakes from G in inference mode") }
        return parts.joined(separator: ", ")
    }
}

/// Problems between training settings that are each valid alone. (`generator-steps` is read by
/// `update: phases` only and ignored otherwise, so that `--set update=…` works on a phases lesson.)
func checkTraining(_ settings: StageSettings) -> [String] {
    var problems: [String] = []
    let update = settings.text("update")
    // Joint and shared-fakes rounds make D's fakes and G's in one pass, and take one D step.
    let onePass = update == UpdateName.joint.rawValue || update == UpdateName.sharedFakes.rawValue
    if settings.integer("discriminator-steps") != 1, onePass {
        problems.append("discriminator-steps needs update: alternating or phases (update: \(update) takes one D step a round)")
    }
    if settings.text("fakes-made-in") == "inference-mode", onePass {
        problems.append("fakes-made-in: inference-mode needs update: alternating or phases (update: \(update) makes D's fakes and G's in one training-mode pass)")
    }
    if settings.number("soft-labels") > 0, settings.number("label-noise") > 0 {
        problems.append("soft-labels and label-noise both soften D's targets: choose one (soft-labels s draws them from [1 − s, 1] and [0, s], label-noise h adds ±h)")
    }
    if settings.number("soft-labels") > 0, !GANConfiguration(settings).loss.usesTargets {
        problems.append("soft-labels needs a loss with targets (bce, minimax, least-squares), not \(settings.text("loss"))")
    }
    if settings.text("discriminator-halves") == DiscriminatorHalves.separately.rawValue {
        if onePass { problems.append("discriminator-halves: separately needs update: alternating or phases, not \(update)") }
        if !GANConfiguration(settings).loss.usesTargets {
            problems.append("discriminator-halves: separately needs a loss with targets (bce, minimax, least-squares), not \(settings.text("loss"))")
        }
    }
    return problems
}
