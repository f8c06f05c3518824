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
import datetime
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
from run_env_bench import cpu_model, run_json, write_atomically  # noqa: E402

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
    parser.add_argument("--locus", default="build/bin/locus_bench_cognitive",
                        help="path of locus_bench_cognitive (relative paths: from the current "
                             "directory, else from the repository root)")
    parser.add_argument("--out", default=str(REPO / "bench/perf/results/cognitive_throughput.json"))
    parser.add_argument("--num-envs", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true",
                        help="a few seconds in all, to check that everything runs (noisy figures)")
    parser.add_argument("--wait-quiet", type=float, default=60.0, metavar="SECONDS",
                        help="before each run, wait up to this long for other processes to "
                             "leave the CPUs idle (default 60; 0: do not wait)")
    parser.add_argument("--check", action="store_true",
                        help="exit with status 1 when a goal is missed")
    args = parser.parse_args()

    locus = Path(args.locus)
    if not locus.is_absolute() and not locus.exists():
        locus = REPO / locus
    if not locus.exists():
        raise SystemExit(f"run_cognitive_bench: {args.locus} not found; build it first: cmake "
                         "--build build --target locus_bench_cognitive")

    cores = len(os.sched_getaffinity(0))
    threads = "1" if cores == 1 else f"1,{cores}"
    repeats = 3 if args.quick else args.repeats
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

    figures = {r["name"]: r for r in locus_doc["results"] + peers_doc["results"]}
    rows = []
    for row in comparisons(args.num_envs, cores):
        mine, theirs = figures.get(row["locus"]), figures.get(row["peer"])
        if mine is None or theirs is None:
            continue
        ratio = mine["median_steps_per_second"] / theirs["median_steps_per_second"]
        goal = row["goal_ratio"]
        # Per CPU second: robust on a shared machine, meaningful where both sides use one thread.
        one_thread = mine["config"]["threads"] == 1 and theirs["config"]["threads"] == 1
        cpu_ratio = (mine["median_steps_per_cpu_second"] / theirs["median_steps_per_cpu_second"]
                     if one_thread else None)
        rows.append({**row,
                     "locus_steps_per_second": mine["median_steps_per_second"],
                     "peer_steps_per_second": theirs["median_steps_per_second"],
                     "ratio": ratio,
                     "locus_steps_per_cpu_second": mine["median_steps_per_cpu_second"],
                     "peer_steps_per_cpu_second": theirs["median_steps_per_cpu_second"],
                     "cpu_time_ratio": cpu_ratio,
                     "goal_met": None if goal is None else ratio >= goal,
                     "machine_busy": bool(mine.get("contaminated") or theirs.get("contaminated"))})

    header = f"{'benchmark':<40} {'locus steps/s':>14} {'NeuroGym':>10} {'ratio':>7} " \
             f"{'per CPU s':>10}  goal"
    print(header)
    print("-" * len(header))
    for r in rows:
        goal = "-" if r["goal_ratio"] is None else \
            f">= {r['goal_ratio']:g}x {'met' if r['goal_met'] else 'MISSED'}"
        busy = "  (machine busy: not trustworthy)" if r["machine_busy"] else ""
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
        "benchmark": "cognitive_throughput",
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": shlex.join(["python3", *sys.argv]),
        "machine": {"cpu": cpu_model(), "cores": cores, "platform": platform.platform(),
                    "python": platform.python_version()},
        "method": "actions pre-drawn; one untimed warm-up run, then timed runs of a fixed step "
                  "count until `repeats` ran with no other process on the cores they need "
                  "(at most 3 x repeats tries); median env-steps/s (vector: num_envs x vector "
                  "steps)",
        "quick": args.quick,
        "background_load": background,
        "comparisons": rows,
        "locus": locus_doc,
        "peers": peers_doc,
    }
    write_atomically(Path(args.out), json.dumps(document, indent=2) + "\n")
    print(f"wrote {args.out}")
    missed = [r for r in rows if r["goal_met"] is False]
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
