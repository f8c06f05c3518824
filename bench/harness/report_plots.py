"""The plots of a sweep's report (make_report.py): every seed drawn, the stability gap as the table
states it.

The stability gap SG_k at boundary k is computed here exactly as bench/harness/metrics.cpp does for
the table, per seed on the first task's curve: A_before = the last evaluation at or before the
switch (the boundary evaluation belongs to the block before), the dip = the lowest evaluation
after the switch and up to the next one, SG_k = (A_before - dip) / A_before; the table's avg-SG is
the mean over boundaries, then over seeds. The first-task plot draws, per boundary, the seeds' mean
A_before (a red line across the next block), their mean dip (a red bar down from it at the dip's
place) and the mean SG_k, so the picture and the number are the same quantity.
"""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

BOUNDARY_STYLE = {"color": "0.55", "linestyle": "--", "linewidth": 0.8}
MARKERS = "osD^v<>pPX*h"


def nan(value):
    return float("nan") if value is None else float(value)


def method_style(index):
    """A colour and marker per method: 20 colours, then the markers tell apart what repeats."""
    colours = plt.get_cmap("tab20").colors
    return {"color": colours[(2 * index) % 20 if index < 10 else (2 * index + 1) % 20],
            "marker": MARKERS[(index // 10) % len(MARKERS)]}


def mean_curve(curves):
    out = []
    for values in zip(*curves):
        finite = [v for v in values if not math.isnan(v)]
        out.append(sum(finite) / len(finite) if finite else float("nan"))
    return out


def gap_at(iterations, values, block_ends, k):
    """(A_before, dip, its iteration, SG_k) at boundary k of one seed's curve; None when undefined
    (metrics.cpp's stability_gap)."""
    before = [v for t, v in zip(iterations, values) if t <= block_ends[k] and not math.isnan(v)]
    after = [(v, t) for t, v in zip(iterations, values)
             if block_ends[k] < t <= block_ends[k + 1] and not math.isnan(v)]
    if not before or before[-1] == 0.0 or not after:
        return None
    dip, at = min(after)
    return before[-1], dip, at, (before[-1] - dip) / before[-1]


def mean_gap(runs, k):
    """The seeds' mean (A_before, dip, dip iteration, SG_k) at boundary k, or None."""
    gaps = []
    for run in runs:
        record = run["record"]
        gap = gap_at(record["iterations"], [nan(v) for v in record["curves"][0]],
                     record["block_ends"], k)
        if gap is not None:
            gaps.append(gap)
    if not gaps:
        return None
    return tuple(sum(g[i] for g in gaps) / len(gaps) for i in range(4))


def grid_axes(n, width=4.2, height=2.8):
    cols = min(3, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False,
                             sharey=True)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_first_task(groups, path, excluded=()):
    """First-task accuracy per method with each switch's gap; methods in `excluded` (no sequence
    learned, see make_report.py) without the gap."""
    fig, axes = grid_axes(len(groups))
    for ax, (label, runs) in zip(axes, groups.items()):
        record = runs[0]["record"]
        iterations, block_ends = record["iterations"], record["block_ends"]
        curves = [[nan(v) for v in run["record"]["curves"][0]] for run in runs]
        for curve in curves:
            ax.plot(iterations, curve, color="tab:blue", alpha=0.3, linewidth=0.7)
        mean = mean_curve(curves)
        ax.plot(iterations, mean, color="tab:blue", linewidth=1.5)
        for end in block_ends[:-1]:
            ax.axvline(end, **BOUNDARY_STYLE)
        if label in excluded:
            ax.set_title(f"{label}: avg-SG n/a (no sequence)", fontsize=9)
            ax.set_xlabel("iteration")
            ax.set_ylim(-0.02, 1.02)
            continue
        for k in range(len(block_ends) - 1):
            gap = mean_gap(runs, k)
            if gap is None:
                continue
            level, dip, at, sg = gap
            ax.hlines(level, block_ends[k], block_ends[k + 1], colors="tab:red", linewidth=0.8)
            ts = [t for t in iterations if block_ends[k] < t <= block_ends[k + 1]]
            vs = [mean[iterations.index(t)] for t in ts]
            ax.fill_between(ts, vs, [level] * len(ts), where=[v < level for v in vs],
                            color="tab:red", alpha=0.2, interpolate=True, linewidth=0)
            ax.vlines(at, dip, level, colors="tab:red", linewidth=2.0)
            ax.annotate(f"{sg:.3f}", (at, dip), textcoords="offset points", xytext=(3, -9),
                        fontsize=7, color="tab:red")
        avg = [nan(run["metrics"].get("avg_sg")) for run in runs]
        avg = [v for v in avg if not math.isnan(v)]
        table = f"avg-SG {sum(avg) / len(avg):.3f}" if avg else "avg-SG -"
        ax.set_title(f"{label}: {table}", fontsize=9)
        ax.set_xlabel("iteration")
        ax.set_ylim(-0.02, 1.02)
    axes[0].set_ylabel("task-1 accuracy")
    fig.suptitle("First-task accuracy, every seed (thin) and their mean; red: each switch's "
                 "accuracy before it, the mean dip after it and SG_k (the table's avg-SG is their "
                 "mean)", fontsize=9)
    save(fig, path)


def plot_tasks(groups, path):
    fig, axes = grid_axes(len(groups))
    colours = plt.get_cmap("tab10").colors
    for ax, (label, runs) in zip(axes, groups.items()):
        record = runs[0]["record"]
        iterations = record["iterations"]
        for j in range(len(record["curves"])):
            curves = [[nan(v) for v in run["record"]["curves"][j]] for run in runs]
            colour = colours[j % 10]
            for curve in curves:
                ax.plot(iterations, curve, color=colour, alpha=0.25, linewidth=0.6)
            ax.plot(iterations, mean_curve(curves), color=colour, linewidth=1.3,
                    label=f"task {j + 1}")
        for end in record["block_ends"][:-1]:
            ax.axvline(end, **BOUNDARY_STYLE)
        ax.set_title(f"{label} ({len(runs)} seeds)", fontsize=9)
        ax.set_xlabel("iteration")
        ax.set_ylim(-0.02, 1.02)
    axes[0].set_ylabel("accuracy")
    axes[0].legend(fontsize=7, loc="lower left")
    fig.suptitle("Accuracy of every task seen so far: each seed (thin) and their mean", fontsize=10)
    save(fig, path)


def plot_gain(groups, path):
    with_gain = {label: runs for label, runs in groups.items()
                 if any(v is not None for run in runs for v in run["record"]["gains"])}
    if not with_gain:
        return False
    fig, ax = plt.subplots(figsize=(7, 3.2))
    for index, (label, runs) in enumerate(with_gain.items()):
        iterations = runs[0]["record"]["iterations"]
        curves = [[nan(v) for v in run["record"]["gains"]] for run in runs]
        colour = method_style(index)["color"]
        for curve in curves:
            ax.plot(iterations, curve, color=colour, alpha=0.3, linewidth=0.6)
        ax.plot(iterations, mean_curve(curves), color=colour, linewidth=1.2, label=label)
    for end in next(iter(with_gain.values()))[0]["record"]["block_ends"][:-1]:
        ax.axvline(end, **BOUNDARY_STYLE)
    ax.set_xlabel("iteration")
    ax.set_ylabel("gain g")
    ax.set_title("Weight gain at each evaluation: each seed (thin) and their mean", fontsize=10)
    ax.legend(fontsize=7)
    save(fig, path)
    return True


def stats(values):
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        return float("nan"), float("nan")
    mean = sum(finite) / len(finite)
    if len(finite) < 2:
        return mean, 0.0
    return mean, math.sqrt(sum((v - mean) ** 2 for v in finite) / (len(finite) - 1))


def plot_sg_vs_acc(groups, path, excluded=()):
    """avg-SG against ACC per method (mean ± sd over seeds); methods in `excluded` (whose metrics
    mean nothing, see make_report.py) are left out."""
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for index, (label, runs) in enumerate(groups.items()):
        if label in excluded:
            continue
        sg = stats([nan(r["metrics"].get("avg_sg")) for r in runs])
        acc = stats([nan(r["metrics"].get("acc")) for r in runs])
        if math.isnan(sg[0]) or math.isnan(acc[0]):
            continue
        style = method_style(index)
        ax.errorbar(acc[0], sg[0], xerr=acc[1], yerr=sg[1], fmt=style["marker"],
                    color=style["color"], capsize=3, label=label)
    ax.set_xlabel("final accuracy (ACC)")
    ax.set_ylabel("avg-SG (first task)")
    ax.set_title("Stability gap against final accuracy (mean ± sd over seeds)", fontsize=10)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    save(fig, path)
