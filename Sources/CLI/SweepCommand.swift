import ArgumentParser
import Foundation
import Lessons

/// `gan-lab sweep`: one stage on several seeds, each seed's metrics and their mean ± standard error.
struct SweepStage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run one stage of a lesson on several seeds and summarise its metrics.",
        discussion: "A claim about chance (\"the vanilla GAN collapses in most seeds\") is a rate over seeds: this prints "
            + "each seed's metrics, then their mean ± standard error, lowest and highest, and writes sweep-<stage>.csv. "
            + "Each seed's numbers are those of `gan-lab lesson N --seed S --stage ID`.")

    @Argument(help: "A lesson number (see `gan-lab lessons`) or the path of a lesson file.")
    var lesson: String

    @Option(name: .long, help: ArgumentHelp("The stage to run (number or id).", valueName: "stage"))
    var stage: String

    @Option(name: .long, help: ArgumentHelp("Seeds: 1-10, 3, 1,4,9 or 1-3,7.", valueName: "seeds"))
    var seeds = "1-10"

    @Option(name: .long, help: ArgumentHelp("A metric to show (repeat for several; default: every metric the stage reports).", valueName: "name"))
    var metric: [String] = []

    @Option(name: .customLong("set"), help: ArgumentHelp("Change a setting: key=value (every stage) or stage.key=value.", valueName: "setting"))
    var overrides: [String] = []

    @Option(name: .long, help: ArgumentHelp("Folder the runs write into (lesson-NN-sweep/seed-S/ inside).", valueName: "folder"))
    var out = "Output"

    @Option(name: .long, help: ArgumentHelp("Seeds run side by side, one thread each (the numbers do not depend on it).", valueName: "n"))
    var threads = 2

    @Flag(name: .long, help: "A few steps per run: a smoke test.")
    var quick = false

    func validate() throws {
        guard parseSeeds(seeds) != nil else { throw ValidationError("--seeds \(seeds): write them as 1-10, 3, 1,4,9 or 1-3,7") }
        guard (1...64).contains(threads) else { throw ValidationError("--threads \(threads): choose 1 to 64") }
    }

    func run() throws {
        let path = Int(lesson).map { try? LessonCatalog.locate().path(ofLesson: $0) } ?? lesson
        guard let path else { throw LessonError(["no lesson \(lesson) in Lessons/ (see gan-lab lessons)"]) }
        let sweep = try Sweep(lesson: Lesson(path: path, overrides: overrides), stage: stage, seeds: parseSeeds(seeds)!)
        print("gan-lab · sweep of lesson \(sweep.lesson.number), stage \(sweep.stage.number) (\(sweep.stage.id)) on seeds \(seeds)"
              + (quick ? " · quick mode" : ""))
        Interruption.install()
        var done = 0
        let runs = try sweep.run(outputRoot: out, quick: quick, threads: threads) { run in
            done += 1
            print("  seed \(run.seed) done (\(done) of \(sweep.seeds.count))")
        }
        let available = Sweep.metricNames(runs)
        let unknown = metric.filter { !available.contains($0) }
        guard unknown.isEmpty else {
            throw LessonError(["stage \(sweep.stage.id) reports no metric \(unknown.joined(separator: ", ")) (it reports \(available.joined(separator: ", ")))"])
        }
        let shown = metric.isEmpty ? available : metric
        let width = max(shown.map(\.count).max() ?? 0, 6)
        print()
        print(pad("metric", width) + "  " + runs.map { pad("s\($0.seed)", 8, left: true) }.joined() + "      mean ±   s.e.    lowest   highest")
        for name in shown {
            let values = runs.map { $0.metrics[name]! }
            let statistics = Sweep.Statistics(values)
            print(pad(name, width) + "  " + values.map { pad(number($0), 8, left: true) }.joined()
                  + pad(number(statistics.mean), 10, left: true) + " ± " + pad(number(statistics.standardError), 6, left: true)
                  + pad(number(statistics.lowest), 10, left: true) + pad(number(statistics.highest), 10, left: true))
        }
        print("\nwhere")
        for name in shown { print("  " + pad(name, width) + "  " + MetricNames.label(name)) }
        let file = (out as NSString).appendingPathComponent(String(format: "lesson-%02d-sweep/sweep-%@.csv", sweep.lesson.number, sweep.stage.id))
        do {
            try Sweep.csv(runs, metrics: available).data(using: .utf8)!.write(to: URL(fileURLWithPath: file), options: .atomic)
        } catch {
            throw LessonError(["cannot write \(file); choose another folder with --out"])
        }
        print("\nwrote \(file) (every metric, one row per seed) and each seed's figures beside it")
    }

    private func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e6 ? String(Int(value)) : String(format: abs(value) >= 100 ? "%.1f" : "%.3f", value)
    }

    private func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return left ? fill + text : text + fill
    }
}
