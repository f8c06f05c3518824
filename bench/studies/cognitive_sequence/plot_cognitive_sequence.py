#!/usr/bin/env python3
"""Plots a `locus sweep bench/studies/cognitive_sequence/cognitive_sequence.yaml` folder: DIR/cognitive_sequence.png
(written atomically) and a table of each task's final accuracy on stdout.

Left, one panel per sequential method (no `separate: true`): each task's held-out accuracy through
the sequence (mean over seeds), with the task boundaries; a task's curve starts when it is first
trained. Right: each task's accuracy at the end of the sequence, beside the same network trained on
that task alone (the `-alone` methods' R[j][j]), mean +- sd over seeds.

    python3 bench/studies/cognitive_sequence/plot_cognitive_sequence.py DIR
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def mean_sd(values: list[float]) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    sd = (sum((v - mean) ** 2 for v in values) / (n - 1)) ** 0.5 if n > 1 else 0.0
    return mean, sd


def read_runs(folder: Path) -> dict[str, list[dict]]:
    by_method: dict[str, list[dict]] = defaultdict(list)
    with open(folder / "results.jsonl", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                run = json.loads(line)
                by_method[run["method"]].append(run)
    if not by_method:
        raise SystemExit(f"{folder}/results.jsonl holds no runs")
    return by_method


def task_names(run: dict) -> list[str]:
    return [t["id"].removesuffix("-v0") for t in run["scenario"]["tasks"]]


def final_accuracies(runs: list[dict], alone: bool) -> list[tuple[float, float]]:
    """Per task: mean, sd over seeds of R[T-1][j] (sequence) or R[j][j] (trained alone)."""
    tasks = runs[0]["record"]["num_tasks"]
    out = []
    for j in range(tasks):
        row = [(r["record"]["matrix"][j][j] if alone else r["record"]["matrix"][-1][j]) for r in runs]
        out.append(mean_sd(row))
    return out


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    folder = Path(sys.argv[1])
    by_method = read_runs(folder)
    sequential = [m for m, runs in by_method.items() if not runs[0]["settings"].get("separate")]
    names = task_names(next(iter(by_method.values()))[0])
    fig, axes = plt.subplots(1, len(sequential) + 1, figsize=(5 * (len(sequential) + 1), 4),
                             squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, method in zip(axes[0], sequential):
        runs = by_method[method]
        record = runs[0]["record"]
        for j, name in enumerate(names):
            points = []
            for i, iteration in enumerate(record["iterations"]):
                values = [r["record"]["curves"][j][i] for r in runs]
                values = [v for v in values if v is not None and not math.isnan(v)]
                if values and (j == 0 or iteration >= record["block_ends"][j - 1]):
                    points.append((iteration, sum(values) / len(values)))
            if points:
                ax.plot(*zip(*points), color=colors[j % len(colors)], label=name)
        for end in record["block_ends"][:-1]:
            ax.axvline(end, color="grey", linewidth=0.6, linestyle=":")
        ax.set_title(f"{method} ({len(runs)} seeds)")
        ax.set_xlabel("training windows")
        ax.set_ylabel("held-out accuracy")
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=8, loc="lower left")
    ax = axes[0][-1]
    width = 0.8 / max(1, len(by_method))
    print(f"{'method':<20}" + "".join(f"{n:>28}" for n in names))
    for k, (method, runs) in enumerate(by_method.items()):
        alone = bool(runs[0]["settings"].get("separate"))
        stats = final_accuracies(runs, alone)
        label = f"{method} ({'R[j][j], trained alone' if alone else 'end of sequence'})"
        xs = [j + (k - (len(by_method) - 1) / 2) * width for j in range(len(names))]
        ax.bar(xs, [m for m, _ in stats], width, yerr=[s for _, s in stats], label=label,
               color=colors[k % len(colors)], alpha=0.85)
        print(f"{method:<20}" + "".join(f"{m:>20.3f} +- {s:.3f}" for m, s in stats))
    ax.set_xticks(range(len(names)), names, rotation=20, fontsize=8)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("final accuracy")
    ax.set_title("each task at the end vs trained alone")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2)
    fig.tight_layout()
    target = folder / "cognitive_sequence.png"
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".png")
    os.close(handle)
    fig.savefig(temporary, dpi=110)
    os.replace(temporary, target)
    print(f"figure: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
