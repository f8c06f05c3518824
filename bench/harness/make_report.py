#!/usr/bin/env python3
"""Writes DIR/report.html (with PNG plots under DIR/plots/) from a finished `locus sweep` directory.

The page: one line per method made from its settings (report_text.py), the summary tables
(DIR/summary.csv, mean ± sd over seeds; a metric that means nothing for a method shows n/a), the
plots (report_plots.py: first-task accuracy with each switch's stability gap drawn as the table
computes it, every task's accuracy, the NGM gain, avg-SG against ACC; every seed drawn), and the
metrics' definitions.

Usage: make_report.py DIR
"""

import csv
import html
import json
import os
import sys

try:
    import matplotlib  # noqa: F401
except ImportError:  # the C++ side reports the exit status; say why here
    sys.exit("make_report.py: matplotlib is not installed (pip install -r scripts/requirements.txt)")

from report_plots import plot_first_task, plot_gain, plot_sg_vs_acc, plot_tasks  # noqa: E402
from report_text import (  # noqa: E402
    METRICS,
    describe,
    not_meaningful,
    shared_settings_text,
    varying_settings,
)


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


# Columns of summary.csv newer than some sweeps on disk.
ADDED_LATER = {"avg_sg_of_mean_curve"}


def read_summary(sweep_dir):
    """summary.csv's rows: (label, runs, {metric: (mean, sd or None) or None}) per method."""
    path = os.path.join(sweep_dir, "summary.csv")
    if not os.path.exists(path):
        return []
    try:
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
    except (UnicodeDecodeError, csv.Error) as error:
        raise damaged(path, 0, f"not a CSV file ({error})")
    # A summary written before a column existed lacks it: that metric shows "–".
    columns = ["method", "grid", "runs"] + [f"{key}_{part}" for key, _, _ in METRICS
                                            if key not in ADDED_LATER for part in ("mean", "sd")]
    out = []
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        missing = [c for c in columns if row.get(c) is None]
        if missing:
            raise damaged(path, number, f"no value for {', '.join(missing[:3])}")
        values = {}
        for key, _, _ in METRICS:
            mean, sd = row.get(f"{key}_mean") or "", row.get(f"{key}_sd") or ""
            if mean == "":
                values[key] = None
                continue
            try:
                values[key] = (float(mean), float(sd) if sd != "" else None)
            except ValueError:
                raise damaged(path, number, f"'{key}_mean' or '{key}_sd' is not a number")
        label = row["method"] + (f" ({row['grid']})" if row["grid"] else "")
        out.append((label, row["runs"], values))
    return out


def table(rows, keys, meaningless):
    """An HTML table of `keys` (METRICS keys) for the summary's rows; a metric that means nothing
    for a method shows n/a, with the reason as its tooltip."""
    titles = {key: (title, definition) for key, title, definition in METRICS}
    head = "<th>method</th><th>runs</th>" + "".join(
        f'<th title="{html.escape(titles[k][1])}">{html.escape(titles[k][0])}</th>' for k in keys)
    body = []
    for label, runs, values in rows:
        cells = [f"<td>{html.escape(label)}</td>", f"<td>{html.escape(runs)}</td>"]
        skip, why = meaningless.get(label, (set(), ""))
        for key in keys:
            if key in skip:
                cells.append(f'<td class="na" title="{html.escape(why)}">n/a</td>')
                continue
            if values[key] is None:
                cells.append("<td>–</td>")
                continue
            mean, sd = values[key]
            digits = 0 if key in ("parameter_count", "bytes_per_task", "steps_per_second") else 3
            text = f"{mean:.{digits}f}" + (f" ± {sd:.{digits}f}" if sd is not None else "")
            cells.append(f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


MAIN_KEYS = ["acc", "bwt", "fwt", "forgetting", "avg_sg", "avg_sg_of_mean_curve", "min_acc"]
SHAPE_KEYS = ["wc_acc", "gap_depth", "gap_recovery", "gap_area", "mean_gain", "parameter_count",
              "bytes_per_task", "steps_per_second"]

STYLE = """body{font-family:sans-serif;max-width:1240px;margin:auto;padding:0 12px}
table{border-collapse:collapse;font-size:13px;margin-bottom:8px}
td,th{border:1px solid #bbb;padding:3px 6px;text-align:right;white-space:nowrap}
td:first-child,th:first-child{text-align:left} td.na{color:#888}
table.methods td{white-space:normal;text-align:left} dl{font-size:13px} dt{font-weight:bold}
dd{margin:0 0 4px 16px} img{max-width:100%}"""


def page(sweep, sweep_dir, runs, groups, summary, images):
    settings = {label: group[0].get("settings", {}) for label, group in groups.items()}
    varying = varying_settings(list(settings.values()))
    meaningless = {label: not_meaningful(s) for label, s in settings.items()}
    notes = sorted({why for _, why in meaningless.values() if why})
    methods = "".join(
        f"<tr><td>{html.escape(label)}</td><td>{html.escape(describe(s, varying))}</td></tr>"
        for label, s in settings.items())
    definitions = "".join(f"<dt>{html.escape(title)}</dt><dd>{html.escape(text)}</dd>"
                          for _, title, text in METRICS)
    name = html.escape(sweep.get("name", os.path.basename(os.path.abspath(sweep_dir))))
    shared = shared_settings_text(list(settings.values()))
    tables = ("<p>(no summary.csv)</p>" if not summary else
              "<h2>Summary (mean ± sd over seeds)</h2>" + table(summary, MAIN_KEYS, meaningless)
              + "<h3>Gap shape and cost</h3>" + table(summary, SHAPE_KEYS, meaningless)
              + "".join(f"<p>n/a: {html.escape(n)}.</p>" for n in notes))
    plots = "".join(f'<p><img src="plots/{i}" alt="{i}"></p>' for i in images)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>locus sweep {name}</title><style>{STYLE}</style></head><body>
<h1>locus sweep: {name}</h1>
<p>{len(runs)} runs, {len(groups)} methods, seeds {html.escape(str(sweep.get('seeds', '?')))}.
{html.escape(sweep.get('description', ''))}{' Shared settings: ' + html.escape(shared) + '.' if shared else ''}
avg-SG and the gap's shape are taken on the first task's curve. A method can close the gap by
learning less, so read avg-SG together with ACC and min-ACC.</p>
<h2>Methods</h2>
<table class="methods">{methods}</table>
{tables}
<h2>Plots</h2>
{plots}
<h2>Metrics</h2>
<dl>{definitions}</dl>
</body></html>
"""


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_report.py SWEEP_DIR")
    sweep_dir = sys.argv[1]
    sweep, runs = load(sweep_dir)
    summary = read_summary(sweep_dir)  # before the plots: a damaged file stops before any output
    groups = groups_of(runs)
    excluded = {label for label, group in groups.items()
                if not_meaningful(group[0].get("settings", {}))[0]}
    plots = os.path.join(sweep_dir, "plots")
    os.makedirs(plots, exist_ok=True)
    plot_first_task(groups, os.path.join(plots, "first_task.png"), excluded)
    plot_tasks(groups, os.path.join(plots, "tasks.png"))
    has_gain = plot_gain(groups, os.path.join(plots, "gain.png"))
    plot_sg_vs_acc(groups, os.path.join(plots, "sg_vs_acc.png"), excluded)
    images = ["first_task.png", "tasks.png"] + (["gain.png"] if has_gain else []) + ["sg_vs_acc.png"]
    out = os.path.join(sweep_dir, "report.html")
    with open(out + ".tmp", "w", encoding="utf-8") as f:
        f.write(page(sweep, sweep_dir, runs, groups, summary, images))
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    try:
        main()
    except DamagedFile as error:
        sys.exit(str(error))
