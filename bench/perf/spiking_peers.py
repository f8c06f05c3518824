#!/usr/bin/env python3
"""Brian2 peer of bench/perf/bench_spiking.cpp: the same network, the same duration.

    python spiking_peers.py --network DIR/n1000 --mode runtime|standalone [--threads N]
                            [--duration MS] [--repeats R] --json OUT

DIR/nN/ is what `locus_bench_spiking --export DIR` wrote: network.json (every parameter) and the
synapses of each projection as int32 (pre, post) files, so Brian2 simulates exactly locus's wiring.
The model is the same set of equations (two-compartment Izhikevich pyramidal cells with BAP and
calcium-switched reset, Izhikevich PV and LTS SOM cells, AMPA/NMDA/GABA conductances with the
Mg block, fixed delays), integrated with forward Euler at the same dt. Differences, none of which
changes the amount of work: Brian2's Euler decays conductances by (1 - dt/tau) per step where
locus uses exp(-dt/tau); Poisson drive is a PoissonInput of 100 afferents (a binomial count per
step) where locus draws a Poisson count.

Timing: `runtime` mode (Brian2's default code generation, Cython when available) times run()
after an untimed warm-up run (which also compiles the code); `standalone` (C++ standalone,
compiled with Brian2's default flags, -O3 -ffast-math -march=native) takes the simulation time
that Brian2's generated program reports for its run (compilation and network construction
excluded); the build is done once per repeat in a fresh directory.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def load(folder: Path) -> dict:
    doc = json.loads((folder / "network.json").read_text(encoding="utf-8"))
    for p in doc["projections"]:
        pre_file, post_file = p["files"]
        p["i"] = np.fromfile(folder / pre_file, dtype="<i4")
        p["j"] = np.fromfile(folder / post_file, dtype="<i4")
    return doc


def build(doc: dict, b2):
    """The network in Brian2 (unitless state, time in ms). Returns (objects, monitors)."""
    dt = doc["dt"]
    b2.defaultclock.dt = dt * b2.ms
    s = doc["synapses"]
    py = doc["pyramidal"]
    drives = doc["drives"]
    n = doc["sizes"]
    bap_from = round(py["bap_delay"] / dt)
    bap_to = bap_from + round(py["bap_duration"] / dt)
    conductances = """
        dga/dt = -ga / (tau_ampa * ms) : 1
        dgn/dt = -gn / (tau_nmda * ms) : 1
        dgg/dt = -gg / (tau_gaba * ms) : 1
    """
    pyramidal_eqs = f"""
        dv/dt = (k * (v - vr) * (v - vt) - u + I_s + gds * F) / C / ms : 1
        du/dt = a * (b * (v - vr) - u) / ms : 1
        dvd/dt = (-ld * (vd - vrd) + kd * F + pd * bap + ud + I_d) / Cd / ms : 1
        dud/dt = ad * (bd * (vd - vrd) - ud) / ms : 1
        F = 1 / (1 + exp((fh - vd) / fs)) : 1
        since = floor((t - lastspike) / dt + 0.5) - 1 : 1
        bap = int(since >= {bap_from}) * int(since < {bap_to}) : 1
        I_s = {drives['pyr_soma']['current']} - (ga + gn / (1 + mg / mg_half * exp(-mg_slope * v)))
              * (v - e_exc) - gg * (v - e_inh) : 1
        I_d = {drives['pyr_dendrite']['current']}
              - (ga_d + gn_d / (1 + mg / mg_half * exp(-mg_slope * vd))) * (vd - e_exc)
              - gg_d * (vd - e_inh) : 1
        dga_d/dt = -ga_d / (tau_ampa * ms) : 1
        dgn_d/dt = -gn_d / (tau_nmda * ms) : 1
        dgg_d/dt = -gg_d / (tau_gaba * ms) : 1
    """ + conductances
    namespace = {**{key: value for key, value in py.items()}, **s}
    namespace.update({"e_exc": s["e_exc"], "e_inh": s["e_inh"]})
    pyr = b2.NeuronGroup(
        n["pyr"], pyramidal_eqs, method="euler", threshold="v >= vpeak",
        reset="burst = int(vd >= ca)\nv = c + burst * (cb - c)\nu = u + d + burst * (db - d)",
        refractory=0 * b2.ms, namespace=namespace, name="pyr")
    # `burst` as a local variable of the reset: declare it through the namespace-free form.
    pyr.v = py["vr"]
    pyr.vd = py["vrd"]
    interneuron_eqs = """
        dv/dt = (k * (v - vr) * (v - vt) - u + I) / C / ms : 1
        du/dt = a * (b * (v - vr) - u) / ms : 1
        I = current - (ga + gn / (1 + mg / mg_half * exp(-mg_slope * v))) * (v - e_exc)
            - gg * (v - e_inh) : 1
    """ + conductances

    def interneurons(name: str, size: int) -> "b2.NeuronGroup":
        p = doc[name]
        ns = {**p, **s, "current": drives[name]["current"]}
        group = b2.NeuronGroup(
            size, interneuron_eqs, method="euler", threshold="v >= vpeak + peak_slope * u",
            reset="v = c + c_slope * u\nu = clip(u + d, -1e300, umax)", namespace=ns, name=name)
        group.v = p["vr"]
        return group

    groups = {"pyr": pyr, "pv": interneurons("pv", n["pv"]), "som": interneurons("som", n["som"])}
    objects = list(groups.values())

    def poisson(group, variable, drive):
        if drive["rate"] > 0 and drive["weight"] > 0:
            afferents = 100
            objects.append(b2.PoissonInput(group, variable, afferents,
                                           drive["rate"] / afferents * b2.Hz,
                                           weight=drive["weight"]))

    poisson(pyr, "ga", drives["pyr_soma"])
    poisson(pyr, "ga_d", drives["pyr_dendrite"])
    poisson(groups["pv"], "ga", drives["pv"])
    poisson(groups["som"], "ga", drives["som"])

    for index, p in enumerate(doc["projections"]):
        excitatory = p["pre"] == "pyr"
        dend = p["target"] == "dendrite"
        suffix = "_d" if dend else ""
        if excitatory:
            on_pre = f"ga{suffix}_post += w\ngn{suffix}_post += {s['nmda_ratio']} * w"
        else:
            on_pre = f"gg{suffix}_post += w"
        synapses = b2.Synapses(groups[p["pre"]], groups[p["post"]], "w : 1", on_pre=on_pre,
                               name=f"projection{index}")
        synapses.connect(i=p["i"], j=p["j"])
        synapses.w = p["weight"]
        # locus: a spike of step n opens the conductance before the update of step n + D;
        # Brian2 applies a delay d after the update of step n + d / dt, so d = (D - 1) dt.
        synapses.delay = (p["delay_steps"] - 1) * dt * b2.ms
        objects.append(synapses)
    monitors = {name: b2.SpikeMonitor(g) for name, g in groups.items()}
    objects.extend(monitors.values())
    return objects, monitors


def count(doc: dict, monitors: dict) -> dict:
    """Spikes, and synaptic events counted as locus does: per presynaptic spike, one per
    outgoing synapse."""
    per_neuron = {name: np.asarray(m.count[:]) for name, m in monitors.items()}
    events = 0
    for p in doc["projections"]:
        out_degree = np.bincount(p["i"], minlength=len(per_neuron[p["pre"]]))
        events += int(np.dot(per_neuron[p["pre"]].astype(np.int64), out_degree))
    return {"spikes": int(sum(c.sum() for c in per_neuron.values())), "events": events}


def run_runtime(doc: dict, duration: float, repeats: int) -> list[dict]:
    # One network, run on: the first run compiles the generated code (untimed warm-up), each
    # timed run continues the simulation for the same duration. (A fresh network per repeat would
    # get new object names and so recompile every time.)
    import brian2 as b2
    b2.prefs.codegen.target = "cython"
    objects, monitors = build(doc, b2)
    net = b2.Network(*objects)
    net.run(duration * b2.ms, namespace={})
    runs = []
    before = count(doc, monitors)
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        net.run(duration * b2.ms, namespace={})
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        after = count(doc, monitors)
        runs.append({"seconds": elapsed, "cpu_seconds": cpu, "spikes": after["spikes"] - before["spikes"],
                     "events": after["events"] - before["events"]})
        before = after
    return runs


def run_standalone(doc: dict, duration: float, repeats: int, threads: int) -> list[dict]:
    # Compiled once; the first execution is the untimed warm-up, then the same program runs
    # `repeats` times (each run builds its network from scratch and simulates `duration`).
    import brian2 as b2
    folder = Path(tempfile.mkdtemp(prefix="locus_brian2_standalone_"))
    runs = []
    try:
        b2.set_device("cpp_standalone", directory=str(folder), build_on_run=False)
        b2.prefs.devices.cpp_standalone.openmp_threads = threads if threads > 1 else 0
        objects, monitors = build(doc, b2)
        net = b2.Network(*objects)
        net.run(duration * b2.ms, namespace={})
        b2.device.build(directory=str(folder), compile=True, run=True, debug=False)
        for _ in range(repeats):
            start = time.perf_counter()
            b2.device.run(directory=str(folder), with_output=False, run_args=None)
            # Brian2's standalone program times its run with std::clock(): process CPU time
            # (summed over OpenMP threads). The wall time here includes starting the program and
            # building its network, so it is not reported as the run's time.
            runs.append({"cpu_seconds": float(b2.device._last_run_time),
                         "program_wall_seconds": time.perf_counter() - start,
                         **count(doc, monitors)})
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--network", required=True, type=Path)
    parser.add_argument("--mode", choices=["runtime", "standalone"], required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--duration", type=float, default=1000.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", required=True)
    args = parser.parse_args()
    import brian2
    doc = load(args.network)
    n = sum(doc["sizes"].values())
    if args.mode == "runtime":
        runs = run_runtime(doc, args.duration, args.repeats)
    else:
        runs = run_standalone(doc, args.duration, args.repeats, args.threads)
    cpu = statistics.median(r["cpu_seconds"] for r in runs)
    wall = [r["seconds"] for r in runs if "seconds" in r]
    seconds = statistics.median(wall) if wall else None
    steps = round(args.duration / doc["dt"])
    spikes = statistics.median(r["spikes"] for r in runs)
    events = statistics.median(r["events"] for r in runs)
    synapses = sum(int(p["synapses"]) for p in doc["projections"])
    result = {
        "name": f"brian2-{args.mode}/n={n}/threads={args.threads}",
        "brian2": brian2.__version__,
        "numpy": np.__version__,
        "neurons": n,
        "threads": args.threads,
        "synapses": synapses,
        "median_seconds": seconds,
        "median_cpu_seconds": cpu,
        "neuron_steps_per_second": n * steps / seconds if seconds else None,
        "neuron_steps_per_cpu_second": n * steps / cpu,
        "synaptic_events": events,
        "synaptic_events_per_second": events / seconds if seconds else None,
        "synaptic_events_per_cpu_second": events / cpu,
        "mean_rate_hz": spikes / n / (args.duration / 1000.0),
        "runs": runs,
    }
    Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"{result['name']}: cpu {cpu:.3f} s, {result['neuron_steps_per_cpu_second'] / 1e6:.2f} M "
          f"neuron-steps per cpu-second, mean rate {result['mean_rate_hz']:.2f} Hz",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
