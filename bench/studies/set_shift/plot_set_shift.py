#!/usr/bin/env python3
"""Plots a `locus study set-shift` folder: DIR/set_shift.png (written atomically).

Left: trials to criterion after a rule flip, one dot per seed (mean over flips and envs), per
modulation. Middle: H(A|C) in bins of trials around the flips (mean over seeds, band +- sd).
Then the share of correct trials, and the mean noradrenaline gain on the policy, in the same bins.

    python3 bench/studies/set_shift/plot_set_shift.py DIR
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def mean_sd(values: list[float]) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    sd = (sum((v - mean) ** 2 for v in values) / (n - 1)) ** 0.5 if n > 1 else 0.0
    return mean, sd


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    folder = Path(sys.argv[1])
    runs = read(folder / "runs.csv")
    bins = read(folder / "entropy.csv")
    modulations = list(dict.fromkeys(r["modulation"] for r in runs))
    colors = dict(zip(modulations, ["tab:blue", "tab:orange", "tab:green", "tab:red"]))

    fig, axes = plt.subplots(1, 4, figsize=(18, 4.2))
    ax = axes[0]
    for k, modulation in enumerate(modulations):
        values = [float(r["mean_trials_to_criterion"]) for r in runs
                  if r["modulation"] == modulation]
        ax.scatter([k + (i % 5 - 2) * 0.04 for i in range(len(values))], values,
                   color=colors[modulation], alpha=0.7)
        mean, sd = mean_sd(values)
        ax.errorbar([k + 0.25], [mean], yerr=[sd], fmt="o", color="black", capsize=4)
    ax.set_xticks(range(len(modulations)), modulations)
    ax.set_xlim(-0.6, len(modulations) - 0.4)
    ax.set_ylabel("trials to criterion after a flip")
    ax.set_title("Relearning after a rule flip (dot: one seed)")

    for ax, column, label in ((axes[1], "entropy_bits", "H(A|C), bits"),
                              (axes[2], "accuracy", "share of trials correct"),
                              (axes[3], "gain", "noradrenaline gain (policy head)")):
        for modulation in modulations:
            by_start = defaultdict(list)
            for row in bins:
                if row["modulation"] == modulation and row[column] != "":
                    by_start[int(row["start"])].append(float(row[column]))
            starts = sorted(by_start)
            stats = [mean_sd(by_start[s]) for s in starts]
            means = [m for m, _ in stats]
            sds = [s for _, s in stats]
            ax.plot(starts, means, marker=".", color=colors[modulation], label=modulation)
            ax.fill_between(starts, [m - s for m, s in zip(means, sds)],
                            [m + s for m, s in zip(means, sds)], color=colors[modulation],
                            alpha=0.2)
        ax.axvline(0, color="grey", linestyle="--", linewidth=1)
        ax.set_xlabel("trials from the flip (bin start)")
        ax.set_ylabel(label)
        ax.legend()
    axes[1].set_title("Conditional action entropy around the flips")
    axes[2].set_title("Accuracy around the flips")
    axes[3].set_title("Gain around the flips")
    fig.tight_layout()

    out = folder / "set_shift.png"
    fd, tmp = tempfile.mkstemp(prefix=".set_shift.", suffix=".png", dir=folder)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        os.unlink(tmp)
        raise
    print(f"plot: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
