"""`locus train` stopped by Ctrl-C or SIGTERM, two processes on one run folder, and a resume that
asks for other settings than the saved run's."""

import csv
import json
import shutil
import signal
import subprocess
import time

import pytest

ARGS = ["--env", "CartPole-v1", "--agent", "a2c", "--num-envs", "4", "--rollout-steps", "16",
        "--seed", "3", "--checkpoint-every", "5", "--threads", "1", "--quiet"]


def run(locus, *args):
    return subprocess.run([locus, *args], capture_output=True, text=True, timeout=300)


def metric_rows(path):
    with open(path) as f:
        return [{k: v for k, v in row.items() if k != "time_s"} for row in csv.DictReader(f)]


def start_and_wait_for_rows(locus, out, steps, rows=2):
    """Starts a long run and returns it once it has written `rows` metric rows."""
    process = subprocess.Popen([locus, "train", *ARGS, "--steps", str(steps), "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    metrics = out / "metrics.csv"
    while time.monotonic() < deadline:
        if metrics.exists() and len(metrics.read_text().splitlines()) > rows:
            return process
        assert process.poll() is None, process.communicate()
        time.sleep(0.02)
    process.kill()
    pytest.fail("the run wrote no metrics within 60 s")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_run_at_a_checkpoint_and_resume_completes_it(locus, tmp_path, sig):
    steps = 64 * 4000  # far more than the test waits for
    whole, part = tmp_path / "whole", tmp_path / "part"
    process = start_and_wait_for_rows(locus, part, steps)
    process.send_signal(sig)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + sig, stderr
    assert "stopping at the next checkpoint" in stderr
    assert f"locus train --resume {part}" in stderr
    rows = metric_rows(part / "metrics.csv")
    assert len(rows) % 5 == 0 and len(rows) < 4000  # stopped on a checkpoint, early
    stopped_at = len(rows) * 64

    # The stopped run, resumed to a little further, equals a run that went there at once.
    target = stopped_at + 64 * 10
    resumed = run(locus, "train", "--resume", str(part), "--steps", str(target))
    assert resumed.returncode == 0, resumed.stderr
    assert f"with steps {target} (was {steps})" in resumed.stderr
    assert run(locus, "train", *ARGS, "--steps", str(target), "--out", str(whole)).returncode == 0
    assert metric_rows(whole / "metrics.csv") == metric_rows(part / "metrics.csv")
    assert (whole / "dopamine_trace.csv").read_text() == (part / "dopamine_trace.csv").read_text()


def test_a_second_process_on_a_run_folder_is_refused(locus, tmp_path):
    out = tmp_path / "busy"
    process = start_and_wait_for_rows(locus, out, 64 * 4000)
    try:
        second = run(locus, "train", "--resume", str(out))
        assert second.returncode == 1
        assert "is in use by another locus process" in second.stderr
        assert f"pid {process.pid}" in second.stderr
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=120)
    # The lock went with its process.
    assert run(locus, "train", "--resume", str(out), "--steps", "640").returncode == 0


def test_resume_refuses_other_settings_and_names_them(locus, tmp_path):
    out = tmp_path / "run"
    assert run(locus, "train", *ARGS, "--steps", "640", "--out", str(out)).returncode == 0
    saved = (out / "config.json").read_text()
    refused = run(locus, "train", "--resume", str(out), "--learning-rate", "0.5", "--env",
                  "Acrobot-v1")
    assert refused.returncode == 2
    assert "learning_rate is" in refused.stderr and "0.5 requested" in refused.stderr
    assert 'env is "CartPole-v1" in the saved run, "Acrobot-v1" requested' in refused.stderr
    assert (out / "config.json").read_text() == saved
    # The same command line with --resume is fine: equal settings are no conflict.
    same = run(locus, "train", "--resume", str(out), *ARGS, "--steps", "1280")
    assert same.returncode == 0, same.stderr
    assert json.loads((out / "summary.json").read_text())["steps"] == 1280
    both = run(locus, "train", "--resume", str(out), "--out", str(tmp_path / "other"))
    assert both.returncode == 2 and "excludes" in both.stderr


def test_a_multi_seed_run_killed_before_a_seed_started_resumes(locus, tmp_path):
    out = tmp_path / "seeds"
    args = [*ARGS, "--seeds", "1,2", "--steps", "640", "--out", str(out)]
    assert run(locus, "train", *args).returncode == 0
    # What a kill during seed 1 leaves: seed 2 has no checkpoint (nor anything else).
    (out / "summary.json").unlink()
    shutil.rmtree(out / "seed_2")
    (out / "seed_2").mkdir()
    resumed = run(locus, "train", "--resume", str(out))
    assert resumed.returncode == 0, resumed.stderr
    assert (out / "seed_2" / "checkpoint.bin").exists()
    assert len(json.loads((out / "summary.json").read_text())["runs"]) == 2
