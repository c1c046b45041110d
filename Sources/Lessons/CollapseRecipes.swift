/// A named fix of lesson 4's scoreboard: settings applied on top of the stage's own (the vanilla GAN).
struct CollapseRecipe {
    let name: String
    let label: String
    let overrides: [String: String]

    /// The recipes the scoreboard knows, in the order it prints them.
    static let all: [CollapseRecipe] = [
        CollapseRecipe(name: "vanilla-16", label: "vanilla GAN, 16-D noise, lr 1e-3",
                       overrides: ["generator": "16 -> 128 relu -> 128 relu -> 2", "learning-rate": "1e-3", "decay-to": "1"]),
        CollapseRecipe(name: "vanilla", label: "vanilla GAN", overrides: [:]),
        CollapseRecipe(name: "label-smoothing", label: "one-sided label smoothing (0.9)", overrides: ["real-label": "0.9"]),
        CollapseRecipe(name: "noisy-labels", label: "noisy labels (5 % flipped)", overrides: ["label-flip": "0.05"]),
        CollapseRecipe(name: "d-steps", label: "3 D steps per G step", overrides: ["discriminator-steps": "3"]),
        CollapseRecipe(name: "minibatch", label: "minibatch discrimination", overrides: ["minibatch-kernels": "5", "minibatch-kernel-size": "3"]),
        CollapseRecipe(name: "wgan", label: "WGAN (clip 0.01, RMSProp 5e-5)",
                       overrides: ["loss": "wgan", "clip": "0.01", "optimizer": "rmsprop", "learning-rate": "5e-5", "discriminator-steps": "5",
                                   "decay-to": "1"]),
        CollapseRecipe(name: "wgan-gp", label: "WGAN-GP (λ 0.1, 5 critic steps)",
                       overrides: ["loss": "wgan-gp", "penalty-weight": "0.1", "discriminator-steps": "5", "learning-rate": "1e-3",
                                   "beta1": "0.5", "beta2": "0.9"]),
        CollapseRecipe(name: "pacgan4", label: "PacGAN4 (packs of 4)", overrides: ["pack": "4"]),
        CollapseRecipe(name: "combined", label: "PacGAN2, 3 D steps, G 4×128, batch 128",
                       overrides: ["pack": "2", "discriminator-steps": "3", "batch-size": "128",
                                   "generator": "2 -> 128 relu -> 128 relu -> 128 relu -> 128 relu -> 2"]),
    ]

    static var names: [String] { all.map(\.name) }

    /// A bar label short enough for ten bars side by side.
    var shortName: String {
        ["vanilla-16": "GAN16", "vanilla": "GAN", "label-smoothing": "smooth", "noisy-labels": "flips", "d-steps": "3D",
         "minibatch": "MBD", "wgan": "WGAN", "wgan-gp": "GP", "pacgan4": "Pac4", "combined": "P2+3D+G4"][name] ?? name
    }

    static func named(_ name: String) -> CollapseRecipe? { all.first { $0.name == name } }

    /// The stage's settings with this recipe's overrides.
    func applied(to settings: StageSettings) -> StageSettings {
        StageSettings(values: settings.values.merging(overrides) { _, new in new }, kind: settings.kind)
    }
}

/// A row of a published table, printed beside ours for reference (modes captured and high-quality %;
/// "—" where the lesson does not quote the paper). The papers' networks, step counts and σ of the
/// ring (0.01) and grid (0.05) are theirs, not ours: the rows are context, not a controlled comparison.
struct LiteratureRow {
    let source: String
    let method: String
    let ringModes: String
    let ringQuality: String
    let gridModes: String
    let gridQuality: String

    static let all: [LiteratureRow] = [
        LiteratureRow(source: "VEEGAN (Srivastava et al. 2017), table 1", method: "GAN",
                      ringModes: "1", ringQuality: "—", gridModes: "3.3", gridQuality: "—"),
        LiteratureRow(source: "PacGAN (Lin et al. 2018), table 2", method: "GAN",
                      ringModes: "6.3 ± 0.5", ringQuality: "—", gridModes: "17.3 ± 0.8", gridQuality: "—"),
        LiteratureRow(source: "PacGAN (Lin et al. 2018), table 2", method: "PacGAN4",
                      ringModes: "7.8 ± 0.1", ringQuality: "95.9", gridModes: "24.8 ± 0.2", gridQuality: "93.6"),
    ]
}
