#!/usr/bin/env python3
"""Recurrent-network throughput: locus (locus_bench_recurrent) against torch.nn.RNN / GRU / LSTM on
the CPU, one run.

Runs build/bin/locus_bench_recurrent (built beforehand) and bench/perf/recurrent_peers.py (with the
interpreter given by --torch-python) on the same shapes: sequences of 100 steps, batch 16-256,
hidden 128-512, 32 inputs, a linear readout of 8 units and cross-entropy at every step, forward +
backward. Each side runs on 1 thread and on every core, and each is compared at its best thread
count per configuration: locus's trainable and modulated networks both against PyTorch's ordinary
(trainable) RNN, the goal being >= 1.5x at batch >= 64 (more for modulated networks, which form no
weight gradient). PyTorch with the weights frozen (only biases learn) is reported for information.
Prints sequences per second and the ratios, and writes the figures as JSON (atomically).

    python3 bench/perf/run_recurrent_bench.py --locus build/bin/locus_bench_recurrent \\
        --torch-python .venv/bin/python

OpenBLAS picks its kernels from the CPU model; a release older than the CPU falls back to its
Prescott (SSE3) kernels, several times slower (Debian 12's 0.3.21 on Emerald Rapids). When the core
it picks is such a fallback on a CPU with AVX-512, locus runs with OPENBLAS_CORETYPE=SkylakeX (the
kernels for that instruction set; --openblas-coretype sets another, "" keeps OpenBLAS's choice); the
core used is recorded in the JSON.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_common import (add_run_options, BUSY_MARK, REPO, cpu_model, document_start,  # noqa: E402
                          finish, locus_binary, run_json, torch_version)

GOAL = 1.5
GOAL_BATCH = 64  # the goal applies from this batch size on
FALLBACK_CORES = {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Katmai", "Unknown"}


def openblas_core(binary: Path) -> str | None:
    """The kernel set the OpenBLAS that `binary` loads picks under the current environment."""
    ldd = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=False).stdout
    for line in ldd.splitlines():
        if "libopenblas" in line and "=>" in line:
            path = line.split("=>", 1)[1].split("(")[0].strip()
            try:
                library = ctypes.CDLL(path)
                library.openblas_get_corename.restype = ctypes.c_char_p
                return library.openblas_get_corename().decode()
            except (OSError, AttributeError):
                return None
    return None


def cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_options(parser, REPO / "bench/perf/results/recurrent_throughput.json", repeats=5)
    parser.add_argument("--locus", default="build/bin/locus_bench_recurrent")
    parser.add_argument("--torch-python", default=sys.executable,
                        help="a Python interpreter with torch (default: this one)")
    parser.add_argument("--seconds", type=float, default=0.3, help="seconds per timed repeat")
    parser.add_argument("--rounds", type=int, default=2,
                        help="alternating locus/PyTorch rounds; each side keeps its best")
    parser.add_argument("--cells", nargs="+", choices=["elman", "gru", "lstm"],
                        default=["elman", "gru", "lstm"])
    parser.add_argument("--batch", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--hidden", type=int, nargs="+", default=[128, 512])
    parser.add_argument("--openblas-coretype", default=None,
                        help="OPENBLAS_CORETYPE for locus (default: SkylakeX when OpenBLAS falls "
                             "back to an SSE kernel on an AVX-512 CPU; \"\" keeps its choice)")
    args = parser.parse_args()

    locus = locus_binary(args.locus, "locus_bench_recurrent")
    detected = openblas_core(locus)
    coretype = args.openblas_coretype
    if coretype is None:
        coretype = "SkylakeX" if detected in FALLBACK_CORES and "avx512f" in cpu_flags() else ""
    locus_env = dict(os.environ)
    if coretype:
        locus_env["OPENBLAS_CORETYPE"] = coretype
        print(f"run_recurrent_bench: OpenBLAS picks {detected} here; running locus with "
              f"OPENBLAS_CORETYPE={coretype}", file=sys.stderr)
    cores = len(os.sched_getaffinity(0))
    thread_counts = [1] if cores == 1 else [1, cores]
    shape = ["--repeats", str(args.repeats), "--seconds", str(args.seconds),
             "--cells", *args.cells, "--batch", *map(str, args.batch),
             "--hidden", *map(str, args.hidden)]
    started = time.monotonic()
    locus_results, peer_results, locus_load, peer_load = [], [], [], []
    # Rounds alternate locus and PyTorch, so both meet the same background load; each side's figure
    # is its best round (the least disturbed).
    for round_index in range(args.rounds):
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(locus_env)
        try:
            doc, load = run_json([str(locus), *shape, "--threads", *map(str, thread_counts)],
                                 "locus_bench_recurrent", args.wait_quiet)
        finally:
            os.environ.clear()
            os.environ.update(saved)
        locus_results += [{**r, "round": round_index} for r in doc["results"]]
        locus_load.append(load)
        for threads in thread_counts:
            # The libraries read their thread counts when they load: a process per count.
            for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
                os.environ[variable] = str(threads)
            doc, load = run_json([args.torch_python, str(HERE / "recurrent_peers.py"), *shape,
                                  "--threads", str(threads)], "recurrent_peers.py", args.wait_quiet)
            peer_results += [{**r, "round": round_index} for r in doc["results"]]
            peer_load.append({"threads": threads, **load})
    elapsed = time.monotonic() - started
    torch = torch_version(args.torch_python)

    def best(results: list[dict], mode: str) -> dict[tuple, dict]:
        """The fastest round and thread count per (cell, batch, hidden) of one mode."""
        out: dict[tuple, dict] = {}
        for r in results:
            c = r["config"]
            if c["mode"] != mode:
                continue
            key = (c["cell"], c["batch"], c["hidden"])
            if key not in out or \
                    r["median_sequences_per_second"] > out[key]["median_sequences_per_second"]:
                out[key] = r
        return out

    def one_thread(results: list[dict], mode: str) -> dict[tuple, dict]:
        """The 1-thread result per (cell, batch, hidden) with the most sequences per CPU-second."""
        out: dict[tuple, dict] = {}
        for r in results:
            c = r["config"]
            if c["mode"] != mode or c["threads"] != 1:
                continue
            key = (c["cell"], c["batch"], c["hidden"])
            if key not in out or r["median_sequences_per_cpu_second"] > \
                    out[key]["median_sequences_per_cpu_second"]:
                out[key] = r
        return out

    torch_trainable, torch_frozen = best(peer_results, "trainable"), best(peer_results, "frozen")
    torch_cpu = one_thread(peer_results, "trainable")
    rows = []
    for mode in ("trainable", "modulated"):
        locus_cpu = one_thread(locus_results, mode)
        for key, mine in best(locus_results, mode).items():
            theirs = torch_trainable.get(key)
            if theirs is None:
                continue
            # On a shared machine, sequences per CPU-second of each 1-thread process: what
            # time-slicing by other processes moves least.
            cpu_ratio = locus_cpu[key]["median_sequences_per_cpu_second"] / \
                torch_cpu[key]["median_sequences_per_cpu_second"] \
                if key in locus_cpu and key in torch_cpu else None
            # PyTorch with frozen weights is the like-for-like peer of the modulated networks only.
            frozen = torch_frozen.get(key) if mode == "modulated" else None
            ratio = mine["median_sequences_per_second"] / theirs["median_sequences_per_second"]
            goal = key[1] >= GOAL_BATCH
            rows.append({
                "cell": key[0], "mode": mode, "batch": key[1], "hidden": key[2],
                "locus_threads": mine["config"]["threads"],
                "locus_sequences_per_second": mine["median_sequences_per_second"],
                "torch_threads": theirs["config"]["threads"],
                "torch_sequences_per_second": theirs["median_sequences_per_second"],
                "ratio": ratio, "one_thread_cpu_second_ratio": cpu_ratio,
                "torch_frozen_sequences_per_second":
                    frozen["median_sequences_per_second"] if frozen else None,
                "ratio_to_frozen": mine["median_sequences_per_second"] /
                frozen["median_sequences_per_second"] if frozen else None,
                "goal_ratio": GOAL if goal else None,
                "goal_met": ratio >= GOAL if goal else None,
                "machine_busy": bool(mine["contaminated"] or theirs["contaminated"])})
    rows.sort(key=lambda r: (r["cell"], r["mode"] != "trainable", r["hidden"], r["batch"]))

    header = (f"{'cell, mode, batch, hidden':<34} {'locus seq/s':>12} {'thr':>3} "
              f"{'torch seq/s':>12} {'thr':>3} {'ratio':>7} {'vs frozen':>9} {'1-thr cpu-s':>11}"
              f"  goal")
    print(header)
    print("-" * len(header))
    for r in rows:
        busy = BUSY_MARK if r["machine_busy"] else ""
        goal = "-" if r["goal_ratio"] is None else \
            f">= {GOAL:g}x {'met' if r['goal_met'] else 'MISSED'}"
        frozen = f"{r['ratio_to_frozen']:8.2f}x" if r["ratio_to_frozen"] else f"{'-':>9}"
        cpu = r["one_thread_cpu_second_ratio"]
        cpu = f"{cpu:10.2f}x" if cpu else f"{'-':>11}"
        print(f"{r['cell'] + ', ' + r['mode'] + ', ' + str(r['batch']) + ', ' + str(r['hidden']):<34} "
              f"{r['locus_sequences_per_second']:>12,.1f} {r['locus_threads']:>3} "
              f"{r['torch_sequences_per_second']:>12,.1f} {r['torch_threads']:>3} "
              f"{r['ratio']:>6.2f}x {frozen} {cpu}  {goal}{busy}")
    print(f"({args.rounds} rounds of {args.repeats} repeats, median, best round and thread count; "
          f"torch {torch}; OpenBLAS core {coretype or detected}; {elapsed:.0f} s in all; "
          f"{cpu_model()}, {cores} cores)")
    document = {
        **document_start("recurrent_forward_backward", cores),
        "torch": torch,
        "openblas_core": {"detected": detected, "used": coretype or detected},
        "background_load": {"locus": locus_load, "torch": peer_load},
        "comparisons": rows,
        "locus_results": locus_results,
        "torch_results": peer_results,
    }
    return finish(document, args.out, rows, args.check)


if __name__ == "__main__":
    sys.exit(main())
