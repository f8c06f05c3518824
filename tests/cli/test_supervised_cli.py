"""`locus supervised` end to end: a short run that must learn, its run directory, and errors."""

import csv
import json
import subprocess


def run(locus, *args):
    return subprocess.run([locus, "supervised", *args], capture_output=True, text=True,
                          timeout=300)


SMALL = ["--hidden", "32", "--seq-len", "50", "--eval-trials", "200", "--seed", "3"]


def test_a_short_run_learns_and_writes_its_directory(locus, tmp_path):
    out = tmp_path / "run"
    result = run(locus, "--env", "GoNoGo-v0", "--network", "gru", "--iterations", "200",
                 "--eval-every", "100", "--out", str(out), *SMALL)
    assert result.returncode == 0, result.stderr
    for name in ["config.json", "metrics.csv", "summary.json", "network.ckpt"]:
        assert (out / name).exists(), name
    summary = json.loads((out / "summary.json").read_text())
    # Withholding on every trial scores 0.5.
    assert summary["accuracy"] > 0.8 and summary["iterations"] == 200
    assert summary["eval_trials"] == 200 and summary["network"] == "trainable_gru"
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert [int(r["iteration"]) for r in rows] == [100, 200]
    assert float(rows[-1]["accuracy"]) == summary["accuracy"]
    assert "GoNoGo-v0 trainable_gru: accuracy" in result.stdout
    assert "of 200 held-out trials" in result.stdout
    config = json.loads((out / "config.json").read_text())
    assert config["network"]["recurrence"] == "gru" and config["optimizer"]["kind"] == "adam"

    again = run(locus, "--env", "GoNoGo-v0", "--iterations", "10", "--out", str(out), *SMALL)
    assert again.returncode != 0 and "already holds a run" in again.stderr
    assert json.loads((out / "summary.json").read_text())["iterations"] == 200


def test_a_modulated_run_learns(locus):
    result = run(locus, "--env", "PerceptualDecisionMaking-v0", "--modulated", "--iterations",
                 "300", "--quiet", *SMALL)
    assert result.returncode == 0, result.stderr
    accuracy = float(result.stdout.split("accuracy ")[1].split()[0])
    assert accuracy > 0.7, result.stdout  # chance is 0.5
    assert "modulated_gru" in result.stdout and "iteration " not in result.stdout


def test_bad_input_is_a_clear_usage_error(locus):
    cases = [
        (["--env", "GoNogo-v0"], "Did you mean"),
        (["--env", "GoNoGo-v0", "--network", "rnn"], "use elman, gru or lstm"),
        (["--env", "CartPole-v1"], "does not say its per-step target"),
        (["--env", "GoNoGo-v0", "--batch-size", "0"], "batch_size must be at least 1"),
        (["--env", "GoNoGo-v0", "--hidden", "0"], "hidden must be at least 1"),
        (["--env", "GoNoGo-v0", "--kwargs", "[1]"], "--kwargs must be a JSON object"),
        (["--env", "GoNoGo-v0", "--kwargs", '{"dtt": 100}'], "dtt"),
        (["--env", "GoNoGo-v0", "--lr", "-1"], "learning_rate"),
        (["--env", "GoNoGo-v0", "--iterations", "0"], "iterations must be at least 1"),
    ]
    for args, message in cases:
        result = run(locus, *args)
        assert result.returncode == 2, (args, result.returncode, result.stderr)
        assert message in result.stderr, (args, result.stderr)
