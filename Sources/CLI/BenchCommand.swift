import ArgumentParser
import Charts
import Foundation
import GAN
import Kernels

/// `gan-lab bench`: times the engine on the tutorials' four networks.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time one D update + one G update per step on the four benchmark workloads.",
        discussion: "scripts/peer_bench.py runs the same workloads in TensorFlow and PyTorch; pass it --ours with this command's --json output.")

    @Flag(name: .long, help: "Print JSON ({\"workloads\": [{\"name\", \"median_ms\", \"steps_per_second\", …}], …}).")
    var json = false

    @Option(name: .long, help: "Timed steps per MLP workload.")
    var steps = 200

    @Option(name: .long, help: "Timed steps of dcgan-mnist.")
    var dcganSteps = 10

    @Option(name: .long, help: "Untimed warm-up steps (dcgan-mnist takes at most 3).")
    var warmup = 10

    @Option(name: .long, help: "Rounds of every workload, run in turn; the median of the rounds' medians is reported with their spread.")
    var rounds = 1

    @Option(name: .long, help: "Threads for the lab's products and loops, and for the cblas_sgemm reference.")
    var threads = 2

    @Option(name: .long, help: "Run only this workload (mlp-gaussian, mlp-quadratic, mlp-fashion, dcgan-mnist).")
    var only: String?

    @Option(name: .long, help: "Kernels for every workload's products and convolutions: portable (the same bits on every machine), fastest (OpenBLAS for this CPU, convolutions on oneDNN), or lesson (what each workload's lesson uses: portable for the toy MLPs).")
    var kernels = "lesson"

    @Flag(name: .long, help: "Time the chart kit instead: a 2,000-point scatter and a 30×30 heatmap at 1600×1200.")
    var charts = false

    func validate() throws {
        if let only, BenchmarkWorkload(rawValue: only) == nil { throw ValidationError("unknown workload \(only)") }
        guard kernels == "lesson" || ProductKernels(rawValue: kernels) != nil else {
            throw ValidationError("unknown kernels \(kernels): use portable, fastest or lesson")
        }
        guard steps > 0, dcganSteps > 0, warmup >= 0, threads > 0, rounds > 0 else {
            throw ValidationError("steps, rounds and threads must be positive")
        }
    }

    func run() throws {
        if charts {
            for timing in benchmarkCharts() { print(timing) }
            return
        }
        setMatrixThreads(threads)
        let report = matrixKernelReport()
        if let warning = report.warning { FileHandle.standardError.write(Data((warning + "\n").utf8)) }
        let workloads = only.map { [BenchmarkWorkload(rawValue: $0)!] } ?? BenchmarkWorkload.allCases
        func kernelsOf(_ workload: BenchmarkWorkload) -> ProductKernels { ProductKernels(rawValue: kernels) ?? workload.lessonKernels }
        if !json {
            print("\(report.processor), \(report.instructionSet)")
            print(report.line)
            print("timing \(workloads.map(\.rawValue).joined(separator: ", ")), then 1024³ products …")
        }
        let timed = (0..<rounds).map { _ in
            workloads.map { workload in
                let isDCGAN = workload == .dcganMNIST
                setProductKernels(kernelsOf(workload))
                return runBenchmark(workload, steps: isDCGAN ? dcganSteps : steps, warmup: isDCGAN ? min(warmup, 3) : warmup)
            }
        }
        let results = workloads.indices.map { index in BenchmarkRounds(timed.map { $0[index] }) }
        // The workloads' peak, before the products below allocate operands of their own.
        let peak = peakResidentBytes().map { Double($0) / 1_048_576 }
        releaseIdleBuffers()
        // Last: OpenBLAS's own threads, woken for these products, spin for a while after them.
        let productsAlone = results.map { result in
            // dcgan-mnist's products take about a third of a second a round.
            let repeats = result.workload == .dcganMNIST ? 5 : 100
            let kernels = kernelsOf(result.workload)
            return (kernels == .fastest ? [ProductThreading.openBLAS, .rowBlocks] : [.rowBlocks]).map {
                measureProducts(result.workload.productsPerStep, threads: threads, kernels: kernels, threading: $0,
                                repeats: repeats)
            }.min()!
        }
        let sgemm = measureProductRate(threads: threads, kernels: .fastest)
        let portableRate = measureProductRate(threads: threads, kernels: .portable)
        var entries: [[String: Any]] = []
        if !json {
            print("workload       kernels   median ms    min ms   steps/s   GFLOP/s  of sgemm  products alone ms  updates ms"
                  + (rounds > 1 ? "  round medians" : ""))
        }
        for (result, alone) in zip(results, productsAlone) {
            let workload = result.workload
            var entry: [String: Any] = ["name": workload.rawValue, "median_ms": rounded(result.medianMilliseconds),
                                        "min_ms": rounded(result.fastestMilliseconds),
                                        "steps_per_second": rounded(result.stepsPerSecond),
                                        "steps": result.rounds[0].stepMilliseconds.count,
                                        "round_median_ms": result.roundMedians.map(rounded)]
            entry["gflops"] = rounded(result.gigaflopsPerSecond)
            entry["gflop_per_step"] = rounded(workload.flopsPerStep / 1e9)
            entry["sgemm_fraction"] = rounded(result.gigaflopsPerSecond / sgemm)
            entry["products_alone_ms"] = rounded(alone)
            entry["updates_ms"] = rounded(result.medianUpdateMilliseconds)
            entry["kernels"] = kernelsOf(workload).rawValue
            entries.append(entry)
            if !json {
                print(String(format: "%-14@ %-8@ %10.2f %9.2f %9.1f %9.1f %8.0f %%  %@ %11.3f", workload.rawValue as NSString,
                             kernelsOf(workload).rawValue as NSString, result.medianMilliseconds, result.fastestMilliseconds, result.stepsPerSecond,
                             result.gigaflopsPerSecond, 100 * result.gigaflopsPerSecond / sgemm,
                             leftPadded(String(format: "%.3f", alone), to: 17) as NSString, result.medianUpdateMilliseconds)
                      + (rounds > 1 ? String(format: "  %.3f–%.3f", result.spread.lowerBound, result.spread.upperBound) : ""))
            }
        }
        if !json {
            let convolutionKernels = convolutionImplementations()
            print("products alone: the step's matrix products and nothing else (dcgan-mnist's: its convolutions' im2col products, the "
                  + "whole batch at once) on the workload's kernels; on OpenBLAS the faster of its own \(threads) thread\(threads == 1 ? "" : "s") "
                  + "and the lab's row blocks: about the least a step can cost an engine built on those kernels"
                  + (convolutionKernels.isEmpty ? "" : "; the steps ran their convolutions on oneDNN's \(convolutionKernels.joined(separator: ", ")) "
                     + "kernels instead"))
            print("updates: the part of a step spent in the optimizers' updates (median over the steps; inside the step's time), "
                  + "which stream every parameter and its optimizer state through memory; on the portable kernels a large "
                  + "layer's weight-gradient product runs inside its update, a block at a time, and counts here too")
        }
        let overrides = matrixEnvironmentOverrides()
        if json {
            var document: [String: Any] = ["workloads": entries, "sgemm_gflops": rounded(sgemm), "threads": threads,
                                           "portable_gflops": rounded(portableRate), "portable_kernels": report.portable,
                                           "blas_kernels": report.openBLAS ?? "none", "blas_reason": report.openBLASReason,
                                           "processor": report.processor, "instruction_set": report.instructionSet,
                                           "blas_environment": overrides, "convolution_library": report.convolutions,
                                           "convolution_kernels": convolutionImplementations()]
            if let peak { document["peak_rss_mb"] = rounded(peak) }
            let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(String(format: "1024³ products in this run: cblas_sgemm %.1f GFLOP/s (OpenBLAS %@ kernels), portable %.1f GFLOP/s (%@); %d thread%@",
                         sgemm, (report.openBLAS ?? "none") as NSString, portableRate, report.portable as NSString,
                         threads, (threads == 1 ? "" : "s") as NSString))
            if !overrides.isEmpty {
                print("the environment sets \(overrides.joined(separator: ", ")); the lab chooses OpenBLAS's kernel set "
                      + "from the CPU's instruction set whatever it says (GAN_LAB_OPENBLAS_CORETYPE pins one)")
            }
            if let peak { print(String(format: "peak resident memory: %.0f MB", peak)) }
        }
    }

    private func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }

    private func leftPadded(_ text: String, to width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }
}
