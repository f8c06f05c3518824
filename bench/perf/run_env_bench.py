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
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def busy_seconds() -> float:
    """CPU seconds spent busy by the whole machine since boot (all cores), from /proc/stat."""
    with open("/proc/stat", encoding="utf-8") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")  # guest time is already in user


def children_seconds() -> float:
    times = os.times()
    return times.children_user + times.children_system


def wait_quiet(max_wait: float, threshold: float = 0.15) -> float:
    """Waits (up to max_wait seconds) until other processes use under `threshold` cores.

    The machine is shared: another process on one of two cores halves a multi-threaded figure.
    Returns the last background load measured, in cores.
    """
    start = time.monotonic()
    next_message = start
    while True:
        before = busy_seconds()
        time.sleep(0.5)
        load = (busy_seconds() - before) / 0.5
        now = time.monotonic()
        if load < threshold or now - start >= max_wait:
            return load
        if now >= next_message:
            print(f"run_env_bench: waiting for a quiet machine (other processes use {load:.2f} "
                  f"cores; giving up after {max_wait:.0f} s)", file=sys.stderr, flush=True)
            next_message = now + 15.0
        time.sleep(1.0)


def run_json(command: list[str], what: str, max_wait: float) -> tuple[dict, dict]:
    """Runs a benchmark that writes JSON to the file named by its --json flag.

    Returns its JSON and the background load: other processes' CPU use (in cores) before and during
    the run, so that a figure taken on a busy machine is flagged.
    """
    load_before = wait_quiet(max_wait)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "out.json"
        print(f"$ {shlex.join(command + ['--json', str(path)])}", file=sys.stderr, flush=True)
        busy0, mine0, wall0 = busy_seconds(), children_seconds(), time.monotonic()
        completed = subprocess.run(command + ["--json", str(path)], check=False)
        wall = time.monotonic() - wall0
        others = (busy_seconds() - busy0) - (children_seconds() - mine0)
        if completed.returncode != 0:
            raise SystemExit(f"run_env_bench: {what} failed with exit status "
                             f"{completed.returncode}")
        load = {"before_cores": round(load_before, 3),
                "during_cores": round(max(0.0, others) / wall, 3), "wall_seconds": round(wall, 2)}
        return json.loads(path.read_text(encoding="utf-8")), load


def write_atomically(path: Path, text: str) -> None:
    # A reader (or a crash mid-write) never sees a half-written file: write beside it, then rename.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)  # mkstemp's 0600 would make the results private
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


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
    parser.add_argument("--locus", default="build/bin/locus_bench_envs",
                        help="path of locus_bench_envs (relative paths: from the current "
                             "directory, else from the repository root)")
    parser.add_argument("--out", default=str(REPO / "bench/perf/results/env_throughput.json"))
    parser.add_argument("--num-envs", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true",
                        help="a few seconds in all, to check that everything runs (noisy figures)")
    parser.add_argument("--no-envpool", action="store_true", help="skip the EnvPool peer")
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
        raise SystemExit(f"run_env_bench: {args.locus} not found; build it first: cmake --build "
                         "build --target locus_bench_envs")

    cores = len(os.sched_getaffinity(0))
    threads = "1" if cores == 1 else f"1,{cores}"
    repeats = 3 if args.quick else args.repeats
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

    figures = {r["name"]: r for r in locus_doc["results"] + peers_doc["results"]}
    rows = []
    for row in comparisons(args.num_envs, cores):
        mine, theirs = figures.get(row["locus"]), figures.get(row["peer"])
        if mine is None or theirs is None:
            continue  # e.g. EnvPool not installed
        ratio = mine["median_steps_per_second"] / theirs["median_steps_per_second"]
        goal = row["goal_ratio"]
        rows.append({**row,
                     "locus_steps_per_second": mine["median_steps_per_second"],
                     "peer_steps_per_second": theirs["median_steps_per_second"],
                     "ratio": ratio,
                     "goal_met": None if goal is None else ratio >= goal,
                     # Other processes took the cores this figure needed on every retry.
                     "machine_busy": bool(mine.get("contaminated") or theirs.get("contaminated"))})

    header = f"{'benchmark':<36} {'peer':<30} {'locus steps/s':>14} {'peer steps/s':>14} " \
             f"{'ratio':>8}  goal"
    print(header)
    print("-" * len(header))
    for r in rows:
        goal = "-" if r["goal_ratio"] is None else \
            f">= {r['goal_ratio']:g}x {'met' if r['goal_met'] else 'MISSED'}"
        busy = "  (machine busy: not trustworthy)" if r["machine_busy"] else ""
        print(f"{r['benchmark']:<36} {r['peer']:<30} {r['locus_steps_per_second']:>14,.0f} "
              f"{r['peer_steps_per_second']:>14,.0f} {r['ratio']:>7.2f}x  {goal}{busy}")
    if not peers_doc["envpool"]["available"]:
        print(f"EnvPool not measured: {peers_doc['envpool']['reason']}")
    print(f"({repeats} repeats, median; {elapsed:.0f} s in all; {cpu_model()}, {cores} cores)")
    if any(r["machine_busy"] for r in rows):
        print("WARNING: other processes kept taking the cores some benchmarks needed (marked "
              "above); those figures are low. Rerun on a quiet machine.")

    document = {
        "benchmark": "env_throughput",
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
