import Foundation
import XCTest

/// scripts/peer_bench.py on made-up figures (the script's own functions, run by python3): the
/// round-by-round ratios of `--gan-lab` (which rounds count as steady, the medians it prints) and
/// the side-by-side table's columns of ours.
final class PeerBenchScriptTests: XCTestCase {
    /// Runs `script` with python3 in the package's folder, where it imports scripts/peer_bench.py.
    private func runPeerBench(_ script: String) throws -> (status: Int32, output: String) {
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        guard let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("no python3")
        }
        let script = "import sys\nsys.path.insert(0, \"scripts\")\nimport peer_bench\n" + script
        return try runProcess(python, ["-c", script], in: package.path)
    }

    func testSlowSpellRoundsAreMarkedAndLeftOutOfTheSteadyMedian() throws {
        // Five rounds of mlp-gaussian: steady; ours slow (median 2× its fastest); the peer slow;
        // steady again; ours slow all through (its fastest step too). The faster peer variant of
        // each round is the one compared; the fastest steps are TensorFlow's 2.4 ms (the variant
        // measured in the first round only is left out of the merged runs) over ours 1.24.
        let script = """
            import json
            def ours(median, fastest):
                return {"workloads": [{"name": "mlp-gaussian", "median_ms": median, "min_ms": fastest,
                                       "products_alone_ms": 1.0}]}
            def peer(median, fastest, variant="tf.function"):
                return {"framework": "tensorflow", "variant": variant, "workload": "mlp-gaussian",
                        "median_ms": median, "min_ms": fastest, "steps_per_second": 400}
            rounds = [([peer(2.6, 2.4), peer(2.7, 2.5, "xla")], [], ours(1.3, 1.25)),
                      ([peer(2.6, 2.4)], [], ours(2.5, 1.25)),
                      ([peer(5.0, 2.4)], [], ours(1.3, 1.25)),
                      ([peer(2.5, 2.4)], [], ours(1.25, 1.24)),
                      ([peer(2.6, 2.4)], [], ours(2.5, 2.1))]
            paired = peer_bench.paired_ratios(rounds)
            print(json.dumps(paired))
            runs = peer_bench.merge_rounds([results for results, _, _ in rounds])
            peer_bench.print_paired(peer_bench.add_fastest_ratios(paired, runs, peer_bench.merge_ours([o for _, _, o in rounds])))
            """
        let (status, output) = try runPeerBench(script)
        XCTAssertEqual(status, 0, output)
        let lines = output.split(separator: "\n").map(String.init)
        let paired = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [[String: Any]])
        XCTAssertEqual(paired.first?["ratios"] as? [Double], [2.0, 1.04, 3.8462, 2.0, 1.04])
        XCTAssertEqual(paired.first?["steady"] as? [Bool], [true, false, false, true, false])
        let row = try XCTUnwrap(lines.first { $0.hasPrefix("mlp-gaussian") })
        XCTAssertEqual(row.split(separator: " ").map(String.init),
                       ["mlp-gaussian", "5", "2.00", "1.04*", "3.85*", "2.00", "1.04*", "2.00", "1.04–3.85", "2.00", "(2)", "1.94"])
        XCTAssertTrue(output.contains("* a slow spell"), output)
    }

    /// Our rounds merged (the median of the rounds' products-alone and updates figures) and the
    /// side-by-side row that prints them.
    func testSideBySideCarriesOurProductsAloneAndUpdates() throws {
        let script = """
            import json
            def ours(median, alone, updates):
                return {"processor": "test CPU", "workloads": [{"name": "mlp-fashion", "median_ms": median, "min_ms": median,
                        "products_alone_ms": alone, "updates_ms": updates}]}
            merged = peer_bench.merge_ours([ours(6.5, 4.9, 0.70), ours(7.0, 4.8, 0.90), ours(6.6, 5.0, 0.75)])
            entry = merged["workloads"][0]
            print(json.dumps([entry["median_ms"], entry["products_alone_ms"], entry["updates_ms"]]))
            summary = {"workloads": [{"name": "mlp-fashion", "tensorflow": {"median_ms": 10.56, "variant": "xla"}}]}
            peer_bench.print_side_by_side(summary, merged)
            """
        let (status, output) = try runPeerBench(script)
        XCTAssertEqual(status, 0, output)
        let lines = output.split(separator: "\n").map(String.init)
        XCTAssertEqual(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [Double], [6.6, 4.9, 0.75])
        let row = try XCTUnwrap(lines.first { $0.hasPrefix("mlp-fashion") })
        XCTAssertEqual(row.split(separator: " ").map(String.init), ["mlp-fashion", "6.600", "10.560", "(xla)", "—", "1.60", "4.900", "0.750"])
    }
}
