#!/usr/bin/env python3
"""Python-side throughput of locus's bindings against Gymnasium and EnvPool, in one run.

What a Python training loop sees: `locus.make_vec("CartPole-v1", 1024)` (a
gymnasium.vector.VectorEnv stepping the C++ VectorEnv into numpy views, GIL released) against
Gymnasium's numpy-vectorized CartPole (`gym.make_vec(..., vectorization_mode="vector_entry_point")`)
and EnvPool with as many threads; and one `gymnasium.make("locus/CartPole-v1")` against
`gymnasium.make("CartPole-v1")`, both behind Gymnasium's Python wrappers (the per-step overhead
of the bindings).

The locus figures are measured in a subprocess of this script (--worker) and the peers by
bench/perf/peers.py, one after the other, each after waiting for a quiet machine, with the same
method (peers.measure: actions drawn before the clock starts, a warm-up run, timed runs until
`repeats` of them ran with other processes under 0.25 cores, median env-steps per second). Writes
the figures as JSON, atomically.

    .venv/bin/python bench/perf/run_python_bench.py [--repeats 7] [--wait-quiet 120]
        [--out bench/perf/results/python_throughput.json] [--quick] [--no-envpool]

Goals (issue 7): the vector env at least 3x Gymnasium's numpy vector env and at least EnvPool's
figure with the same thread count.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

import peers  # noqa: E402  (bench/perf/peers.py: the shared measure())
from bench_common import (add_run_options, BUSY_MARK, BUSY_WARNING, ENV_METHOD,  # noqa: E402
                          cpu_model, document_start, finish, goal_text, run_json, steps_comparisons)


def locus_vector(args, rng, threads: int, copy: bool = False) -> dict:
    import locus

    n = args.num_envs
    env = locus.make_vec("CartPole-v1", n, num_threads=threads, copy=copy)
    table = max(1, peers.ACTION_TABLE // n)
    actions = rng.integers(0, 2, size=(table, n))  # int64 rows: the zero-copy action path
    env.reset(seed=args.seed)
    steps = args.vector_steps

    def body() -> float:
        total = 0.0
        step = env.step
        for i in range(steps):
            _, reward, _, _, _ = step(actions[i % table])
            total += float(reward[0])
        return total

    suffix = "/copy" if copy else ""
    return peers.measure(f"locus/vector/{n}/threads={threads}{suffix}", "locus", args.repeats,
                         steps * n, {"num_envs": n, "threads": env.num_threads, "copy": copy,
                                     "env": repr(env), "locus": locus.__version__}, body)


def locus_single(args, rng, raw: bool) -> dict:
    import gymnasium as gym
    import locus

    env = locus.LocusEnv("CartPole-v1") if raw else gym.make("locus/CartPole-v1")
    actions = rng.integers(0, 2, size=peers.ACTION_TABLE).tolist()
    env.reset(seed=args.seed)
    steps = args.single_steps

    def body() -> float:
        total = 0.0
        step, reset = env.step, env.reset
        mask = peers.ACTION_TABLE - 1
        for i in range(steps):
            _, reward, terminated, truncated, _ = step(actions[i & mask])
            total += reward
            if terminated or truncated:
                reset()
        return total

    name = "locus/single/raw" if raw else "locus/single/make"
    return peers.measure(name, "locus", args.repeats, steps,
                         {"num_envs": 1, "threads": 1, "env": str(env)}, body)


def worker(args) -> int:
    import locus

    rng = np.random.default_rng(args.seed + 1)
    results = [locus_single(args, rng, raw=False), locus_single(args, rng, raw=True)]
    for threads in peers.thread_counts(args.threads):
        results.append(locus_vector(args, rng, threads))
    results.append(locus_vector(args, rng, peers.thread_counts("all")[0], copy=True))
    document = {"benchmark": "python_throughput_locus", "locus": locus.__version__,
                "locus_file": locus.__file__, "results": results}
    Path(args.json).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return 0


def comparisons(n: int, cores: int) -> list[dict]:
    vec = f"locus/vector/{n}"
    rows = [
        ("1 env, gym.make wrappers", "locus/single/make", "gymnasium/single/make", None),
        ("1 env, raw LocusEnv", "locus/single/raw", "gymnasium/single/make", None),
        (f"make_vec {n}, 1 thread", f"{vec}/threads=1", f"gymnasium/vector/{n}", None),
        (f"make_vec {n}, {cores} threads", f"{vec}/threads={cores}", f"gymnasium/vector/{n}", 3.0),
        (f"make_vec {n}, {cores} threads, copy=True", f"{vec}/threads={cores}/copy",
         f"gymnasium/vector/{n}", None),
        (f"make_vec {n}, 1 thread", f"{vec}/threads=1", f"envpool/vector/{n}/threads=1", 1.0),
        (f"make_vec {n}, {cores} threads", f"{vec}/threads={cores}",
         f"envpool/vector/{n}/threads={cores}", 1.0),
        ("1 env, gym.make wrappers", "locus/single/make", "envpool/single", None),
    ]
    if cores == 1:
        rows = [r for r in rows if not (r[0].endswith("1 thread") and r[2].startswith("gym"))]
    return [{"benchmark": b, "locus": lo, "peer": p, "goal_ratio": g} for b, lo, p, g in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_options(parser, REPO / "bench/perf/results/python_throughput.json",
                    repeats=7, quick=True)
    parser.add_argument("--num-envs", type=int, default=1024)
    parser.add_argument("--single-steps", type=int, default=100_000)
    parser.add_argument("--vector-steps", type=int, default=2_000)
    parser.add_argument("--threads", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-envpool", action="store_true", help="skip the EnvPool peer")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    args = parser.parse_args()

    cores = len(os.sched_getaffinity(0))
    if args.threads is None:
        args.threads = "1" if cores == 1 else f"1,{cores}"
    if args.quick:
        args.repeats, args.single_steps, args.vector_steps = 3, 10_000, 100
    if args.worker:
        return worker(args)

    common = ["--repeats", str(args.repeats), "--num-envs", str(args.num_envs),
              "--threads", args.threads, "--seed", str(args.seed)]
    locus_cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", *common,
                 "--single-steps", str(args.single_steps), "--vector-steps",
                 str(args.vector_steps)]
    peers_cmd = [sys.executable, str(HERE / "peers.py"), *common,
                 "--single-steps", str(args.single_steps), "--vector-steps",
                 str(args.vector_steps)]
    if args.quick:
        peers_cmd += ["--envpool-single-steps", "2000", "--envpool-vector-steps", "20"]
    if args.no_envpool:
        peers_cmd.append("--no-envpool")

    started = time.monotonic()
    locus_doc, locus_load = run_json(locus_cmd, "locus worker", args.wait_quiet)
    peers_doc, peers_load = run_json(peers_cmd, "peers.py", args.wait_quiet)
    elapsed = time.monotonic() - started

    rows = steps_comparisons(comparisons(args.num_envs, cores),
                             locus_doc["results"] + peers_doc["results"])

    header = (f"{'benchmark':<40} {'peer':<30} {'locus steps/s':>14} {'peer steps/s':>14} "
              f"{'ratio':>8}  goal")
    print(header)
    print("-" * len(header))
    for r in rows:
        busy = BUSY_MARK if r["machine_busy"] else ""
        print(f"{r['benchmark']:<40} {r['peer']:<30} {r['locus_steps_per_second']:>14,.0f} "
              f"{r['peer_steps_per_second']:>14,.0f} {r['ratio']:>7.2f}x  {goal_text(r)}{busy}")
    if not peers_doc["envpool"]["available"]:
        print(f"EnvPool not measured: {peers_doc['envpool']['reason']}")
    print(f"({args.repeats} repeats, median; {elapsed:.0f} s in all; "
          f"{cpu_model()}, {cores} cores; locus from {locus_doc['locus_file']})")
    if any(r["machine_busy"] for r in rows):
        print(BUSY_WARNING)

    document = {
        **document_start("python_throughput", cores, python=True),
        "method": ENV_METHOD,
        "quick": args.quick,
        "background_load": {"locus": locus_load, "peers": peers_load},
        "comparisons": rows,
        "locus": locus_doc,
        "peers": peers_doc,
    }
    return finish(document, args.out, rows, args.check)


if __name__ == "__main__":
    sys.exit(main())
