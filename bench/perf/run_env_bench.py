#!/usr/bin/env python3
"""Environment throughput: locus against Gymnasium (and EnvPool when installed), in one run.

Runs build/bin/locus_bench_envs (built beforehand; this script builds nothing) and
bench/perf/peers.py, prints a table of env-steps per second with the locus/peer ratio and whether
the project's goal is met, and writes the figures as JSON (atomically: temp file + rename).

    python3 bench/perf/run_env_bench.py [--locus build/bin/locus_bench_envs]
                                        [--out bench/perf/results/env_throughput.json]

Goals (from the issue, for a 2-core machine): one CartPole-v1 made with make() at least 50x
Gymnasium's; a VectorEnv of 1024 CartPoles on all cores at least 3x Gymnasium's numpy vector env.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_common import (add_run_options, BUSY_MARK, BUSY_WARNING, ENV_METHOD, REPO,  # noqa: E402
                          cpu_model, document_start, env_thread_options, finish, goal_text,
                          locus_binary, run_json, steps_comparisons)


def comparisons(num_envs: int, cores: int) -> list[dict]:
    """(locus figure, peer figure, goal) rows; a goal of None is reported for information."""
    vec = f"locus/vector/{num_envs}"
    rows = [
        ("CartPole-v1, 1 env, make() wrappers", "locus/single/make", "gymnasium/single/make",
         50.0),
        ("CartPole-v1, 1 env, raw CartPoleEnv", "locus/single/raw", "gymnasium/single/make",
         None),
        (f"VectorEnv {num_envs}, 1 thread", f"{vec}/threads=1", f"gymnasium/vector/{num_envs}",
         None),
        (f"VectorEnv {num_envs}, {cores} threads", f"{vec}/threads={cores}",
         f"gymnasium/vector/{num_envs}", 3.0),
        ("CartPole-v1, 1 env, make() wrappers", "locus/single/make", "envpool/single", None),
        (f"VectorEnv {num_envs}, 1 thread", f"{vec}/threads=1",
         f"envpool/vector/{num_envs}/threads=1", None),
        (f"VectorEnv {num_envs}, {cores} threads", f"{vec}/threads={cores}",
         f"envpool/vector/{num_envs}/threads={cores}", None),
    ]
    if cores == 1:  # the 1-thread and all-core rows coincide
        rows = [r for r in rows if not (r[0].endswith("1 thread") and r[2].startswith("gym"))]
    return [{"benchmark": b, "locus": l, "peer": p, "goal_ratio": g} for b, l, p, g in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_options(parser, REPO / "bench/perf/results/env_throughput.json", repeats=7, quick=True)
    parser.add_argument("--locus", default="build/bin/locus_bench_envs",
                        help="path of locus_bench_envs (relative paths: from the current "
                             "directory, else from the repository root)")
    parser.add_argument("--num-envs", type=int, default=1024)
    parser.add_argument("--no-envpool", action="store_true", help="skip the EnvPool peer")
    args = parser.parse_args()

    locus = locus_binary(args.locus, "locus_bench_envs")
    cores, threads, repeats = env_thread_options(args.quick, args.repeats)
    common = ["--repeats", str(repeats), "--num-envs", str(args.num_envs), "--threads", threads]
    locus_cmd = [str(locus), *common]
    peers_cmd = [sys.executable, str(HERE / "peers.py"), *common]
    if args.quick:
        locus_cmd += ["--single-steps", "200000", "--vector-steps", "500"]
        peers_cmd += ["--single-steps", "10000", "--vector-steps", "100",
                      "--envpool-single-steps", "2000", "--envpool-vector-steps", "20"]
    if args.no_envpool:
        peers_cmd.append("--no-envpool")

    started = time.monotonic()
    locus_doc, locus_load = run_json(locus_cmd, "locus_bench_envs", args.wait_quiet)
    peers_doc, peers_load = run_json(peers_cmd, "peers.py", args.wait_quiet)
    background = {"locus": locus_load, "peers": peers_load}
    elapsed = time.monotonic() - started

    rows = steps_comparisons(comparisons(args.num_envs, cores),
                             locus_doc["results"] + peers_doc["results"])
    header = f"{'benchmark':<36} {'peer':<30} {'locus steps/s':>14} {'peer steps/s':>14} " \
             f"{'ratio':>8}  goal"
    print(header)
    print("-" * len(header))
    for r in rows:
        busy = BUSY_MARK if r["machine_busy"] else ""
        print(f"{r['benchmark']:<36} {r['peer']:<30} {r['locus_steps_per_second']:>14,.0f} "
              f"{r['peer_steps_per_second']:>14,.0f} {r['ratio']:>7.2f}x  {goal_text(r)}{busy}")
    if not peers_doc["envpool"]["available"]:
        print(f"EnvPool not measured: {peers_doc['envpool']['reason']}")
    print(f"({repeats} repeats, median; {elapsed:.0f} s in all; {cpu_model()}, {cores} cores)")
    if any(r["machine_busy"] for r in rows):
        print(BUSY_WARNING)

    document = {
        **document_start("env_throughput", cores, python=True),
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
