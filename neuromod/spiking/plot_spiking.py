#!/usr/bin/env python3
"""Plots of the spiking-circuit experiments from the CSV files that `locus spiking` writes.

    python neuromod/spiking/plot_spiking.py gain|inhibition|plasticity|gating DIR

Reads DIR/<kind>_*.csv and writes DIR/<kind>.png (atomically: temp file + rename). Needs
matplotlib (in .venv: scripts/requirements.txt).
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
import textwrap
from collections import OrderedDict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def by_condition(rows: list[dict[str, str]]) -> "OrderedDict[str, list[dict[str, str]]]":
    groups: OrderedDict[str, list[dict[str, str]]] = OrderedDict()
    for row in rows:
        groups.setdefault(row["condition"], []).append(row)
    return groups


def save(figure, path: Path) -> None:
    # A reader never sees a half-written PNG: write beside it, then rename.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        figure.savefig(tmp, dpi=120, bbox_inches="tight")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    plt.close(figure)
    print(f"plot: wrote {path}")


def change_label(change: dict[str, str] | None) -> str:
    """How a curve differs from its reference (the *_change.csv row), for its legend entry."""
    if change is None:
        return "reference"
    if change["kind"] == "too few points":
        return "too few points above threshold"
    return (f"{change['kind']}: {float(change['shift_only']):+.1f} Hz or "
            f"x{float(change['scale_only']):.2f}")


def change_panel(curves: dict[str, list[dict[str, str]]], changes: list[dict[str, str]],
                 colors: dict[str, str], axis) -> None:
    """Each curve against its reference at the same inputs: a shift runs parallel to the
    diagonal, a scaling passes through the origin at another slope."""
    top = 0.0
    for change in changes:
        reference = [float(r["rate"]) for r in curves[change["reference"]]]
        rates = [float(r["rate"]) for r in curves[change["condition"]]]
        axis.plot(reference, rates, marker="o", markersize=3, color=colors[change["condition"]],
                  label=f"{change['condition']}: {change['kind']}")
        top = max(top, *reference, *rates)
    axis.plot([0.0, top], [0.0, top], color="0.6", linewidth=0.8, label="no change")
    axis.set_xlabel("reference curve's rate (Hz)")
    axis.set_ylabel("condition's rate at the same input (Hz)")
    axis.set_title("shift (parallel) or scale (through 0)?")
    axis.legend(fontsize=6)


def gain_panels(curves: Path, changes: Path, axes, title: str) -> None:
    change_rows = read_rows(changes) if changes.exists() else []
    change_of = {row["condition"]: row for row in change_rows}
    rate_axis, burst_axis = axes[:2]
    by_curve = by_condition(read_rows(curves))
    colors = {}
    for condition, rows in by_curve.items():
        x = [float(r["input"]) / 1000.0 for r in rows]
        y = [float(r["rate"]) for r in rows]
        sd = [float(r["rate_sd"]) for r in rows]
        line = rate_axis.errorbar(x, y, yerr=sd, marker="o", markersize=3, capsize=2,
                                  label=f"{condition} ({change_label(change_of.get(condition))})")
        colors[condition] = line[0].get_color()
        burst_axis.plot(x, [float(r["burst_fraction"]) for r in rows], marker="o", markersize=3,
                        color=colors[condition], label=condition)
    rate_axis.set_xlabel("somatic input (kHz of Poisson spikes)")
    rate_axis.set_ylabel("pyramidal rate (Hz)")
    rate_axis.set_title(title)
    rate_axis.legend(fontsize=7)
    burst_axis.set_xlabel("somatic input (kHz of Poisson spikes)")
    burst_axis.set_ylabel("burst fraction (bursts / events)")
    burst_axis.set_ylim(0.0, 1.0)
    burst_axis.set_title("bursts")
    if len(axes) > 2 and change_rows:
        change_panel(by_curve, change_rows, colors, axes[2])


def plot_gain(folder: Path) -> None:
    traces_path = folder / "gain_traces.csv"
    has_traces = traces_path.exists()
    figure, axes = plt.subplots(1, 4 if has_traces else 3, figsize=(23 if has_traces else 17, 5))
    gain_panels(folder / "gain_curves.csv", folder / "gain_change.csv", axes[:3],
                "rate vs input: dendritic drive and coupling")
    if has_traces:
        axis = axes[3]
        groups = by_condition([{**r, "condition": r["label"]} for r in read_rows(traces_path)])
        for offset, (label, rows) in enumerate(groups.items()):
            t = [float(r["time"]) for r in rows]
            axis.plot(t, [float(r["soma"]) + 120.0 * offset for r in rows], linewidth=0.6,
                      label=f"{label}: soma")
            axis.plot(t, [float(r["dendrite"]) + 120.0 * offset for r in rows], linewidth=0.6,
                      linestyle="--", label=f"{label}: dendrite")
        axis.set_xlabel("time (ms)")
        axis.set_ylabel("membrane potential (mV, traces offset by 120)")
        axis.set_title("one pyramidal cell")
        axis.legend(fontsize=6)
    save(figure, folder / "gain.png")


def plot_inhibition(folder: Path) -> None:
    figure, axes = plt.subplots(1, 3, figsize=(17, 5))
    gain_panels(folder / "inhibition_curves.csv", folder / "inhibition_change.csv", axes,
                "SOM (dendrite) vs PV (soma) inhibition raised")
    summary = read_rows(folder / "inhibition_summary.csv")
    text = "\n".join(f"{r['condition']}: threshold {float(r['threshold']):.0f} Hz" for r in summary)
    axes[0].text(0.98, 0.02, text, transform=axes[0].transAxes, fontsize=7, ha="right",
                 va="bottom")
    save(figure, folder / "inhibition.png")


def plot_plasticity(folder: Path) -> None:
    summary = read_rows(folder / "plasticity_summary.csv")
    weights = by_condition(read_rows(folder / "plasticity_weights.csv"))
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for condition, rows in weights.items():
        axes[0].plot([float(r["time"]) for r in rows], [float(r["mean"]) for r in rows],
                     label=condition)
    axes[0].set_xlabel("time (ms)")
    axes[0].set_ylabel("mean plastic weight (nS)")
    axes[0].set_title("STDP: weights over time (first seed)")
    axes[0].legend(fontsize=7)
    labels = [r["condition"] for r in summary]
    positions = range(len(labels))
    signed = [float(r["weight_change_per_s"]) for r in summary]
    errors = [float(r["weight_change_sd"]) for r in summary]
    magnitude = [float(r["abs_weight_change_per_s"]) for r in summary]
    axes[1].bar([p - 0.2 for p in positions], signed, width=0.4, yerr=errors, capsize=3,
                label="mean dw/dt")
    axes[1].bar([p + 0.2 for p in positions], magnitude, width=0.4, label="mean |dw|/dt")
    axes[1].set_xticks(list(positions))
    # Each bar group names its post rate and bursts: a rate-matched tonic control sits beside the
    # bursting condition it matches.
    axes[1].set_xticklabels([
        "\n".join(textwrap.wrap(label, 24)) + f"\n{float(r['post_rate']):.1f} Hz, "
        f"bursts {float(r['burst_fraction']):.2f}" for label, r in zip(labels, summary)],
        fontsize=7)
    axes[1].set_ylabel("weight change (nS/s per synapse)")
    axes[1].set_title("STDP with and without bursting, and at the same rate")
    axes[1].legend(fontsize=7)
    save(figure, folder / "plasticity.png")


def plot_gating(folder: Path) -> None:
    profiles = OrderedDict()
    for row in read_rows(folder / "gating_profile.csv"):
        profiles.setdefault(row["pv_strength"], []).append(row)
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for strength, rows in profiles.items():
        distance = [float(r["distance"]) for r in rows]
        evoked = [float(r["evoked"]) for r in rows]
        spread = [float(r["evoked_sd"]) for r in rows]
        label = f"PV x{float(strength):g}" + (" (control: no PV inhibition)"
                                              if float(strength) == 0 else "")
        axes[0].errorbar(distance, evoked, yerr=spread, marker="o", capsize=3, label=label)
        axes[1].plot(distance, [float(r["rate_off"]) for r in rows], marker="o", label=label)
    axes[0].axhline(0.0, color="0.6", linewidth=0.8)
    axes[0].set_xlabel("distance from the stimulus (ring circumferences)")
    axes[0].set_ylabel("evoked rate: with - without stimulus (Hz)")
    axes[0].set_title("Neighbours of a stimulated patch")
    axes[0].legend(fontsize=7)
    axes[1].set_xlabel("distance from the stimulus (ring circumferences)")
    axes[1].set_ylabel("rate without the stimulus (Hz)")
    axes[1].set_title("Baseline: PV lowers every cell's rate")
    axes[1].legend(fontsize=7)
    save(figure, folder / "gating.png")


def main() -> int:
    kinds = {"gain": plot_gain, "inhibition": plot_inhibition, "plasticity": plot_plasticity,
             "gating": plot_gating}
    if len(sys.argv) != 3 or sys.argv[1] not in kinds:
        print(f"usage: {sys.argv[0]} {'|'.join(kinds)} DIR", file=sys.stderr)
        return 2
    folder = Path(sys.argv[2])
    if not folder.is_dir():
        print(f"plot_spiking: {folder} is not a folder", file=sys.stderr)
        return 2
    kinds[sys.argv[1]](folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
