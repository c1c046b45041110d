import GAN
import NN

/// Keras-style summaries of the generator and the discriminator: every layer's output shape and
/// parameters, then the totals (BatchNorm's running mean and variance count as non-trainable).
enum ModelsStage: StageKind {
    static let name = "models"
    static let settings = modelSettings + modelDataSettings

    static func crossCheck(_ settings: StageSettings) -> [String] { checkModels(settings) }

    static func run(_ context: StageContext) throws -> StageOutcome {
        var random = context.random
        var metrics: [String: Double] = [:]
        let data = DataShape(context.settings)
        context.console.line("  Data: \(data.description): what the generator must make and the discriminator read.")
        context.console.line()
        for role in ["generator", "discriminator"] {
            let architecture = try Architecture(parsing: context.settings.text(role))
            let model = architecture.build(using: &random)
            for (index, line) in wrapped(architecture.description, width: 92 - role.count).enumerated() {
                context.console.line(index == 0 ? "  \(role.capitalized): \(line)" : String(repeating: " ", count: role.count + 4) + line)
            }
            let rows = model.summary(inputShape: [1] + architecture.inputShape)
            for line in summaryTable(rows, inputShape: architecture.inputShape) { context.console.line("    " + line) }
            context.console.line()
            let trainable = rows.reduce(0) { $0 + $1.trainableCount }, nonTrainable = rows.reduce(0) { $0 + $1.nonTrainableCount }
            metrics["\(role)_parameters"] = Double(trainable + nonTrainable)
            metrics["\(role)_trainable_parameters"] = Double(trainable)
            metrics["\(role)_non_trainable_parameters"] = Double(nonTrainable)
        }
        return StageOutcome(metrics: metrics)
    }

    /// Keras's table: layer, output shape with the batch as None, parameters; then the totals.
    static func summaryTable(_ rows: [SummaryRow], inputShape: [Int]) -> [String] {
        let (layerWidth, shapeWidth, countWidth) = (21, 22, 12)
        func shape(_ shape: [Int]) -> String { "(None, " + shape.map(String.init).joined(separator: ", ") + ")" }
        var lines = [leftAligned("Layer", layerWidth) + leftAligned("Output shape", shapeWidth) + rightAligned("Parameters", countWidth),
                     leftAligned("Input", layerWidth) + leftAligned(shape(inputShape), shapeWidth) + rightAligned("0", countWidth)]
        for row in rows {
            lines.append(leftAligned(row.layer, layerWidth) + leftAligned(shape(Array(row.outputShape.dropFirst())), shapeWidth)
                         + rightAligned(grouped(row.parameterCount), countWidth))
        }
        let trainable = rows.reduce(0) { $0 + $1.trainableCount }, nonTrainable = rows.reduce(0) { $0 + $1.nonTrainableCount }
        let labelWidth = layerWidth + shapeWidth
        lines.append(String(repeating: "─", count: labelWidth + countWidth))
        lines.append(leftAligned("Total parameters", labelWidth) + rightAligned(grouped(trainable + nonTrainable), countWidth))
        lines.append(leftAligned("  trainable", labelWidth) + rightAligned(grouped(trainable), countWidth))
        lines.append(leftAligned("  non-trainable (BatchNorm statistics)", labelWidth) + rightAligned(grouped(nonTrainable), countWidth))
        return lines
    }

    /// A network's description cut before arrows into lines of at most `width` characters.
    static func wrapped(_ description: String, width: Int) -> [String] {
        let pieces = description.components(separatedBy: " -> ")
        var lines = [pieces[0]]
        for piece in pieces.dropFirst() {
            if lines[lines.count - 1].count + 4 + piece.count <= width {
                lines[lines.count - 1] += " -> " + piece
            } else {
                lines.append("-> " + piece)
            }
        }
        return lines
    }
}
