"""`locus spiking ...`: the three experiments run end to end on small circuits and write their CSV
files; bad arguments exit with status 2 and name the value. The effects themselves are tested with
margins in tests/spiking (C++); here only the command line is."""
import csv
import subprocess
from pathlib import Path

SMALL = ["--seeds", "1", "--warmup", "20", "--duration", "100", "--no-plot"]


def run(locus, *args):
    return subprocess.run([locus, *args], capture_output=True, text=True, timeout=120)


def read_rows(path: Path):
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_gain_writes_curves_and_a_summary_per_condition(locus, tmp_path):
    out = tmp_path / "gain"
    result = run(locus, "spiking", "gain", "--out", str(out), *SMALL, "--pyramidal", "40",
                 "--pv", "5", "--som", "5", "--somatic-rates", "0,2000,4000",
                 "--dendritic-rates", "0,1000", "--couplings", "1")
    assert result.returncode == 0, result.stderr
    summary = read_rows(out / "gain_summary.csv")
    assert [row["dendritic_rate"] for row in summary] == ["0", "1000"]
    for row in summary:
        assert float(row["gain"]) >= 0.0
    curves = read_rows(out / "gain_curves.csv")
    assert len(curves) >= 6  # 2 conditions x 3 inputs
    assert (out / "gain_traces.csv").stat().st_size > 0


def test_inhibition_and_plasticity_run(locus, tmp_path):
    inhibition = run(locus, "spiking", "inhibition", "--out", str(tmp_path / "inh"), *SMALL,
                     "--pyramidal", "40", "--pv", "5", "--som", "5",
                     "--somatic-rates", "0,3000")
    assert inhibition.returncode == 0, inhibition.stderr
    assert list((tmp_path / "inh").glob("*.csv"))
    plasticity = run(locus, "spiking", "plasticity", "--out", str(tmp_path / "stdp"), *SMALL,
                     "--pyramidal", "20", "--inputs", "20")
    assert plasticity.returncode == 0, plasticity.stderr
    assert list((tmp_path / "stdp").glob("*.csv"))


def test_bad_arguments_exit_2_and_name_the_value(locus, tmp_path):
    result = run(locus, "spiking", "gain", "--out", str(tmp_path), "--geometry", "cube")
    assert result.returncode == 2
    assert "cube" in result.stderr and "ring" in result.stderr
    result = run(locus, "spiking", "gain", "--out", str(tmp_path), "--somatic-rates", "a:b")
    assert result.returncode == 2
    assert "a:b" in result.stderr
