#!/usr/bin/env python3
"""GoNoGo throughput: locus's GoNoGo-v0 against NeuroGym's GoNogo-v0, in one run.

Runs build/bin/locus_bench_cognitive (built beforehand; this script builds nothing) and
bench/perf/peers_cognitive.py, prints a table of env-steps per second with the locus/NeuroGym
ratio and whether the goal is met, and writes the figures as JSON (atomically: temp file +
rename). The waiting for a quiet machine, the per-repeat background check and the JSON layout are
run_env_bench.py's.

    python3 bench/perf/run_cognitive_bench.py [--locus build/bin/locus_bench_cognitive]
                                              [--out bench/perf/results/cognitive_throughput.json]

Goal (issue 3): at least 100x NeuroGym, for one env and for a vector env.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_common import (add_run_options, BUSY_MARK, ENV_METHOD, REPO, cpu_model,  # noqa: E402
                          document_start, env_thread_options, finish, goal_text, locus_binary,
                          run_json, steps_comparisons)

GOAL = 100.0


def comparisons(num_envs: int, cores: int) -> list[dict]:
    """(benchmark, locus figure, peer figure, goal) rows; a goal of None is for information."""
    vec = f"locus/vector/{num_envs}"
    peer_vec = f"neurogym/vector/{num_envs}"
    rows = [
        ("GoNoGo, 1 env, make() vs ngym.make", "locus/single/make", "neurogym/single/make", GOAL),
        ("GoNoGo, 1 env, raw vs raw", "locus/single/raw", "neurogym/single/raw", None),
        (f"VectorEnv {num_envs}, 1 thread", f"{vec}/threads=1", peer_vec, None),
        (f"VectorEnv {num_envs}, {cores} threads", f"{vec}/threads={cores}", peer_vec, GOAL),
    ]
    if cores == 1:  # the 1-thread and all-core rows coincide
        rows = [r for r in rows if not r[0].endswith("1 thread")]
    return [{"benchmark": b, "locus": l, "peer": p, "goal_ratio": g} for b, l, p, g in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_options(parser, REPO / "bench/perf/results/cognitive_throughput.json",
                    repeats=7, quick=True)
    parser.add_argument("--locus", default="build/bin/locus_bench_cognitive",
                        help="path of locus_bench_cognitive (relative paths: from the current "
                             "directory, else from the repository root)")
    parser.add_argument("--num-envs", type=int, default=1024)
    args = parser.parse_args()

    locus = locus_binary(args.locus, "locus_bench_cognitive")
    cores, threads, repeats = env_thread_options(args.quick, args.repeats)
    common = ["--repeats", str(repeats), "--num-envs", str(args.num_envs)]
    locus_cmd = [str(locus), *common, "--threads", threads]
    peers_cmd = [sys.executable, str(HERE / "peers_cognitive.py"), *common]
    if args.quick:
        locus_cmd += ["--single-steps", "200000", "--vector-steps", "200"]
        peers_cmd += ["--single-steps", "10000", "--vector-steps", "5"]

    started = time.monotonic()
    locus_doc, locus_load = run_json(locus_cmd, "locus_bench_cognitive", args.wait_quiet)
    try:
        peers_doc, peers_load = run_json(peers_cmd, "peers_cognitive.py", args.wait_quiet)
    except SystemExit as error:  # status 77: NeuroGym is not installed
        peers_doc, peers_load = {"results": [], "unavailable": str(error)}, None
    background = {"locus": locus_load, "neurogym": peers_load}
    elapsed = time.monotonic() - started

    rows = []
    for row in steps_comparisons(comparisons(args.num_envs, cores),
                                 locus_doc["results"] + peers_doc["results"]):
        mine = next(r for r in locus_doc["results"] if r["name"] == row["locus"])
        theirs = next(r for r in peers_doc["results"] if r["name"] == row["peer"])
        # Per CPU second: robust on a shared machine, meaningful where both sides use one thread.
        one_thread = mine["config"]["threads"] == 1 and theirs["config"]["threads"] == 1
        cpu_ratio = (mine["median_steps_per_cpu_second"] / theirs["median_steps_per_cpu_second"]
                     if one_thread else None)
        rows.append({**row,
                     "locus_steps_per_cpu_second": mine["median_steps_per_cpu_second"],
                     "peer_steps_per_cpu_second": theirs["median_steps_per_cpu_second"],
                     "cpu_time_ratio": cpu_ratio})

    header = f"{'benchmark':<40} {'locus steps/s':>14} {'NeuroGym':>10} {'ratio':>7} " \
             f"{'per CPU s':>10}  goal"
    print(header)
    print("-" * len(header))
    for r in rows:
        goal = goal_text(r)
        busy = BUSY_MARK if r["machine_busy"] else ""
        cpu = "-" if r["cpu_time_ratio"] is None else f"{r['cpu_time_ratio']:.1f}x"
        print(f"{r['benchmark']:<40} {r['locus_steps_per_second']:>14,.0f} "
              f"{r['peer_steps_per_second']:>10,.0f} {r['ratio']:>6.1f}x {cpu:>10}  "
              f"{goal}{busy}")
    if "unavailable" in peers_doc:
        print(f"NeuroGym not measured: {peers_doc['unavailable']}")
    allocations = {r["name"]: r.get("allocations_in_timed_steps") for r in locus_doc["results"]}
    print(f"heap allocations during locus's timed steps: {allocations}")
    print(f"({repeats} repeats, median; {elapsed:.0f} s in all; {cpu_model()}, {cores} cores)")
    print("ratio: env-steps per second of wall time; per CPU s: per second of each process's "
          "own CPU time (one-thread rows only)")
    if any(r["machine_busy"] for r in rows):
        print("WARNING: other processes kept taking the cores some benchmarks needed (marked "
              "above); those wall-time figures are low (the per-CPU-second ratio is less "
              "affected). Rerun on a quiet machine.")

    document = {
        **document_start("cognitive_throughput", cores, python=True),
        "method": ENV_METHOD,
        "quick": args.quick,
        "background_load": background,
        "comparisons": rows,
        "locus": locus_doc,
        "peers": peers_doc,
    }
    return finish(document, args.out, rows, args.check)


if __name__ == "__main__":
    sys.exit(main())
