#!/usr/bin/env python3
"""Writes DIR/report.html (with PNG plots under DIR/plots/) from a finished `locus sweep` directory.

Plots: first-task accuracy over iterations per method (mean over seeds, each seed thin) with the
task boundaries marked and the stability gap shaded (below the pre-switch baseline, the mean of
the last 5 evaluations before each switch, as docs/bench.md defines it); the accuracy of every task
for one seed per method; the NGM gain trace; avg-SG against final accuracy. Then the summary table
(DIR/summary.csv, mean ± sd over seeds).

Usage: make_report.py DIR
"""

import csv
import html
import json
import math
import os
import sys

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:  # the C++ side reports the exit status; say why here
    sys.exit("make_report.py: matplotlib is not installed (pip install -r scripts/requirements.txt)")

BASELINE_WINDOW = 5


def nan(value):
    return float("nan") if value is None else float(value)


class DamagedFile(Exception):
    """A sweep file that does not hold what `locus sweep` writes; the message names file and line."""


def damaged(path, line, problem):
    where = f"{path} line {line}" if line else path
    return DamagedFile(
        f"make_report.py: {where}: {problem}. The file is damaged; stopped, no report written. "
        f"`locus sweep CONFIG --out {os.path.dirname(path) or '.'}` writes it again from the "
        "finished runs in runs/ (it runs none of them again)."
    )


def is_number(value, allow_none=False):
    if value is None:
        return allow_none
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def run_problem(run):
    """What is wrong with one line of results.jsonl, or None: the fields the report reads."""
    if not isinstance(run, dict):
        return f"a run must be a JSON object, got {type(run).__name__}"
    fields = (("method", str), ("seed", int), ("grid", dict), ("metrics", dict), ("record", dict))
    for key, kind in fields:
        if not isinstance(run.get(key), kind) or isinstance(run.get(key), bool):
            return f"'{key}' must be a {kind.__name__}, got {json.dumps(run.get(key))[:80]}"
    for key in ("acc", "avg_sg"):
        if not is_number(run["metrics"].get(key), allow_none=True):
            return f"metrics '{key}' must be a number or null"
    record = run["record"]
    iterations = record.get("iterations")
    if not isinstance(iterations, list) or not all(is_number(v) for v in iterations):
        return "record 'iterations' must be a list of numbers"
    if not isinstance(record.get("block_ends"), list) or not all(is_number(v) for v in record["block_ends"]):
        return "record 'block_ends' must be a list of numbers"
    curves = record.get("curves")
    if not isinstance(curves, list) or not curves:
        return "record 'curves' must be a non-empty list of accuracy curves"
    named = [(f"curves[{j}]", curve) for j, curve in enumerate(curves)] + [("gains", record.get("gains"))]
    for name, series in named:
        if not isinstance(series, list) or len(series) != len(iterations):
            return f"record '{name}' must be a list as long as 'iterations' ({len(iterations)})"
        if not all(is_number(v, allow_none=True) for v in series):
            return f"record '{name}' must hold numbers or null"
    return None


def load(sweep_dir):
    path = os.path.join(sweep_dir, "results.jsonl")
    runs = []
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise damaged(path, number, f"not UTF-8 text ({error.reason} at byte {error.start})")
            if not line.strip():
                continue
            try:
                run = json.loads(line)
            except json.JSONDecodeError as error:
                raise damaged(path, number, f"not valid JSON ({error.msg} at column {error.colno})")
            problem = run_problem(run)
            if problem:
                raise damaged(path, number, problem)
            runs.append(run)
    if not runs:
        sys.exit(f"make_report.py: {path} holds no runs")
    sweep = {}
    sweep_file = os.path.join(sweep_dir, "sweep.json")
    if os.path.exists(sweep_file):
        try:
            with open(sweep_file, encoding="utf-8") as f:
                sweep = json.load(f)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise damaged(sweep_file, getattr(error, "lineno", 0), f"not valid JSON ({error})")
        if not isinstance(sweep, dict):
            raise damaged(sweep_file, 0, "must hold a JSON object")
    return sweep, runs


def group_label(run):
    grid = " ".join(f"{k}={v}" for k, v in run["grid"].items())
    return run["method"] + (f" ({grid})" if grid else "")


def groups_of(runs):
    groups = {}
    for run in runs:
        groups.setdefault(group_label(run), []).append(run)
    return groups


def mean_curve(curves):
    out = []
    for values in zip(*curves):
        finite = [v for v in values if not math.isnan(v)]
        out.append(sum(finite) / len(finite) if finite else float("nan"))
    return out


def shade_gaps(ax, iterations, values, block_ends):
    """Marks the boundaries and shades where the curve is below its pre-switch baseline."""
    for end in block_ends[:-1]:
        ax.axvline(end, color="0.55", linestyle="--", linewidth=0.8)
    for k in range(len(block_ends) - 1):
        start = block_ends[k - 1] if k > 0 else 0
        before = [v for t, v in zip(iterations, values) if start < t <= block_ends[k] and not math.isnan(v)]
        if not before:
            continue
        baseline = sum(before[-BASELINE_WINDOW:]) / len(before[-BASELINE_WINDOW:])
        ts = [t for t in iterations if block_ends[k] <= t <= block_ends[k + 1]]
        vs = [values[iterations.index(t)] for t in ts]
        ax.hlines(baseline, block_ends[k], block_ends[k + 1], colors="tab:red", linewidth=0.6, alpha=0.6)
        ax.fill_between(ts, vs, [baseline] * len(ts), where=[v < baseline for v in vs],
                        color="tab:red", alpha=0.25, interpolate=True, linewidth=0)


def grid_axes(n, width=4.2, height=2.8):
    cols = min(3, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False, sharey=True)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def plot_first_task(groups, path):
    fig, axes = grid_axes(len(groups))
    for ax, (label, runs) in zip(axes, groups.items()):
        iterations = runs[0]["record"]["iterations"]
        curves = [[nan(v) for v in run["record"]["curves"][0]] for run in runs]
        for curve in curves:
            ax.plot(iterations, curve, color="tab:blue", alpha=0.3, linewidth=0.7)
        mean = mean_curve(curves)
        ax.plot(iterations, mean, color="tab:blue", linewidth=1.5)
        shade_gaps(ax, iterations, mean, runs[0]["record"]["block_ends"])
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("iteration")
        ax.set_ylim(-0.02, 1.02)
    axes[0].set_ylabel("task-1 accuracy")
    fig.suptitle("First-task accuracy (mean over seeds; boundaries dashed, gap shaded)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_tasks(groups, path):
    fig, axes = grid_axes(len(groups))
    for ax, (label, runs) in zip(axes, groups.items()):
        run = runs[0]
        record = run["record"]
        for j, curve in enumerate(record["curves"]):
            ax.plot(record["iterations"], [nan(v) for v in curve], linewidth=1.0, label=f"task {j + 1}")
        for end in record["block_ends"][:-1]:
            ax.axvline(end, color="0.55", linestyle="--", linewidth=0.8)
        ax.set_title(f"{label}, seed {run['seed']}", fontsize=9)
        ax.set_xlabel("iteration")
        ax.set_ylim(-0.02, 1.02)
    axes[0].set_ylabel("accuracy")
    axes[0].legend(fontsize=7, loc="lower left")
    fig.suptitle("Accuracy of every task seen so far", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_gain(groups, path):
    with_gain = {label: runs for label, runs in groups.items()
                 if any(v is not None for v in runs[0]["record"]["gains"])}
    if not with_gain:
        return False
    fig, ax = plt.subplots(figsize=(7, 3.2))
    for label, runs in with_gain.items():
        record = runs[0]["record"]
        ax.plot(record["iterations"], [nan(v) for v in record["gains"]], label=label, linewidth=1.0)
    for end in next(iter(with_gain.values()))[0]["record"]["block_ends"][:-1]:
        ax.axvline(end, color="0.55", linestyle="--", linewidth=0.8)
    ax.set_xlabel("iteration")
    ax.set_ylabel("gain g")
    ax.set_title("Weight gain at each evaluation (seed of the first run)", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def stats(values):
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        return float("nan"), float("nan")
    mean = sum(finite) / len(finite)
    if len(finite) < 2:
        return mean, 0.0
    return mean, math.sqrt(sum((v - mean) ** 2 for v in finite) / (len(finite) - 1))


def plot_sg_vs_acc(groups, path):
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for label, runs in groups.items():
        sg = stats([nan(r["metrics"]["avg_sg"]) for r in runs])
        acc = stats([nan(r["metrics"]["acc"]) for r in runs])
        if math.isnan(sg[0]) or math.isnan(acc[0]):
            continue
        ax.errorbar(acc[0], sg[0], xerr=acc[1], yerr=sg[1], fmt="o", capsize=3, label=label)
    ax.set_xlabel("final accuracy (ACC)")
    ax.set_ylabel("avg-SG (first task)")
    ax.set_title("Stability gap against final accuracy (mean ± sd over seeds)", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def summary_table(sweep_dir):
    path = os.path.join(sweep_dir, "summary.csv")
    if not os.path.exists(path):
        return "<p>(no summary.csv)</p>"
    try:
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
    except (UnicodeDecodeError, csv.Error) as error:
        raise damaged(path, 0, f"not a CSV file ({error})")
    metrics = [("acc", "ACC"), ("bwt", "BWT"), ("fwt", "FWT"), ("forgetting", "forgetting"),
               ("avg_sg", "avg-SG"), ("min_acc", "min-ACC"), ("wc_acc", "WC-ACC"),
               ("gap_depth", "gap depth"), ("gap_recovery", "recovery (it)"), ("gap_area", "gap area"),
               ("mean_gain", "mean gain"), ("parameter_count", "params"), ("bytes_per_task", "bytes/task"),
               ("steps_per_second", "steps/s")]
    head = "".join(f"<th>{html.escape(t)}</th>" for t in ["method", "runs"] + [t for _, t in metrics])
    body = []
    columns = ["method", "grid", "runs"] + [f"{key}_{part}" for key, _ in metrics for part in ("mean", "sd")]
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        missing = [c for c in columns if row.get(c) is None]
        if missing:
            raise damaged(path, number, f"no value for {', '.join(missing[:3])}")
        label = row["method"] + (f" ({row['grid']})" if row["grid"] else "")
        cells = [html.escape(label), html.escape(row["runs"])]
        for key, _ in metrics:
            mean, sd = row[f"{key}_mean"], row[f"{key}_sd"]
            if mean == "":
                cells.append("–")
                continue
            try:
                mean, sd = float(mean), (float(sd) if sd != "" else None)
            except ValueError:
                raise damaged(path, number, f"'{key}_mean' or '{key}_sd' is not a number")
            digits = 0 if key in ("parameter_count", "bytes_per_task", "steps_per_second") else 3
            text = f"{mean:.{digits}f}"
            if sd is not None:
                text += f" ± {sd:.{digits}f}"
            cells.append(text)
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_report.py SWEEP_DIR")
    sweep_dir = sys.argv[1]
    sweep, runs = load(sweep_dir)
    table = summary_table(sweep_dir)  # before the plots: a damaged file stops before any output
    groups = groups_of(runs)
    plots = os.path.join(sweep_dir, "plots")
    os.makedirs(plots, exist_ok=True)
    plot_first_task(groups, os.path.join(plots, "first_task.png"))
    plot_tasks(groups, os.path.join(plots, "tasks.png"))
    has_gain = plot_gain(groups, os.path.join(plots, "gain.png"))
    plot_sg_vs_acc(groups, os.path.join(plots, "sg_vs_acc.png"))
    name = html.escape(sweep.get("name", os.path.basename(os.path.abspath(sweep_dir))))
    images = ["first_task.png", "tasks.png"] + (["gain.png"] if has_gain else []) + ["sg_vs_acc.png"]
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>locus sweep {name}</title>
<style>body{{font-family:sans-serif;max-width:1300px;margin:auto}} table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #bbb;padding:3px 6px;text-align:right}} td:first-child{{text-align:left}}
img{{max-width:100%}}</style></head><body>
<h1>locus sweep: {name}</h1>
<p>{len(runs)} runs, {len(groups)} methods, seeds {html.escape(str(sweep.get('seeds', '?')))}.
Metrics as docs/bench.md defines them; avg-SG, gap depth, recovery and area are taken on the first task's
curve. A method can close the gap by learning less, so read avg-SG together with ACC and min-ACC.</p>
<h2>Summary (mean ± sd over seeds)</h2>
{table}
<h2>Plots</h2>
{''.join(f'<p><img src="plots/{i}" alt="{i}"></p>' for i in images)}
</body></html>
"""
    out = os.path.join(sweep_dir, "report.html")
    with open(out + ".tmp", "w") as f:
        f.write(page)
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    try:
        main()
    except DamagedFile as error:
        sys.exit(str(error))
