#!/usr/bin/env python3
"""The engine's four benchmark workloads in TensorFlow and PyTorch, timed side by side.

Usage:
    python3 scripts/peer_bench.py [--steps N] [--dcgan-steps N] [--threads 2] [--rounds N]
                                  [--json peers.json] [--ours ours.json]
                                  [--only WORKLOAD] [--no-compile] [--no-xla]
    python3 scripts/peer_bench.py --from-json peers.json --ours ours.json   # table only
    python3 scripts/peer_bench.py --gan-lab .build/release/gan-lab [--rounds N] ...  # ours in turn with the peers

Workloads (scripts/peer_models.py has the networks and the exact step): mlp-gaussian,
mlp-quadratic, mlp-fashion, dcgan-mnist. One step = one discriminator update on a real and a
fake batch (fakes detached) plus one generator update, BCE from logits.

For each framework and workload: `--warmup` steps (default 10 for the MLPs, 3 for dcgan-mnist;
they include any compilation), then the timed steps (`--steps`, default 200, for the MLPs;
`--dcgan-steps`, default 10). Each step is timed alone, its losses read back to the host.
Reported: the median ms per step and steps/s (timed steps / their total time); the fastest
single step (min ms) is shown too, as a hint of the uncontended cost when the machine is busy
(with 2 threads on 2 busy cores, a contended run can be several times slower).
Variants: TensorFlow `tf.function` and `tf.function(jit_compile=True)` (XLA); PyTorch eager and
`torch.compile` (skipped, with the reason printed, if it fails or passes `--compile-timeout`).
The faster variant of each framework is the one reported. Every (framework, variant, workload)
runs in its own process, with `--threads` set for both frameworks (torch.set_num_threads and
set_num_interop_threads; TensorFlow intra- and inter-op parallelism).

`--rounds N` measures the whole set N times in turn and reports, for each run, the median of its
rounds' medians (each round's median is kept in the JSON as `round_median_ms`), so that a drift in
the machine's speed does not bias one framework or workload.

Also printed: the analytic FLOPs of one dcgan-mnist step.

`--json FILE` writes the peers' figures. `--ours FILE` reads the JSON of `gan-lab bench --json`
({"workloads": [{"name": ..., "median_ms": ..., "steps_per_second": ...}, ...]}) and prints one
table: workload, ours ms, TF ms (variant), PyTorch ms (variant), the faster peer's ms divided
by ours (above 1: ours is faster), our step's products alone on its kernels, and the part of our step
spent in the optimizers' updates.

`--gan-lab PATH` runs ours too, in turn with the peers: in every round and for every workload,
`PATH bench --only WORKLOAD --rounds 1 --json` (same steps, warm-up and threads) and then each peer
variant, the order reversed every other round, so that a slow spell of the machine (a noisy host
slows whole processes for tens of seconds) falls on both sides alike. Besides the table of the
rounds' medians it prints each round's ratio, the faster peer's median over ours in that round,
and their median and range: the figure to quote when the machine is not quiet. A round in which
ours or that peer had its median step above 1.5× its fastest step of any round ran in a slow spell
(marked *), and the median over the other, steady rounds is printed beside; so is the fastest step
of any peer variant in any round over our fastest step, the uncontended costs, which slow spells
move least.

The script runs itself inside `.venv-peers/` (scripts/peer_env.py), installing torch and
tensorflow there from PyPI if they are missing.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_env  # noqa: E402

if __name__ == "__main__" and "--from-json" not in sys.argv:
    peer_env.ensure_environment(need_tensorflow=True)

import peer_models  # noqa: E402

VARIANTS = {"tensorflow": ["tf.function", "tf.function+xla"],
            "pytorch": ["eager", "torch.compile"]}


# ------------------------------------------------------------------------- one measurement

def measure(framework, variant, workload, steps, warmup, threads):
    """Run in a worker process: build, warm up, time `steps` steps; return the figures."""
    if framework == "pytorch":
        import torch
        torch.set_num_threads(threads)
        torch.set_num_interop_threads(threads)
        torch.manual_seed(0)
        step = peer_models.torch_step_function(workload, compiled=variant == "torch.compile")
        batches = [torch.from_numpy(b) for b in peer_models.real_batches(workload)]
        version = torch.__version__
    else:
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        tf.random.set_seed(0)
        step = peer_models.tf_step_function(workload, xla=variant == "tf.function+xla")
        batches = [tf.constant(b) for b in peer_models.real_batches(workload, channels_last=True)]
        version = tf.__version__
    started = time.perf_counter()
    for index in range(warmup):
        step(batches[index % len(batches)])
    warmup_seconds = time.perf_counter() - started
    times = []
    losses = None
    for index in range(steps):
        begin = time.perf_counter()
        losses = step(batches[index % len(batches)])
        times.append(time.perf_counter() - begin)
    median_ms = statistics.median(times) * 1000
    return {"framework": framework, "variant": variant, "workload": workload, "version": version,
            "threads": threads, "warmup_steps": warmup, "warmup_seconds": round(warmup_seconds, 3),
            "steps": steps, "median_ms": round(median_ms, 4),
            "min_ms": round(min(times) * 1000, 4),
            "steps_per_second": round(steps / sum(times), 3),
            "final_losses": [round(value, 4) for value in losses]}


def run_worker(framework, variant, workload, steps, warmup, threads, timeout):
    """Measure in a fresh process; return (result or None, reason)."""
    command = [sys.executable, os.path.abspath(__file__), "--worker",
               f"{framework}:{variant}:{workload}", "--steps", str(steps), "--warmup",
               str(warmup), "--threads", str(threads)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"did not finish within {timeout} s"
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):]), ""
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    return None, (lines[-1] if lines else f"exit code {done.returncode}")[:200]


def run_ours(binary, workload, steps, dcgan_steps, warmup, threads, timeout):
    """`gan-lab bench` on one workload in its own process; return (its JSON or None, reason)."""
    command = [binary, "bench", "--only", workload, "--rounds", "1", "--json", "--threads", str(threads),
               "--steps", str(steps), "--dcgan-steps", str(dcgan_steps)]
    if warmup is not None:
        command += ["--warmup", str(warmup)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, str(error)[:200]
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        return None, (lines[-1] if lines else f"exit code {done.returncode}")[:200]
    return json.loads(done.stdout), ""


# --------------------------------------------------------------------------------- report

def best(results, framework, workload):
    candidates = [r for r in results if r["framework"] == framework and r["workload"] == workload]
    return min(candidates, key=lambda r: r["median_ms"]) if candidates else None


def peers_summary(results, arguments, skipped):
    summary = {"threads": arguments.threads, "machine_cores": os.cpu_count(), "workloads": [],
               "runs": results, "skipped": skipped,
               "dcgan_flops_per_step": peer_models.dcgan_flops()[0],
               "dcgan_flops_per_step_simultaneous": peer_models.dcgan_flops(
                   third_discriminator_forward=False)[0]}
    for workload in peer_models.WORKLOADS:
        entry = {"name": workload}
        for framework in VARIANTS:
            chosen = best(results, framework, workload)
            if chosen:
                entry[framework] = {key: chosen[key] for key in
                                    ("variant", "median_ms", "steps_per_second", "steps")}
        if len(entry) > 1:
            summary["workloads"].append(entry)
    return summary


def print_runs(results, skipped):
    print(f"\n{'workload':<15} {'framework':<11} {'variant':<17} {'median ms':>10} {'min ms':>9} "
          f"{'steps/s':>9} {'warm-up s':>9}  final losses D, G")
    for r in results:
        print(f"{r['workload']:<15} {r['framework']:<11} {r['variant']:<17} {r['median_ms']:>10.3f} "
              f"{r.get('min_ms', float('nan')):>9.3f} {r['steps_per_second']:>9.2f} "
              f"{r['warmup_seconds']:>9.1f}  {r['final_losses']}")
    for entry in skipped:
        print(f"{entry['workload']:<15} {entry['framework']:<11} {entry['variant']:<17} "
              f"skipped: {entry['reason']}")


def print_flops(results=()):
    total, phases = peer_models.dcgan_flops()
    simultaneous = peer_models.dcgan_flops(third_discriminator_forward=False)[0]
    print("\ndcgan-mnist FLOPs per step (2·MACs of matmuls/convolutions, batch 256):")
    for label, flops in phases:
        print(f"  {flops / 1e9:8.2f} GFLOP  {label}")
    print(f"  {total / 1e9:8.2f} GFLOP  total for this step "
          f"({format(simultaneous / 1e9, '.1f')} GFLOP when the G step reuses the D outputs of "
          "the D step, as the TensorFlow tutorial's simultaneous update does)")
    for framework in VARIANTS:
        chosen = best(list(results), framework, "dcgan-mnist")
        if chosen:
            print(f"  {framework} {chosen['variant']}: {total / chosen['median_ms'] / 1e6:.0f} "
                  f"GFLOP/s at its median step")


def print_machine(ours):
    """The machine and kernels `gan-lab bench` reported."""
    if "processor" not in ours:
        return
    convolutions = ours.get("convolution_library") or "—"
    environment = " ".join(ours.get("blas_environment") or []) or "no OPENBLAS_* variables"
    print(f"\nmachine: {ours['processor']}, {ours.get('threads', '?')} threads; portable kernels "
          f"{ours.get('portable_kernels', '?')}; OpenBLAS {ours.get('blas_kernels', '?')} ({environment}), "
          f"cblas_sgemm 1024³ {ours.get('sgemm_gflops', float('nan')):.0f} GFLOP/s; convolutions {convolutions}")


def print_side_by_side(summary, ours_json):
    if isinstance(ours_json, str):
        with open(ours_json) as file:
            ours_json = json.load(file)
    ours = {entry["name"]: entry for entry in ours_json["workloads"]}
    print_machine(ours_json)
    print(f"\n{'workload':<15} {'ours ms':>9} {'TF ms (variant)':>28} {'PyTorch ms (variant)':>28} "
          f"{'peer/ours':>10} {'products alone':>15} {'updates':>8}")
    for entry in summary["workloads"]:
        name = entry["name"]
        cells = []
        for framework in ("tensorflow", "pytorch"):
            figure = entry.get(framework)
            cells.append(f"{figure['median_ms']:.3f} ({figure['variant']})" if figure else "—")
        peers = [entry[f]["median_ms"] for f in ("tensorflow", "pytorch") if f in entry]
        mine = ours.get(name, {}).get("median_ms")
        ratio = f"{min(peers) / mine:.2f}" if mine and peers else "—"
        mine_text = f"{mine:.3f}" if mine else "—"
        alone = ours.get(name, {}).get("products_alone_ms")
        alone_text = f"{alone:.3f}" if alone else "—"
        updates = ours.get(name, {}).get("updates_ms")
        updates_text = f"{updates:.3f}" if updates is not None else "—"
        print(f"{name:<15} {mine_text:>9} {cells[0]:>28} {cells[1]:>28} {ratio:>10} {alone_text:>15} {updates_text:>8}")
    print("peer/ours = the faster peer's median ms / ours (above 1: ours is faster)")
    print("products alone = the step's matrix products and nothing else, on the kernels the workload runs on "
          "(gan-lab bench; dcgan-mnist's as im2col products on OpenBLAS, the faster of its own threads and the "
          "lab's row blocks): about the least a step can cost an engine built on those kernels")
    print("updates = the time our step spends in the optimizers' updates, median over the steps (every parameter "
          "and its state streamed through memory; on the portable kernels with the large Dense layers' weight-gradient "
          "products, computed inside the update a block at a time)")


def print_paired(paired):
    """Each round's ratio (faster peer's median / ours, both from that round), their median and
    range, the median of the steady rounds' (those marked * ran partly in a slow spell), and the
    fastest peer step over our fastest step."""
    print(f"\n{'workload':<15} {'rounds':>6} {'peer/ours, round by round':<40} {'median':>7} {'range':>12} "
          f"{'steady rounds':>14} {'fastest steps':>14}")
    for entry in paired:
        ratios = entry["ratios"]
        steady = entry.get("steady") or [True] * len(ratios)
        listed = " ".join(f"{r:.2f}" + ("" if quiet else "*") for r, quiet in zip(ratios, steady))
        kept = [r for r, quiet in zip(ratios, steady) if quiet]
        kept_text = f"{statistics.median(kept):.2f} ({len(kept)})" if kept else "none"
        fastest = entry.get("fastest_ratio")
        fastest_text = f"{fastest:.2f}" if fastest else "—"
        print(f"{entry['name']:<15} {len(ratios):>6} {listed:<40} {statistics.median(ratios):>7.2f} "
              f"{min(ratios):>5.2f}–{max(ratios):<5.2f} {kept_text:>14} {fastest_text:>14}")
    print("each round ran ours and the peers one after the other (the order reversed every other round); "
          "its ratio is the faster peer variant's median in that round over ours")
    print("fastest steps = the fastest step of any peer variant in any round over our fastest step in any "
          "round: the uncontended costs, which the host's slow spells move least")
    if any(not quiet for entry in paired for quiet in entry.get("steady", [])):
        print(f"* a slow spell: ours or that peer had its median step above {SLOW_SPELL}× its fastest step "
              "in any round (the host slowed the whole process); steady rounds = the median ratio of the "
              "others, with their count")


# --------------------------------------------------------------------------------- main

def main():
    parser = argparse.ArgumentParser(description="TensorFlow and PyTorch peers of gan-lab bench")
    parser.add_argument("--steps", type=int, default=200, help="timed steps of the MLP workloads")
    parser.add_argument("--dcgan-steps", type=int, default=10, help="timed steps of dcgan-mnist")
    parser.add_argument("--warmup", type=int, default=None,
                        help="warm-up steps (default 10 for the MLPs, 3 for dcgan-mnist)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure every run this many times in turn and report the median of "
                             "the rounds' medians (as `gan-lab bench --rounds`)")
    parser.add_argument("--json", help="write the peers' figures here")
    parser.add_argument("--ours", help="JSON of `gan-lab bench --json` to compare against")
    parser.add_argument("--from-json", help="read peers' figures written by --json, run nothing")
    parser.add_argument("--gan-lab", metavar="PATH",
                        help="run this gan-lab binary's bench too, in turn with the peers, and print "
                             "the side by side with each round's ratio")
    parser.add_argument("--only", action="append", choices=peer_models.WORKLOADS)
    parser.add_argument("--frameworks", default="tensorflow,pytorch")
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    parser.add_argument("--no-xla", action="store_true", help="skip tf.function(jit_compile=True)")
    parser.add_argument("--compile-timeout", type=int, default=900,
                        help="seconds allowed to one (framework, variant, workload) run")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    arguments = parser.parse_args()

    if arguments.worker:
        framework, variant, workload = arguments.worker.split(":")
        result = measure(framework, variant, workload, arguments.steps, arguments.warmup,
                         arguments.threads)
        print("RESULT " + json.dumps(result), flush=True)
        return

    if arguments.from_json:
        with open(arguments.from_json) as file:
            summary = json.load(file)
        print_runs(summary["runs"], summary.get("skipped", []))
        print_flops(summary["runs"])
        if arguments.ours or summary.get("ours"):
            print_side_by_side(summary, arguments.ours or summary["ours"])
        if summary.get("paired"):
            print_paired(add_fastest_ratios(summary["paired"], summary["runs"], summary.get("ours") or {}))
        return

    if arguments.rounds < 1:
        parser.error("--rounds must be at least 1")
    if arguments.gan_lab and arguments.ours:
        parser.error("--gan-lab runs ours: leave out --ours")
    if arguments.gan_lab and not os.access(arguments.gan_lab, os.X_OK):
        parser.error(f"--gan-lab {arguments.gan_lab}: not an executable file (build it: swift build -c release)")
    rounds = [run_round(arguments, index) for index in range(arguments.rounds)]
    results, skipped = merge_rounds([r for r, _, _ in rounds]), rounds[0][1]
    summary = peers_summary(results, arguments, skipped)
    print_runs(results, skipped)
    print_flops(results)
    ours = merge_ours([o for _, _, o in rounds]) if arguments.gan_lab else None
    if ours:
        summary["ours"] = ours
        summary["paired"] = add_fastest_ratios(paired_ratios(rounds), results, ours)
    if arguments.json:
        with open(arguments.json, "w") as file:
            json.dump(summary, file, indent=1)
        print(f"\nwrote {arguments.json}")
    if arguments.ours or ours:
        print_side_by_side(summary, arguments.ours or ours)
    if ours:
        print_paired(summary["paired"])


def merge_rounds(rounds):
    """One result per (framework, variant, workload) measured in every round: the median of the
    rounds' medians, the fastest step of all, and each round's median."""
    merged = []
    for first in rounds[0]:
        key = (first["framework"], first["variant"], first["workload"])
        same = [r for results in rounds for r in results
                if (r["framework"], r["variant"], r["workload"]) == key]
        if len(same) < len(rounds):
            continue  # skipped in some round: not comparable
        entry = dict(first)
        entry["round_median_ms"] = [r["median_ms"] for r in same]
        entry["median_ms"] = round(statistics.median(entry["round_median_ms"]), 4)
        entry["min_ms"] = min(r["min_ms"] for r in same)
        entry["steps_per_second"] = round(statistics.median(r["steps_per_second"] for r in same), 3)
        merged.append(entry)
    return merged


def merge_ours(rounds):
    """Ours over the rounds, as `gan-lab bench --rounds N --json` reports it: per workload the
    median of the rounds' medians, the fastest step of all, each round's median; the machine's
    fields from the first round."""
    first = next((o for o in rounds if o), None)
    if first is None:
        return None
    merged = {key: value for key, value in first.items() if key != "workloads"}
    merged["peak_rss_mb"] = max(o.get("peak_rss_mb", 0) for o in rounds if o)
    merged["workloads"] = []
    for name in peer_models.WORKLOADS:
        same = [w for o in rounds if o for w in o["workloads"] if w["name"] == name]
        if len(same) < len(rounds):
            continue
        entry = dict(same[0])
        entry["round_median_ms"] = [w["median_ms"] for w in same]
        entry["median_ms"] = round(statistics.median(entry["round_median_ms"]), 4)
        entry["min_ms"] = min(w["min_ms"] for w in same)
        entry["products_alone_ms"] = round(statistics.median(w["products_alone_ms"] for w in same), 4)
        if all("updates_ms" in w for w in same):
            entry["updates_ms"] = round(statistics.median(w["updates_ms"] for w in same), 4)
        merged["workloads"].append(entry)
    return merged


# A run whose median step took more than this many times the fastest step of any round of the same
# runner ran (mostly) in a slow spell of the machine: a noisy host slows a whole process, every
# thread of it, for seconds (sometimes for the whole run, its fastest step too).
SLOW_SPELL = 1.5


def paired_ratios(rounds):
    """Per workload, each round's faster peer median over ours from the same round, and whether
    that round was steady: neither ours nor that peer variant had its median above SLOW_SPELL
    times its fastest step in any round."""
    paired = []
    for name in peer_models.WORKLOADS:
        mine_all = [next((w for w in (ours or {}).get("workloads", []) if w["name"] == name), None)
                    for _, _, ours in rounds]
        ours_fastest = min((w.get("min_ms", w["median_ms"]) for w in mine_all if w and w.get("median_ms")), default=None)
        ratios, steady = [], []
        for (results, _, _), mine in zip(rounds, mine_all):
            peers = [r for r in results if r["workload"] == name]
            if mine and mine.get("median_ms") and peers:
                peer = min(peers, key=lambda r: r["median_ms"])
                peer_fastest = min(r.get("min_ms", r["median_ms"]) for results_of_round, _, _ in rounds
                                   for r in results_of_round
                                   if (r["framework"], r["variant"], r["workload"]) ==
                                   (peer["framework"], peer["variant"], name))
                ratios.append(round(peer["median_ms"] / mine["median_ms"], 4))
                steady.append(mine["median_ms"] <= SLOW_SPELL * ours_fastest and
                              peer["median_ms"] <= SLOW_SPELL * peer_fastest)
        if ratios:
            paired.append({"name": name, "ratios": ratios, "steady": steady})
    return paired


def add_fastest_ratios(paired, runs, ours):
    """Gives each entry of `paired` its `fastest_ratio`: the fastest step of any peer variant
    (`runs`, merged over the rounds) over our fastest step (`ours`, merged), the uncontended costs,
    which a busy host's slow spells move least."""
    for entry in paired:
        peer_fastest = min((r.get("min_ms", r["median_ms"]) for r in runs if r["workload"] == entry["name"]),
                           default=None)
        mine = next((w for w in ours.get("workloads", []) if w["name"] == entry["name"]), {})
        ours_fastest = mine.get("min_ms", mine.get("median_ms"))
        if peer_fastest and ours_fastest:
            entry["fastest_ratio"] = round(peer_fastest / ours_fastest, 4)
    return paired


def run_round(arguments, index=0):
    """Every selected (workload, framework, variant) once, each in its own process; with
    `--gan-lab`, ours too, before the peers in even rounds and after them in odd ones."""
    results, skipped, ours = [], [], None
    workloads = arguments.only or peer_models.WORKLOADS
    for workload in workloads:
        dcgan = workload == "dcgan-mnist"
        steps = arguments.dcgan_steps if dcgan else arguments.steps
        warmup = arguments.warmup if arguments.warmup is not None else (3 if dcgan else 10)
        runs = [(framework, variant) for framework in arguments.frameworks.split(",")
                for variant in VARIANTS[framework]
                if not ((variant == "torch.compile" and arguments.no_compile) or
                        (variant == "tf.function+xla" and arguments.no_xla))]
        if arguments.gan_lab:
            runs = [("gan-lab", None)] + runs if index % 2 == 0 else runs + [("gan-lab", None)]
        for framework, variant in runs:
            print(f"running {workload} / {framework}" + (f" / {variant}" if variant else "") + " ...",
                  file=sys.stderr, flush=True)
            if framework == "gan-lab":
                mine, reason = run_ours(arguments.gan_lab, workload, arguments.steps, arguments.dcgan_steps,
                                        arguments.warmup, arguments.threads, arguments.compile_timeout)
                if mine is None:
                    sys.exit(f"peer_bench: {arguments.gan_lab} bench failed on {workload}: {reason}")
                if ours is None:
                    ours = mine
                else:
                    ours["workloads"] += mine["workloads"]
                    ours["peak_rss_mb"] = max(ours.get("peak_rss_mb", 0), mine.get("peak_rss_mb", 0))
                continue
            result, reason = run_worker(framework, variant, workload, steps, warmup,
                                        arguments.threads, arguments.compile_timeout)
            if result:
                results.append(result)
            else:
                skipped.append({"workload": workload, "framework": framework,
                                "variant": variant, "reason": reason})
    return results, skipped, ours


if __name__ == "__main__":
    main()
