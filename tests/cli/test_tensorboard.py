"""`locus train` writes TensorBoard's event file in the run folder, as TensorBoard reads it.

Read back with TensorBoard's own reader (its record reader checks both CRC-32C checksums of every
record and raises DataLossError on a mismatch), the file holds each update's metrics.jsonl scalars
at the update's environment steps; a resumed run's file equals an uninterrupted run's.
"""
import json
import subprocess
from pathlib import Path

import pytest

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
from tensorboard.compat.proto import event_pb2  # noqa: E402
from tensorboard.compat.tensorflow_stub import errors  # noqa: E402
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import PyRecordReader_New  # noqa: E402

EVENT_FILE = Path("tensorboard") / "events.out.tfevents.locus"


def train(locus, *args):
    result = subprocess.run([locus, "train", "--env", "CartPole-v1", "--agent", "ppo",
                             "--eval-every", "3", "--eval-episodes", "2", *args],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def events(path):
    """Every event of the file, each record's checksums checked."""
    reader = PyRecordReader_New(str(path))
    found = []
    while True:
        try:
            reader.GetNext()
        except errors.OutOfRangeError:
            return found
        found.append(event_pb2.Event.FromString(reader.record()))


def scalars(run_dir):
    accumulator = event_accumulator.EventAccumulator(str(run_dir / "tensorboard"))
    accumulator.Reload()
    return {tag: [(e.step, e.value) for e in accumulator.Scalars(tag)]
            for tag in accumulator.Tags()["scalars"]}


def test_train_writes_the_metrics_as_tensorboard_scalars(locus, tmp_path):
    run = tmp_path / "run"
    train(locus, "--steps", "3000", "--out", str(run))
    found = events(run / EVENT_FILE)
    assert found[0].file_version == "brain.Event:2"
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert len(found) == 1 + len(rows)
    curves = scalars(run)
    assert {"rollout/return_100", "loss/policy", "policy/entropy", "dopamine/mean_delta",
            "eval/return_mean"} <= set(curves)
    assert curves["loss/policy"] == [
        (row["steps"], pytest.approx(row["policy_loss"], rel=1e-6)) for row in rows]
    assert curves["eval/return_mean"] == [
        (row["steps"], pytest.approx(row["eval"]["return_mean"], rel=1e-6))
        for row in rows if "eval" in row]


def test_a_resumed_run_has_the_event_file_of_an_uninterrupted_one(locus, tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    train(locus, "--steps", "4000", "--out", str(straight))
    train(locus, "--steps", "2000", "--out", str(resumed))
    train(locus, "--resume", str(resumed), "--steps", "4000")
    assert scalars(resumed) == scalars(straight)
    assert len(events(resumed / EVENT_FILE)) == len(events(straight / EVENT_FILE))


def test_a_corrupt_record_fails_tensorboards_checksum(locus, tmp_path):
    # The reader does check the checksums the writer computes: flip one byte of a value.
    run = tmp_path / "run"
    train(locus, "--steps", "600", "--out", str(run))
    data = bytearray((run / EVENT_FILE).read_bytes())
    data[-6] ^= 0x01
    (run / EVENT_FILE).write_bytes(bytes(data))
    with pytest.raises(errors.DataLossError):
        events(run / EVENT_FILE)


def test_sweep_writes_each_runs_curves_and_metrics(locus, tmp_path):
    tiny = Path(__file__).resolve().parents[1] / "bench" / "tiny_sweep.yaml"
    out = tmp_path / "sweep"
    result = subprocess.run([locus, "sweep", str(tiny), "--out", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    run_files = sorted((out / "runs").glob("*.json"))
    assert sorted(p.name for p in (out / "tensorboard").iterdir()) == [p.stem for p in run_files]
    run = json.loads(run_files[0].read_text())
    folder = out / "tensorboard" / run["id"]
    events(folder / EVENT_FILE.name)  # every checksum holds
    accumulator = event_accumulator.EventAccumulator(str(folder))
    accumulator.Reload()
    record = run["record"]
    for task, curve in enumerate(record["curves"], start=1):
        assert [(e.step, e.value) for e in accumulator.Scalars(f"accuracy/task_{task}")] == [
            (it, pytest.approx(value, rel=1e-6))
            for it, value in zip(record["iterations"], curve) if value is not None]
    final = accumulator.Scalars("metrics/acc")
    assert [(e.step, e.value) for e in final] == [
        (record["iterations"][-1], pytest.approx(run["metrics"]["acc"], rel=1e-6))]
    assert "metrics/avg_sg" in accumulator.Tags()["scalars"]
