/// What a learner reads for each key of summary.json: words and notation ("fake mean x",
/// "D(G(z))"), never the key itself. The keys stay in summary.json and metrics.csv; the page shows
/// them small beside the words so a write-up author can find them there.
public enum MetricNames {
    /// The name of `key` in words, or nil when no name is known (a test keeps that from happening).
    public static func words(_ key: String) -> String? {
        if let name = fixed[key] { return name }
        // Mixture, method and statistic: "grid_d_steps_modes_mean" → "grid · 3 D steps per G step: modes captured, mean over seeds".
        for (suffix, statistic) in scoreboardStatistics where key.hasSuffix("_" + suffix) {
            let cell = String(key.dropLast(suffix.count + 1))
            for mixture in ["ring", "grid"] where cell.hasPrefix(mixture + "_") {
                let method = String(cell.dropFirst(mixture.count + 1)).replacingOccurrences(of: "_", with: "-")
                guard let recipe = CollapseRecipe.named(method) else { continue }
                return "\(mixture) · \(recipe.label): \(statistic)"
            }
        }
        // Lesson 7's sets and scores: "blurred_fid_features" → "real, blurred: Fréchet distance, features".
        for kind in JudgedImages.allCases {
            let prefix = kind.rawValue.replacingOccurrences(of: "-", with: "_") + "_"
            if key.hasPrefix(prefix), let score = imageScores[String(key.dropFirst(prefix.count))] { return "\(kind.label): \(score)" }
        }
        if key.hasPrefix("final_"), let score = imageScores[String(key.dropFirst(6))] ?? modeMeasures[String(key.dropFirst(6))] {
            return "generated images at the end: \(score)"
        }
        if key.hasPrefix("ceiling_"), let score = imageScores[String(key.dropFirst(8))] { return "real images (the ceiling): \(score)" }
        // A compared variant's statistic: "compare_tuned_fid_features_mean" → "tuned: Fréchet distance, judge's features, mean over seeds".
        if key.hasPrefix("compare_") {
            let rest = String(key.dropFirst(8))
            for (suffix, words) in [("_discriminator_accuracy_mean", "D's accuracy over the last epoch, mean over seeds"),
                                    ("_d_g_z_mean", "D(G(z)) over the last epoch, mean over seeds"),
                                    ("_ms_per_step_mean", "training milliseconds a step (judging excluded), mean over seeds"),
                                    ("_label_fidelity_mean", "label fidelity (the share the judge puts in the class asked for), mean over seeds"),
                                    ("_label_fidelity_se", "label fidelity, standard error"),
                                    ("_d_fid_rank_correlation_mean",
                                     "Spearman's ρ over training between D's own number (a critic's estimate, or D's loss) and the Fréchet distance, mean over seeds"),
                                    ("_d_fid_rank_correlation_se", "Spearman's ρ between D's own number and the Fréchet distance, standard error")]
                where rest.hasSuffix(suffix) {
                return "\(rest.dropLast(suffix.count)): \(words)"
            }
            if rest.hasSuffix("_beats_baseline") {
                return "\(rest.dropLast(15)): seeds with a lower Fréchet distance and a higher coverage than the first variant"
            }
            for (suffix, statistic) in [("_mean", "mean over seeds"), ("_se", "standard error")] where rest.hasSuffix(suffix) {
                let body = String(rest.dropLast(suffix.count))
                for (score, words) in imageScores where body.hasSuffix("_" + score) {
                    return "\(body.dropLast(score.count + 1)): \(words), \(statistic)"
                }
            }
        }
        // Mixture-prefixed measurements: "ring_picture_modes_captured", "grid_clip_gradient_norm".
        for (prefix, mixture) in [("ring_picture_", "ring as pictured (σ 0.05)"), ("ring_", "ring"), ("grid_", "grid")] where key.hasPrefix(prefix) {
            let rest = String(key.dropFirst(prefix.count))
            if let name = mixtureMeasurements[rest] { return "\(mixture): \(name)" }
        }
        return nil
    }

    /// The words, or the key with spaces for underscores when no name is known.
    public static func label(_ key: String) -> String { words(key) ?? key.replacingOccurrences(of: "_", with: " ") }

    private static let fixed: [String: String] = [
        "steps": "training steps",
        "seconds": "seconds",
        "seeds": "seeds",
        "discriminator_loss": "D loss, mean over the last epoch",
        "generator_loss": "G loss, mean over the last epoch",
        "d_x": "D(x), mean over the last epoch",
        "d_g_z": "D(G(z)), mean over the last epoch",
        "real_mean_x": "real mean x", "real_mean_y": "real mean y", "real_std_x": "real std x", "real_std_y": "real std y",
        "fake_mean_x": "fake mean x", "fake_mean_y": "fake mean y", "fake_std_x": "fake std x", "fake_std_y": "fake std y",
        "last_step_mean_x": "fake mean x, G as the last step left it", "last_step_mean_y": "fake mean y, G as the last step left it",
        "last_step_std_x": "fake std x, G as the last step left it", "last_step_std_y": "fake std y, G as the last step left it",
        "kl_bits": "KL(real ‖ fake) on the grid, bits", "js_bits": "JS(real, fake) on the grid, bits",
        "kl_floor_bits": "KL between two real samples (the estimate's floor), bits",
        "js_floor_bits": "JS between two real samples (the estimate's floor), bits",
        "inside_fraction": "share of fakes inside the unit disk",
        "occupied_cells": "disk cells holding fakes (of 32)",
        "covered_cells": "disk cells holding ¼ of their fair share (of 32)",
        "median_curve_error": "median |y − (10 + x²)| of the fakes",
        "left_fraction": "share of fakes with x < 0", "right_fraction": "share of fakes with x > 0",
        "discriminator_updates_closer_fraction": "share of D updates that brought the feature centroids closer",
        "generator_updates_closer_fraction": "share of G updates that brought the feature centroids closer",
        "joint_updates_closer_fraction": "share of joint updates (D and G from one pass) that brought the feature centroids closer",
        "modes_captured": "modes captured", "high_quality_percent": "high-quality samples, %",
        "reverse_kl": "reverse KL(fake modes ‖ uniform) (−1: no high-quality sample)",
        "collapsed": "collapsed (1 yes, 0 no)",
        "min_modes_captured": "fewest modes captured at a frame", "max_modes_captured": "most modes captured at a frame",
        "distinct_occupied_modes": "modes that held over a quarter of the samples at some frame",
        "generator_parameters": "G's parameters", "discriminator_parameters": "D's parameters",
        "generator_trainable_parameters": "G's trainable parameters", "discriminator_trainable_parameters": "D's trainable parameters",
        "generator_non_trainable_parameters": "G's non-trainable parameters (BatchNorm's running statistics)",
        "discriminator_non_trainable_parameters": "D's non-trainable parameters (BatchNorm's running statistics)",
        "images": "images", "height": "image height, pixels", "width": "image width, pixels", "channels": "channels",
        "pixel_mean": "pixel mean (in [-1, 1])", "pixel_std": "pixel standard deviation", "black_fraction": "share of pixels exactly −1 (black)",
        "runs_completed": "runs completed",
        "judge_accuracy": "the judge's accuracy on images it never trained on", "set_size": "images a set",
        "classes": "classes",
        "steps_per_second": "training steps a second",
        "d_g_z_g_step": "D(G(z)) on the G step's samples, mean over the last epoch",
        "discriminator_accuracy": "D's accuracy on real and fake, mean over the last epoch",
        "discriminator_saturated_step": "step from which D's accuracy (100-step mean) stayed at 0.9 or more",
    ]

    /// What `train-images` measures of G's two BatchNorm modes on its fixed noise.
    private static let modeMeasures: [String: String] = [
        "mode_gap": "mean |inference-mode image − training-mode image|",
        "fake_std_inference": "pixel s.d. of G's images in inference mode", "fake_std_training": "pixel s.d. of G's images in training mode",
        "d_fakes_inference": "D(G(z)) on G's inference-mode images", "d_fakes_training": "D(G(z)) on G's training-mode images",
    ]

    private static let imageScores: [String: String] = [
        "inception_score": "Inception-style score (10 splits)", "inception_score_sd": "Inception-style score, s.d. over splits",
        "fid_features": "Fréchet distance, judge's features", "fid_logits": "Fréchet distance, judge's logits",
        "precision": "precision (k = 3)", "recall": "recall (k = 3)", "density": "density (k = 3)", "coverage": "coverage (k = 3)",
        "classes_with_fair_share": "classes holding a fair share", "class_kl": "KL(predicted classes ‖ uniform), nats",
        "confident_share": "share classified with p ≥ 0.9",
        "seed000_inception_score": "seed 000's Inception score formula", "seed000_fid_features": "seed 000's Fréchet distance formula",
        "label_fidelity": "label fidelity: share the judge puts in the class asked for",
        "real_label_fidelity": "the judge's accuracy on real held-out images (the fidelity ceiling)",
    ].merging((0..<10).flatMap { label in
        [("label_fidelity_\(label)", "label fidelity, class \(label)"), ("real_label_fidelity_\(label)", "the judge's accuracy on real images, class \(label)")]
    }) { $1 }

    private static let scoreboardStatistics: [(String, String)] = [
        ("modes_mean", "modes captured, mean over seeds"), ("modes_se", "modes captured, standard error"),
        ("modes_min", "modes captured, fewest"), ("modes_max", "modes captured, most"),
        ("quality_mean", "high-quality %, mean over seeds"), ("quality_se", "high-quality %, standard error"),
        ("quality_min", "high-quality %, lowest"), ("kl_mean", "reverse KL, mean over seeds"), ("kl_min", "reverse KL, lowest"),
        ("collapsed_seeds", "seeds that collapsed"), ("seconds_per_run", "seconds a run"),
    ]

    private static let mixtureMeasurements: [String: String] = [
        "modes_captured": "modes captured", "high_quality_percent": "high-quality samples, %",
        "clip_gradient_norm": "mean ‖∇D(x̂)‖ of the clipped critic", "penalty_gradient_norm": "mean ‖∇D(x̂)‖ of the penalised critic",
        "clip_weights_at_limit": "share of the clipped critic's weights at the limit",
    ]
}
