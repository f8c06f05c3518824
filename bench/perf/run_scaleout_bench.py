#!/usr/bin/env python3
"""The cost of spreading a sweep over processes (issue #20): many tiny runs through one process
(the reference, and its worker threads: the peer), MPI ranks (mpirun, oversubscribed on a small
machine) and concurrent shards on one folder, then a few runs of about a second, where the goal is
>= 90 % parallel efficiency.

Figures, per setup: wall time (from the command's start to its end, process start-up, data loading
and the summary included), runs per second, and parallel efficiency = (the serial wall time) /
(cores used x wall), cores used = min(workers, cores of the machine), and the same after the
setup's fixed start-up cost (a sweep of one tiny run with the same launcher: process and MPI
start-up, data loading, the summary) is taken off both walls, which is what a long sweep on a
cluster sees. The serial reference is one process with one worker thread; `run s` is its mean time
per run inside the runs (the rest is each run's set-up and file). The coordinator's per-run file
work (claim, atomic write, release) is timed alone, for the estimate in docs/scale-out.md.

    python3 bench/perf/run_scaleout_bench.py --runs 2000 --ranks 2 4 8
"""
from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import document_start, locus_binary, wait_quiet, write_atomically  # noqa: E402

HERE = Path(__file__).resolve().parent

# About 3.4 ms per run on one core of the build machine (2026-12-04).
TINY_RUN = {"stream": "split", "num_tasks": 2, "train_per_task": 64, "eval_per_task": 20,
            "iterations_per_task": 10, "eval_every": 5, "batch_size": 16, "hidden": [32],
            "joint": False, "optimizer": "sgd", "lr": 0.05}
# About 1.3 s per run.
LONG_RUN = {**TINY_RUN, "num_tasks": 5, "train_per_task": 1000, "eval_per_task": 500,
            "iterations_per_task": 60, "eval_every": 20, "batch_size": 64, "hidden": [256]}


def write_config(folder: Path, name: str, runs: int, settings: dict) -> Path:
    path = folder / f"{name}.yaml"
    config = {"name": name, "seeds": list(range(runs)), "defaults": settings,
              "methods": [{"name": "sgd"}]}
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


def summed_run_seconds(out: Path) -> float:
    return sum(json.loads(p.read_text())["metrics"]["wall_seconds"]
               for p in (out / "runs").glob("*.json"))


def timed(command: list[str], max_wait: float) -> float:
    wait_quiet(max_wait)
    print("$ " + " ".join(command), file=sys.stderr, flush=True)
    start = time.monotonic()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - start


def timed_concurrently(commands: list[list[str]], max_wait: float) -> float:
    wait_quiet(max_wait)
    start = time.monotonic()
    processes = [subprocess.Popen(c, stdout=subprocess.DEVNULL) for c in commands]
    for p in processes:
        if p.wait() != 0:
            raise SystemExit(f"run_scaleout_bench: {' '.join(p.args)} failed")
    return time.monotonic() - start


def coordinator_file_seconds(folder: Path, count: int, run_file: str) -> float:
    """Per run: open and flock the run's lock, write its file atomically, release (what rank 0 does
    for each run besides two small MPI messages)."""
    (folder / "locks").mkdir(parents=True)
    (folder / "runs").mkdir()
    start = time.perf_counter()
    for i in range(count):
        fd = os.open(folder / "locks" / f"r{i}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        tmp = folder / "runs" / f"r{i}.json.tmp"
        tmp.write_text(run_file)
        os.replace(tmp, folder / "runs" / f"r{i}.json")
        os.close(fd)
    return (time.perf_counter() - start) / count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locus", default="build/bin/locus")
    parser.add_argument("--runs", type=int, default=2000, help="tiny runs (a few ms each)")
    parser.add_argument("--ranks", type=int, nargs="+", default=[2, 4, 8])
    parser.add_argument("--long-runs", type=int, default=16, help="runs of about a second")
    parser.add_argument("--out", default=str(HERE / "results" / "scaleout.json"))
    parser.add_argument("--wait-quiet", type=float, default=60.0)
    args = parser.parse_args()
    locus = str(locus_binary(args.locus, "locus"))
    mpirun = shutil.which("mpirun")
    if mpirun is None:
        raise SystemExit("run_scaleout_bench: no mpirun; scripts/setup.sh installs OpenMPI")
    cores = os.cpu_count() or 1
    document = document_start("sweep scale-out", cores)
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        one_run = write_config(tmp, "one", 1, TINY_RUN)
        launchers = {"serial": [], "threads": [], "shards": []}
        for ranks in args.ranks:
            launchers[f"mpi{ranks}"] = [mpirun, "--allow-run-as-root", "--oversubscribe", "-np",
                                        str(ranks)]
        # The fixed cost of each setup: a sweep of one tiny run (process start, MPI start-up, data
        # loading, the summary).
        startup = {key: timed([*launcher, locus, "sweep", str(one_run), "--quiet", "--out",
                               str(tmp / f"one-{key}")], args.wait_quiet)
                   for key, launcher in launchers.items()}
        for label, runs, settings in (("tiny", args.runs, TINY_RUN),
                                      ("long", args.long_runs, LONG_RUN)):
            config = write_config(tmp, label, runs, settings)

            def sweep(out: str, *extra: str) -> list[str]:
                return [locus, "sweep", str(config), "--quiet", "--out", str(tmp / out), *extra]

            serial_wall = timed(sweep(f"{label}-serial", "--jobs", "1"), args.wait_quiet)
            serial_runs = summed_run_seconds(tmp / f"{label}-serial")
            results = [("1 process, 1 thread (serial)", "serial", 1, serial_wall),
                       ("1 process, 2 threads", "threads", 2,
                        timed(sweep(f"{label}-threads", "--jobs", "2"), args.wait_quiet))]
            for ranks in args.ranks:
                command = [*launchers[f"mpi{ranks}"], *sweep(f"{label}-mpi{ranks}", "--jobs", "1")]
                results.append((f"mpirun -np {ranks}, 1 thread each", f"mpi{ranks}", ranks,
                                timed(command, args.wait_quiet)))
            shards = [sweep(f"{label}-shards", "--jobs", "1", "--shard", f"{i}/2")
                      for i in range(2)]
            results.append(("2 shards at once, one folder", "shards", 2,
                            timed_concurrently(shards, args.wait_quiet)))
            serial_steady = serial_wall - startup["serial"]
            for name, key, workers, wall in results:
                used = min(workers, cores)
                rows.append({"runs": label, "count": runs, "setup": name, "workers": workers,
                             "wall_seconds": round(wall, 3),
                             "startup_seconds": round(startup[key], 3),
                             "runs_per_second": round(runs / wall, 1),
                             "mean_run_seconds": round(serial_runs / runs, 5),
                             "efficiency": round(serial_wall / (used * wall), 3),
                             "efficiency_after_startup": round(
                                 serial_steady / (used * (wall - startup[key])), 3)})
        sample = next((tmp / "tiny-serial" / "runs").glob("*.json")).read_text()
        per_run = coordinator_file_seconds(tmp / "coordinator", 2000, sample)
    document["rows"] = rows
    document["coordinator_file_seconds_per_run"] = per_run
    document["one_run_sweep_seconds"] = startup
    document["tiny_run_file_bytes"] = len(sample)
    print(f"{'runs':5} {'setup':34} {'wall s':>8} {'start s':>8} {'runs/s':>8} {'run s':>8} "
          f"{'efficiency':>10} {'after start':>11}")
    for r in rows:
        print(f"{r['runs']:5} {r['setup']:34} {r['wall_seconds']:8.2f} {r['startup_seconds']:8.2f} "
              f"{r['runs_per_second']:8.1f} {r['mean_run_seconds']:8.4f} {r['efficiency']:10.1%} "
              f"{r['efficiency_after_startup']:11.1%}")
    print(f"coordinator file work per run: {per_run * 1e6:.0f} us (run file {len(sample)} bytes)")
    write_atomically(Path(args.out), json.dumps(document, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
