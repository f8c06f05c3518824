"""Plots the dopamine (TD error) shift of a `locus train` run on GoNoGo-v0.

Usage: python docs/plot_dopamine_shift.py RUN_DIR docs/dopamine_shift.png
The run must trace several envs (config key trace_envs) and have a fixation period before the
stimulus (env_kwargs timing fixation 200), as docs/gonogo_dopamine.json does. Plots the mean TD
error delta at each step of Go trials that ended in a hit, early (first 3 updates) and late (last
5 updates) in training.
"""

import csv
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(run_dir, out_png):
    rows = list(csv.DictReader(open(f"{run_dir}/dopamine_trace.csv")))
    last = max(int(r["update"]) for r in rows)
    # Group transitions by (update, env) trial; keep Go trials that ended in a hit (reward > 0).
    trials = defaultdict(list)
    start = {}
    for r in rows:
        key = (r["env"],)
        if key not in start or start[key] is None:
            start[key] = (int(r["update"]), r["env"], int(r["step"]))
        trials[start[key]].append(r)
        if r["trial_ended"] == "1" or r["terminated"] == "1" or r["truncated"] == "1":
            start[key] = None
    curves = {"early (updates 1-3)": defaultdict(list), f"late (updates {last - 4}-{last})":
              defaultdict(list)}
    early, late = curves.keys()
    for (update, _, _), steps in trials.items():
        end = steps[-1]
        if end["ground_truth"] != "1" or float(end["reward"]) <= 0:
            continue
        group = early if update <= 3 else late if update > last - 5 else None
        if group is None:
            continue
        for r in steps:
            position = "reward" if r["trial_ended"] == "1" else int(r["step_in_trial"])
            curves[group][position].append(float(r["delta"]))
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for label, data in curves.items():
        xs = sorted(k for k in data if k != "reward")
        ys = [sum(data[k]) / len(data[k]) for k in xs]
        reward = sum(data["reward"]) / len(data["reward"])
        line, = ax.plot(xs, ys, marker="o", label=label)
        ax.plot([17], [reward], marker="*", markersize=12, color=line.get_color())
    ax.axvline(1, color="gray", linestyle=":", linewidth=1)
    ax.text(1.1, ax.get_ylim()[1] * 0.9, "step 1: transition into the cue", fontsize=8, color="gray")
    ax.set_xlabel("step within the Go trial (star at 17: the rewarded response)")
    ax.set_ylabel("mean TD error delta")
    ax.set_title("Dopamine shift on GoNoGo-v0 (A2C, modulation da)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
