#!/usr/bin/env python3
"""Modulated-network throughput: locus (locus_bench_neuromod) against PyTorch on the CPU, one run.

Runs build/bin/locus_bench_neuromod (built beforehand) and bench/perf/neuromod_peers.py (PyTorch,
with the interpreter given by --torch-python, Debian's python3-torch by default), with the same
model, batch sizes, context counts and thread counts, prints samples per second with the
locus/PyTorch ratio against the goal (1.5x), and writes the figures as JSON (atomically).

    python3 bench/perf/run_neuromod_bench.py --locus /tmp/build/bin/locus_bench_neuromod

Each precision (--precision, float32 and bfloat16 by default) runs on both sides: locus's
MatmulPrecision::kBfloat16 (fixed weights packed once in bfloat16, AVX512-BF16 products) against
PyTorch's autocast to bfloat16 with the fixed weights stored in bfloat16. Rows compare the same
precision; the last table compares each side's fastest precision per configuration.

Both sides get the same number of cores: locus through a TBB arena, PyTorch through
OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and torch.set_num_threads. On more than one core PyTorch is
measured twice (N intra-op threads, and 1 intra-op thread with N OpenBLAS threads) and compared at
its faster setting.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_common import (add_run_options, BUSY_MARK, REPO, cpu_model, document_start,  # noqa: E402
                          finish, locus_binary, run_json, torch_version)

GOAL = 1.5


def cpu_has_avx512_bf16() -> bool:
    try:
        return "avx512_bf16" in Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_options(parser, REPO / "bench/perf/results/neuromod_throughput.json", repeats=7)
    parser.add_argument("--locus", default="build/bin/locus_bench_neuromod")
    parser.add_argument("--torch-python", default="/usr/bin/python3",
                        help="a Python interpreter with torch (default: Debian's python3-torch)")
    parser.add_argument("--seconds", type=float, default=0.5, help="seconds per timed repeat")
    parser.add_argument("--rounds", type=int, default=2,
                        help="alternating locus/PyTorch rounds; each side keeps its best")
    parser.add_argument("--precision", nargs="+", choices=["float32", "bfloat16"],
                        default=["float32", "bfloat16"])
    parser.add_argument("--agents", type=int, nargs="+", default=[],
                        help="instead of mixed contexts: agents with their own weights "
                             "(locus weight sets against torch.bmm)")
    parser.add_argument("--batch", type=int, nargs="+", default=[128, 1024])
    args = parser.parse_args()

    locus = locus_binary(args.locus, "locus_bench_neuromod")
    if "bfloat16" in args.precision and not cpu_has_avx512_bf16():
        print("run_neuromod_bench: this CPU has no AVX512-BF16; measuring float32 only",
              file=sys.stderr)
        args.precision = [p for p in args.precision if p != "bfloat16"] or ["float32"]
    cores = len(os.sched_getaffinity(0))
    thread_counts = [1] if cores == 1 else [1, cores]
    common = ["--repeats", str(args.repeats), "--seconds", str(args.seconds),
              "--precision", *args.precision, "--batch", *map(str, args.batch)]
    if args.agents:
        common += ["--agents", *map(str, args.agents)]
    started = time.monotonic()
    # PyTorch on N > 1 cores runs twice: as configured by default (N intra-op OpenMP threads, N
    # OpenBLAS threads), and with one intra-op thread and N OpenBLAS threads (on a 2-core machine
    # OpenMP's spinning workers can starve OpenBLAS's). The faster of the two is the peer figure.
    # A third runs N OpenMP threads that sleep instead of spinning when idle (OMP_WAIT_POLICY=PASSIVE):
    # oneDNN, which runs PyTorch's bfloat16 products, uses OpenMP's threads, not OpenBLAS's.
    variants = [(t, t, "") for t in thread_counts] + \
        [(t, 1, "") for t in thread_counts if t > 1] + \
        [(t, t, "PASSIVE") for t in thread_counts if t > 1]
    locus_results, peer_results, locus_load, peer_load = [], [], [], []
    # Rounds alternate locus and PyTorch, so both meet the same background load; each side's figure
    # is its best round (the least disturbed).
    for round_index in range(args.rounds):
        doc, load = run_json([str(locus), *common, "--threads", *map(str, thread_counts)],
                             "locus_bench_neuromod", args.wait_quiet)
        locus_results += [{**r, "round": round_index} for r in doc["results"]]
        locus_load.append(load)
        for threads, intra, wait_policy in variants:
            # Environment variables are read when the libraries load: a process per variant.
            os.environ["OMP_NUM_THREADS"] = str(intra)
            os.environ["OPENBLAS_NUM_THREADS"] = str(threads)
            if wait_policy:
                os.environ["OMP_WAIT_POLICY"] = wait_policy
            else:
                os.environ.pop("OMP_WAIT_POLICY", None)
            doc, load = run_json([args.torch_python, str(HERE / "neuromod_peers.py"), *common,
                                  "--threads", str(threads), "--intra-op-threads", str(intra)],
                                 "neuromod_peers.py", args.wait_quiet)
            peer_results += [{**r, "round": round_index} for r in doc["results"]]
            peer_load.append({"threads": threads, "intra_op": intra,
                              "omp_wait_policy": wait_policy or "default", **load})
    elapsed = time.monotonic() - started
    torch = torch_version(args.torch_python)

    def best_by_name(results: list[dict]) -> dict[str, dict]:
        best: dict[str, dict] = {}
        for r in results:  # the fastest round (and PyTorch variant) per configuration
            if r["name"] not in best or \
                    r["median_samples_per_second"] > best[r["name"]]["median_samples_per_second"]:
                best[r["name"]] = r
        return best

    peers = best_by_name(peer_results)
    rows = []
    for mine in best_by_name(locus_results).values():
        theirs = peers.get(mine["name"])
        if theirs is None:
            continue
        ratio = mine["median_samples_per_second"] / theirs["median_samples_per_second"]
        rows.append({"benchmark": mine["name"], "config": mine["config"],
                     "torch_intra_op_threads": theirs["config"]["intra_op_threads"],
                     "torch_omp_wait_policy": theirs["config"].get("omp_wait_policy", "default"),
                     "locus_samples_per_second": mine["median_samples_per_second"],
                     "torch_samples_per_second": theirs["median_samples_per_second"],
                     "ratio": ratio, "goal_ratio": GOAL, "goal_met": ratio >= GOAL,
                     # Per CPU-second of each process: meaningful for 1 thread on a shared machine.
                     "cpu_ratio": mine["median_samples_per_cpu_second"] /
                     theirs["median_samples_per_cpu_second"],
                     "machine_busy": bool(mine["contaminated"] or theirs["contaminated"])})
    # Each side at its fastest precision, per configuration (the name without the precision).
    def fastest(results: dict[str, dict]) -> dict[str, dict]:
        best: dict[str, dict] = {}
        for r in results.values():
            base = r["name"].rsplit(", bfloat16", 1)[0]
            if base not in best or \
                    r["median_samples_per_second"] > best[base]["median_samples_per_second"]:
                best[base] = r
        return best

    locus_fastest, peer_fastest = fastest(best_by_name(locus_results)), fastest(peers)
    fastest_rows = []
    for base, mine in locus_fastest.items():
        theirs = peer_fastest.get(base)
        if theirs is None:
            continue
        ratio = mine["median_samples_per_second"] / theirs["median_samples_per_second"]
        fastest_rows.append({
            "benchmark": base, "locus_precision": mine["config"].get("precision", "float32"),
            "torch_precision": theirs["config"].get("precision", "float32"),
            "locus_samples_per_second": mine["median_samples_per_second"],
            "torch_samples_per_second": theirs["median_samples_per_second"],
            "ratio": ratio, "goal_ratio": GOAL, "goal_met": ratio >= GOAL,
            "machine_busy": bool(mine["contaminated"] or theirs["contaminated"])})

    header = (f"{'benchmark':<54} {'locus samples/s':>16} {'torch samples/s':>16} {'ratio':>7} "
              f"{'cpu-s ratio':>11}  goal")
    print(header)
    print("-" * len(header))
    for r in rows:
        busy = BUSY_MARK if r["machine_busy"] else ""
        print(f"{r['benchmark']:<54} {r['locus_samples_per_second']:>16,.0f} "
              f"{r['torch_samples_per_second']:>16,.0f} {r['ratio']:>6.2f}x {r['cpu_ratio']:>10.2f}x"
              f"  >= {GOAL:g}x "
              f"{'met' if r['goal_met'] else 'MISSED'}{busy}")
    print()
    header = (f"{'each at its fastest precision':<44} {'locus':>9} {'samples/s':>10} "
              f"{'torch':>9} {'samples/s':>10} {'ratio':>7}  goal")
    print(header)
    print("-" * len(header))
    for r in fastest_rows:
        busy = BUSY_MARK if r["machine_busy"] else ""
        print(f"{r['benchmark']:<44} {r['locus_precision']:>9} {r['locus_samples_per_second']:>10,.0f} "
              f"{r['torch_precision']:>9} {r['torch_samples_per_second']:>10,.0f} "
              f"{r['ratio']:>6.2f}x  >= {GOAL:g}x {'met' if r['goal_met'] else 'MISSED'}{busy}")
    print(f"({args.rounds} rounds of {args.repeats} repeats, median, best round; torch "
          f"{torch}; {elapsed:.0f} s in all; "
          f"{cpu_model()}, {cores} cores)")
    document = {
        **document_start("neuromod_forward_backward", cores),
        "torch": torch,
        "background_load": {"locus": locus_load, "torch": peer_load},
        "comparisons": rows,
        "fastest_precision_comparisons": fastest_rows,
        "locus_results": locus_results,
        "torch_results": peer_results,
    }
    return finish(document, args.out, rows + fastest_rows, args.check)


if __name__ == "__main__":
    sys.exit(main())
