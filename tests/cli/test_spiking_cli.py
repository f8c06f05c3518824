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
    # The two drives, then the strongest drive with each path of the coupling cut.
    assert [row["condition"] for row in summary] == [
        "dend 0 Hz, coupling 1", "dend 1000 Hz, coupling 1", "dend 1000 Hz, coupling 1, no BAP",
        "dend 1000 Hz, coupling 1, no dend-to-soma current",
        "dend 1000 Hz, coupling 1, no reset switch"]
    for row in summary:
        assert float(row["gain"]) >= 0.0
    curves = read_rows(out / "gain_curves.csv")
    assert len(curves) == 15  # 5 conditions x 3 inputs
    assert (out / "gain_traces.csv").stat().st_size > 0
    # Every driven curve against the undriven one, with the range fitted and the kind of change.
    changes = read_rows(out / "gain_change.csv")
    assert [row["condition"] for row in changes] == [row["condition"] for row in summary[1:]]
    assert {row["reference"] for row in changes} == {"dend 0 Hz, coupling 1"}
    assert {row["kind"] for row in changes} <= {"additive", "multiplicative", "unclear",
                                                "too few points"}
    assert "shift s (rms)" in result.stdout


def test_inhibition_and_plasticity_run(locus, tmp_path):
    inhibition = run(locus, "spiking", "inhibition", "--out", str(tmp_path / "inh"), *SMALL,
                     "--pyramidal", "40", "--pv", "5", "--som", "5",
                     "--somatic-rates", "0,3000")
    assert inhibition.returncode == 0, inhibition.stderr
    assert list((tmp_path / "inh").glob("*.csv"))
    assert [row["reference"] for row in read_rows(tmp_path / "inh" / "inhibition_change.csv")] \
        == ["control", "control"]
    plasticity = run(locus, "spiking", "plasticity", "--out", str(tmp_path / "stdp"), *SMALL,
                     "--pyramidal", "20", "--inputs", "20")
    assert plasticity.returncode == 0, plasticity.stderr
    rows = read_rows(tmp_path / "stdp" / "plasticity_summary.csv")
    # The bursting condition's tonic control at its post rate, found by a search over the drive.
    assert [row["condition"] for row in rows][-1] == "tonic at the rate of dend 1000 Hz, plasticity 1"
    matched, bursting = rows[-1], rows[1]
    assert float(matched["dendritic_rate"]) == 0.0
    assert float(matched["somatic_rate"]) > float(bursting["somatic_rate"])
    # 20 cells for 100 ms count spikes in steps of 0.5 Hz, noisy in the drive: within 3 steps.
    assert abs(float(matched["post_rate"]) - float(bursting["post_rate"])) <= 1.5
    skipped = run(locus, "spiking", "plasticity", "--out", str(tmp_path / "stdp2"), *SMALL,
                  "--pyramidal", "20", "--inputs", "20", "--no-rate-match")
    assert skipped.returncode == 0, skipped.stderr
    assert len(read_rows(tmp_path / "stdp2" / "plasticity_summary.csv")) == 2


def test_gating_writes_a_profile_per_pv_strength(locus, tmp_path):
    out = tmp_path / "gating"
    result = run(locus, "spiking", "gating", "--out", str(out), *SMALL, "--pyramidal", "40",
                 "--pv", "5", "--som", "5", "--pv-strengths", "0,3", "--stimulus-sigma", "0.05")
    assert result.returncode == 0, result.stderr
    summary = read_rows(out / "gating_summary.csv")
    assert [float(row["pv_strength"]) for row in summary] == [0.0, 3.0]
    profile = read_rows(out / "gating_profile.csv")
    assert len(profile) == 2 * 10  # 10 distance bins of 0.05 from 0 to 0.5, per PV strength
    for row in profile:
        evoked = float(row["rate_on"]) - float(row["rate_off"])
        assert abs(evoked - float(row["evoked"])) < 1e-9
    assert "surround evoked" in result.stdout
    refused = run(locus, "spiking", "gating", "--out", str(out), *SMALL, "--geometry", "sheet")
    assert refused.returncode != 0 and "ring" in refused.stderr


def test_bad_arguments_exit_2_and_name_the_value(locus, tmp_path):
    result = run(locus, "spiking", "gain", "--out", str(tmp_path), "--geometry", "cube")
    assert result.returncode == 2
    assert "cube" in result.stderr and "ring" in result.stderr
    result = run(locus, "spiking", "gain", "--out", str(tmp_path), "--somatic-rates", "a:b")
    assert result.returncode == 2
    assert "a:b" in result.stderr
