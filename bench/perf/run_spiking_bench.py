#!/usr/bin/env python3
"""Spiking-circuit throughput: locus against Brian2 (runtime and C++ standalone), in one run.

    python3 bench/perf/run_spiking_bench.py [--locus build/bin/locus_bench_spiking]
            [--peer-python PYTHON] [--neurons 1000,10000] [--duration 1000] [--repeats 3]
            [--out bench/perf/results/spiking_throughput.json]

Steps: locus_bench_spiking --export writes each size's network (the exact synapse lists and every
parameter); locus_bench_spiking times locus on it (1 and all threads); spiking_peers.py times
Brian2 on the same network and duration, in runtime mode and as C++ standalone. The table gives
neuron-steps and synaptic events per second and the locus / Brian2 ratio. The goal of the issue:
locus at least as fast as Brian2's C++ standalone.

The ratio uses process CPU time of one-thread runs: Brian2's standalone program reports its run
time with std::clock() (CPU time), and on this shared machine CPU time is the figure that other
processes do not distort. Wall-clock figures of locus (1 and all threads) are reported beside.

--peer-python: the interpreter with brian2 (default: this one). brian2 2.9, the last release for
Python 3.11, does not import with numpy >= 2.4, so the peers may need their own environment
(bench/perf/requirements.txt says how).
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
sys.path.insert(0, str(HERE))
from bench_common import cpu_model, wait_quiet, write_atomically  # noqa: E402
from peer_timing import machine_busy_seconds  # noqa: E402


def run(command: list[str], max_wait: float) -> dict:
    """Runs a command after waiting for a quiet machine; returns the background load."""
    before = wait_quiet(max_wait)
    print(f"$ {shlex.join(command)}", file=sys.stderr, flush=True)
    busy0, wall0 = machine_busy_seconds(), time.monotonic()
    times0 = os.times()
    completed = subprocess.run(command, check=False)
    wall = time.monotonic() - wall0
    times1 = os.times()
    mine = (times1.children_user + times1.children_system) - (times0.children_user +
                                                             times0.children_system)
    others = max(0.0, (machine_busy_seconds() - busy0) - mine)
    if completed.returncode != 0:
        raise SystemExit(f"run_spiking_bench: failed ({completed.returncode}): "
                         f"{shlex.join(command)}")
    return {"before_cores": round(before, 3), "during_cores": round(others / wall, 3),
            "wall_seconds": round(wall, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--locus", default="build/bin/locus_bench_spiking")
    parser.add_argument("--peer-python", default=sys.executable)
    parser.add_argument("--neurons", default="1000,10000")
    parser.add_argument("--duration", type=float, default=1000.0, help="simulated ms per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-runtime", action="store_true", help="skip Brian2's runtime mode")
    parser.add_argument("--wait-quiet", type=float, default=60.0, metavar="SECONDS")
    parser.add_argument("--out", default=str(REPO / "bench/perf/results/spiking_throughput.json"))
    args = parser.parse_args()

    locus = Path(args.locus)
    if not locus.is_absolute() and not locus.exists():
        locus = REPO / locus
    if not locus.exists():
        raise SystemExit(f"run_spiking_bench: {args.locus} not found; build it first: "
                         "cmake --build build --target locus_bench_spiking")
    sizes = [int(n) for n in args.neurons.split(",")]
    cores = len(os.sched_getaffinity(0))
    threads = "1" if cores == 1 else f"1,{cores}"
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="locus_spiking_bench_") as tmp:
        tmp_path = Path(tmp)
        subprocess.run([str(locus), "--export", str(tmp_path / "networks"), "--neurons",
                        args.neurons], check=True)
        load = {}
        locus_json = tmp_path / "locus.json"
        load["locus"] = run([str(locus), "--neurons", args.neurons, "--threads", threads,
                             "--duration", str(args.duration), "--repeats", str(args.repeats),
                             "--json", str(locus_json)], args.wait_quiet)
        locus_doc = json.loads(locus_json.read_text(encoding="utf-8"))
        peers = []
        modes = ["standalone"] + ([] if args.no_runtime else ["runtime"])
        for n in sizes:
            for mode in modes:
                out = tmp_path / f"brian2_{mode}_{n}.json"
                load[f"brian2-{mode}/n={n}"] = run(
                    [args.peer_python, str(HERE / "spiking_peers.py"), "--network",
                     str(tmp_path / "networks" / f"n{n}"), "--mode", mode, "--duration",
                     str(args.duration), "--repeats", str(args.repeats), "--json", str(out)],
                    args.wait_quiet)
                peers.append(json.loads(out.read_text(encoding="utf-8")))

    figures = {r["name"]: r for r in locus_doc["results"]}
    rows = []
    for peer in peers:
        n = peer["neurons"]
        mine = figures[f"locus/n={n}/threads=1"]
        rows.append({
            "neurons": n,
            "peer": peer["name"],
            "locus_neuron_steps_per_cpu_second": mine["neuron_steps_per_cpu_second"],
            "peer_neuron_steps_per_cpu_second": peer["neuron_steps_per_cpu_second"],
            "locus_events_per_cpu_second": mine["synaptic_events_per_cpu_second"],
            "peer_events_per_cpu_second": peer["synaptic_events_per_cpu_second"],
            "ratio": mine["neuron_steps_per_cpu_second"] / peer["neuron_steps_per_cpu_second"],
            "locus_rate_hz": mine["mean_rate_hz"],
            "peer_rate_hz": peer["mean_rate_hz"],
            "goal_ratio": 1.0 if "standalone" in peer["name"] else None,
        })
    header = (f"{'neurons':>7} {'peer (1 thread)':<34} {'locus Mstep/cpu-s':>17} "
              f"{'peer Mstep/cpu-s':>16} {'locus Mev/cpu-s':>15} {'peer Mev/cpu-s':>14} "
              f"{'ratio':>7} {'rates (Hz)':>13}  goal")
    print(header)
    print("-" * len(header))
    for r in rows:
        goal = "-" if r["goal_ratio"] is None else \
            f">= 1x {'met' if r['ratio'] >= r['goal_ratio'] else 'MISSED'}"
        print(f"{r['neurons']:>7} {r['peer']:<34} "
              f"{r['locus_neuron_steps_per_cpu_second'] / 1e6:>17.2f} "
              f"{r['peer_neuron_steps_per_cpu_second'] / 1e6:>16.2f} "
              f"{r['locus_events_per_cpu_second'] / 1e6:>15.2f} "
              f"{r['peer_events_per_cpu_second'] / 1e6:>14.2f} {r['ratio']:>6.2f}x "
              f"{r['locus_rate_hz']:>6.1f}/{r['peer_rate_hz']:<6.1f}  {goal}")
    print("locus wall clock:")
    for r in locus_doc["results"]:
        print(f"  {r['name']:<28} {r['neuron_steps_per_second'] / 1e6:8.2f} M neuron-steps/s "
              f"{r['synaptic_events_per_second'] / 1e6:8.2f} M events/s "
              f"(wall {r['median_seconds']:.3f} s, cpu {r['median_cpu_seconds']:.3f} s)")
    busy = any(v["during_cores"] > 0.25 for v in load.values())
    if busy:
        print("NOTE: other processes used the CPUs during the runs (see background_load); the "
              "CPU-time ratios hold, the wall-clock figures are low.")
    elapsed = time.monotonic() - started
    print(f"({args.repeats} repeats, median; {elapsed:.0f} s in all; {cpu_model()}, {cores} cores)")
    document = {
        "benchmark": "spiking_throughput",
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": shlex.join(["python3", *sys.argv]),
        "machine": {"cpu": cpu_model(), "cores": cores, "platform": platform.platform(),
                    "python": platform.python_version()},
        "method": "same network (exported synapse lists) and duration; circuits built before the "
                  "clock; one untimed warm-up run, then `repeats` timed runs, median; ratio on "
                  "process CPU time of one-thread runs (Brian2 standalone reports std::clock())",
        "background_load": load,
        "comparisons": rows,
        "locus": locus_doc,
        "peers": peers,
    }
    write_atomically(Path(args.out), json.dumps(document, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
