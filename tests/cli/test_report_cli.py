"""`locus report` on a real sweep: the page a reader gets, and plots that show the table's numbers.

The stability gap the first plot draws (bench/harness/report_plots.py) must be the quantity the
table states: per seed, the mean over switches of the plotted SG_k is the run's avg-SG.
"""
import json
import math
import pathlib
import re
import subprocess
import sys

import pytest

HARNESS = pathlib.Path(__file__).resolve().parents[2] / "bench" / "harness"
TINY = pathlib.Path(__file__).resolve().parents[1] / "bench" / "tiny_sweep.yaml"


@pytest.fixture(scope="module")
def report(request, tmp_path_factory):
    """The tiny sweep with a fresh-network-per-task method added, and its report."""
    locus = request.config.getoption("--locus")
    folder = tmp_path_factory.mktemp("report")
    config = folder / "sweep.yaml"
    text = TINY.read_text()
    assert "methods:" in text
    alone = "  - {name: alone, separate: true, joint: false, scenario: task-incremental, optimizer: sgd}"
    config.write_text(text.replace("methods:", "methods:\n" + alone, 1))
    out = folder / "out"
    for command in (["sweep", str(config), "--out", str(out), "--quiet"], ["report", str(out)]):
        result = subprocess.run([locus, *command], capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_the_plotted_gaps_are_the_tables_avg_sg(report):
    sys.path.insert(0, str(HARNESS))
    try:
        import report_plots
    finally:
        sys.path.remove(str(HARNESS))
    checked = 0
    for line in (report / "results.jsonl").read_text().splitlines():
        run = json.loads(line)
        record = run["record"]
        curve = [math.nan if v is None else v for v in record["curves"][0]]
        gaps = [report_plots.gap_at(record["iterations"], curve, record["block_ends"], k)
                for k in range(len(record["block_ends"]) - 1)]
        gaps = [g[3] for g in gaps if g is not None]
        if run["metrics"]["avg_sg"] is None:
            assert not gaps
            continue
        assert sum(gaps) / len(gaps) == pytest.approx(run["metrics"]["avg_sg"], abs=1e-12)
        checked += 1
    assert checked >= 6


def test_the_page_explains_each_method_and_metric(report):
    page = (report / "report.html").read_text()
    methods = page[page.index("<h2>Methods</h2>"):page.index("<h2>Summary")]
    for name in ("sgd", "ngm-sgd", "fixed-gain-sgd", "alone"):
        assert f"<td>{name}</td>" in methods
    assert "control: the gain held at ngm-sgd&#x27;s mean gain" in methods
    assert "started afresh for every task" in methods
    # A fresh network per task has no sequence: its sequence metrics are marked, not shown.
    alone = re.search(r"<tr><td>alone</td>.*?</tr>", page[page.index("<h2>Summary"):]).group(0)
    assert alone.count(">n/a<") == 7
    for title in ("ACC", "BWT", "avg-SG", "min-ACC", "gap depth"):
        assert f"<dt>{title}</dt>" in page
    # The main table fits a laptop: at most 9 columns.
    first_table = page[page.index("<h2>Summary"):].split("</table>")[0]
    assert first_table.count("<th") <= 9
    for image in ("first_task.png", "tasks.png", "sg_vs_acc.png"):
        assert (report / "plots" / image).stat().st_size > 10_000
