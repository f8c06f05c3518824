"""locus.tracking logs real locus runs and sweeps to MLflow and W&B, checked by reading back.

Every test makes its runs with the package's own API (locus.train, locus.sweep) and compares what
the backend stored with what TensorBoard's own reader (EventAccumulator, another reader than the
one locus.tracking uses) reads from the event files: the same tags, steps and values. MLflow
writes to a file store under tmp_path (MLflow 3 refuses one unless MLFLOW_ALLOW_FILE_STORE is
set) and is read back with MlflowClient; W&B runs offline into tmp_path and its .wandb file (a
LevelDB-style log of protobuf Records, which wandb itself has no public reader for) is parsed here.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import mlflow.tracking
import pytest
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.compat.proto import event_pb2
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c
from wandb.proto import wandb_internal_pb2

import locus
from locus import tracking
from locus.errors import InvalidArgumentError

EVENT_FILE = Path("tensorboard") / "events.out.tfevents.locus"

# Two runs of the harness's tiny supervised sweep (tests/bench/tiny_sweep.yaml, one seed).
SWEEP_CONFIG = {
    "name": "tracking",
    "seeds": [0],
    "defaults": {
        "stream": "split", "num_tasks": 3, "train_per_task": 128, "eval_per_task": 50,
        "iterations_per_task": 8, "eval_every": 2, "batch_size": 16, "hidden": [16],
        "joint": True,
    },
    "methods": [
        {"name": "sgd", "optimizer": "sgd", "lr": 0.05},
        {"name": "ngm-sgd", "optimizer": "sgd", "lr": 0.05, "ngm": True},
    ],
}


def train(out: Path, steps: int = 3000, **settings) -> dict:
    return locus.train(env="CartPole-v1", agent="ppo", steps=steps, seed=0, out=str(out),
                       eval_every=3, eval_episodes=2, **settings)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("train") / "cartpole"
    train(out)
    return out


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sweep") / "tracking"
    locus.sweep(SWEEP_CONFIG, out=str(out))
    return out


def tensorboard_scalars(event_folder: Path) -> dict[str, list[tuple[int, float]]]:
    """{tag: [(step, value)]} as TensorBoard shows them."""
    accumulator = event_accumulator.EventAccumulator(
        str(event_folder), size_guidance={event_accumulator.SCALARS: 0})
    accumulator.Reload()
    return {tag: [(e.step, e.value) for e in accumulator.Scalars(tag)]
            for tag in accumulator.Tags()["scalars"]}


def sweep_event_folder(sweep: Path, run_id: str) -> Path:
    return sweep / "tensorboard" / run_id


def expected_params(config: dict) -> dict[str, str]:
    """A config's top-level keys as MLflow params (nested objects are flattened; checked apart)."""
    return {key: value if isinstance(value, str) else json.dumps(value)
            for key, value in config.items() if not (isinstance(value, dict) and value)}


# --- MLflow ------------------------------------------------------------------------------------


@pytest.fixture
def mlflow_uri(tmp_path, monkeypatch) -> str:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    return (tmp_path / "mlruns").as_uri()


def mlflow_scalars(uri: str, run_id: str) -> dict[str, list[tuple[int, float]]]:
    client = mlflow.tracking.MlflowClient(uri)
    return {key: sorted((m.step, m.value) for m in client.get_metric_history(run_id, key))
            for key in client.get_run(run_id).data.metrics}


def test_mlflow_holds_every_scalar_and_the_config_of_a_training_run(run_dir, mlflow_uri):
    (logged,) = tracking.log_run(run_dir, "mlflow", tracking_uri=mlflow_uri)
    expected = tensorboard_scalars(run_dir / "tensorboard")
    assert {"rollout/return_100", "loss/policy", "policy/entropy", "dopamine/mean_delta",
            "eval/return_mean"} <= set(expected)
    assert mlflow_scalars(mlflow_uri, logged.run_id) == expected
    assert logged.scalars == sum(len(points) for points in expected.values())
    assert logged.name == "cartpole" and logged.finished

    run = mlflow.tracking.MlflowClient(mlflow_uri).get_run(logged.run_id)
    config = json.loads((run_dir / "config.json").read_text())
    assert expected_params(config).items() <= run.data.params.items()
    assert run.data.params["steps"] == "3000" and run.data.params["agent"] == "ppo"
    assert run.info.run_name == "cartpole" and run.info.status == "FINISHED"
    experiment = mlflow.tracking.MlflowClient(mlflow_uri).get_experiment(run.info.experiment_id)
    assert experiment.name == "locus"


def test_a_second_mlflow_call_continues_the_run_and_logs_nothing_twice(run_dir, mlflow_uri):
    (first,) = tracking.log_run(run_dir, "mlflow", tracking_uri=mlflow_uri, experiment="twice")
    (second,) = tracking.log_run(run_dir, "mlflow", tracking_uri=mlflow_uri, experiment="twice")
    assert second.run_id == first.run_id and second.scalars == 0 and first.scalars > 0
    assert mlflow_scalars(mlflow_uri, first.run_id) == tensorboard_scalars(run_dir / "tensorboard")


def test_mlflow_gets_one_run_per_seed_of_a_multi_seed_run(tmp_path, mlflow_uri):
    out = tmp_path / "seeds"
    locus.train(env="CartPole-v1", agent="a2c", steps=2000, seeds=[3, 4], out=str(out))
    logged = tracking.log_run(out, "mlflow", tracking_uri=mlflow_uri)
    assert [run.name for run in logged] == ["seeds/seed_3", "seeds/seed_4"]
    client = mlflow.tracking.MlflowClient(mlflow_uri)
    for run, seed in zip(logged, (3, 4)):
        assert run.finished
        folder = out / f"seed_{seed}"
        assert mlflow_scalars(mlflow_uri, run.run_id) == tensorboard_scalars(folder / "tensorboard")
        stored = client.get_run(run.run_id).data
        assert stored.params["seed"] == str(seed) and stored.tags["locus.group"] == "seeds"


def test_mlflow_gets_one_run_per_sweep_run_in_an_experiment_named_after_the_sweep(
        sweep_dir, mlflow_uri):
    logged = tracking.log_run(sweep_dir, "mlflow", tracking_uri=mlflow_uri)
    run_ids = json.loads((sweep_dir / "sweep.json").read_text())["runs"]
    assert [run.name for run in logged] == run_ids == ["sgd_seed=0", "ngm-sgd_seed=0"]
    client = mlflow.tracking.MlflowClient(mlflow_uri)
    for run in logged:
        expected = tensorboard_scalars(sweep_event_folder(sweep_dir, run.name))
        assert {"accuracy/task_1", "accuracy/mean_seen", "train/loss", "metrics/acc"} <= set(
            expected)
        assert mlflow_scalars(mlflow_uri, run.run_id) == expected
        stored = client.get_run(run.run_id)
        result = json.loads((sweep_dir / "runs" / f"{run.name}.json").read_text())
        assert stored.data.params["method"] == result["method"]
        assert stored.data.params["seed"] == "0" and stored.data.params["lr"] == "0.05"
        assert stored.data.tags["locus.group"] == "tracking"
        assert client.get_experiment(stored.info.experiment_id).name == "tracking"
    assert "ngm/gain" in mlflow_scalars(mlflow_uri, logged[1].run_id)


def test_the_command_line_logs_to_mlflow(run_dir, mlflow_uri, capsys):
    status = tracking.main(["mlflow", str(run_dir), "--tracking-uri", mlflow_uri,
                            "--experiment", "cli"])
    out = capsys.readouterr().out
    assert status == 0, out
    run_id = out.split("-> ")[1].split()[0]
    assert out.startswith("mlflow: cartpole -> ") and "finished" in out
    assert mlflow_scalars(mlflow_uri, run_id) == tensorboard_scalars(run_dir / "tensorboard")


# --- W&B (offline) -----------------------------------------------------------------------------


@pytest.fixture
def wandb_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "wandb_files"
    for name, value in {"WANDB_MODE": "offline", "WANDB_SILENT": "true",
                        "WANDB_DIR": str(folder), "WANDB_CONFIG_DIR": str(folder / "config"),
                        "WANDB_CACHE_DIR": str(folder / "cache"),
                        "WANDB_DATA_DIR": str(folder / "data")}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("WANDB_PROJECT", raising=False)
    folder.mkdir()
    return folder


def wandb_records(folder: Path, run_id: str, wait_s: float = 60.0) -> list:
    """The Records of an offline run's .wandb file, read once wandb's writer has written the run's
    exit record: wandb's service may still be flushing the file when run.finish() returns."""
    deadline = time.monotonic() + wait_s
    while True:
        records = parse_wandb_file(folder, run_id)
        if any(r.WhichOneof("record_type") == "exit" for r in records):
            return records
        assert time.monotonic() < deadline, f"run {run_id}'s .wandb file has no exit record"
        time.sleep(0.2)


def parse_wandb_file(folder: Path, run_id: str) -> list:
    """A 7-byte header (":W&B", magic, version), then LevelDB log records (CRC-32 of type and
    data, length, type) in 32 KiB blocks; a record still being written at the end is left out."""
    (path,) = folder.glob(f"wandb/offline-run-*-{run_id}/run-{run_id}.wandb")
    data = path.read_bytes()
    assert data[:4] == b":W&B"
    block, position, pending, records = 32768, 7, b"", []
    while position + 7 <= len(data):
        if block - position % block < 7:  # a block's tail too short for a header is padding
            position += block - position % block
            continue
        checksum, length, kind = struct.unpack("<IHB", data[position:position + 7])
        chunk = data[position + 7:position + 7 + length]
        if len(chunk) < length:  # the writer's next chunk is not all there yet
            break
        position += 7 + length
        if kind == 0:
            continue
        assert zlib.crc32(bytes([kind]) + chunk) == checksum
        pending = chunk if kind in (1, 2) else pending + chunk  # full/first, or middle/last
        if kind in (1, 4):
            records.append(wandb_internal_pb2.Record.FromString(pending))
    return records


def wandb_scalars(records: list) -> dict[str, list[tuple[int, float]]]:
    scalars: dict[str, list[tuple[int, float]]] = {}
    for record in records:
        if record.WhichOneof("record_type") != "history":
            continue
        for item in record.history.item:
            key = "/".join(item.nested_key) or item.key
            if not key.startswith("_"):
                scalars.setdefault(key, []).append((record.history.step.num,
                                                    json.loads(item.value_json)))
    return {key: sorted(points) for key, points in scalars.items()}


def wandb_run_record(records: list):
    (run,) = [r.run for r in records if r.WhichOneof("record_type") == "run"]
    return run


def wandb_config(records: list) -> dict:
    config = {}
    for record in records:
        kind = record.WhichOneof("record_type")
        updates = record.run.config.update if kind == "run" else (
            record.config.update if kind == "config" else [])
        for item in updates:
            config["/".join(item.nested_key) or item.key] = json.loads(item.value_json)
    return config


def test_wandb_history_holds_every_scalar_and_the_config_of_a_training_run(run_dir, wandb_dir):
    (logged,) = tracking.log_run(run_dir, "wandb", dir=str(wandb_dir))
    records = wandb_records(wandb_dir, logged.run_id)
    assert wandb_scalars(records) == tensorboard_scalars(run_dir / "tensorboard")
    run = wandb_run_record(records)
    assert run.display_name == "cartpole" and run.project == "locus"
    config = json.loads((run_dir / "config.json").read_text())
    stored = wandb_config(records)
    assert {key: stored[key] for key in config} == config


def test_wandb_gets_one_run_per_sweep_run_grouped_by_sweep(sweep_dir, wandb_dir):
    logged = tracking.log_run(sweep_dir, "wandb", project="sweeps", dir=str(wandb_dir))
    assert [run.name for run in logged] == ["sgd_seed=0", "ngm-sgd_seed=0"]
    for run in logged:
        records = wandb_records(wandb_dir, run.run_id)
        expected = tensorboard_scalars(sweep_event_folder(sweep_dir, run.name))
        assert wandb_scalars(records) == expected
        stored = wandb_run_record(records)
        assert (stored.display_name, stored.run_group, stored.project) == (
            run.name, "tracking", "sweeps")
        assert wandb_config(records)["lr"] == 0.05


# --- follow=True -------------------------------------------------------------------------------


def wait_for(path: Path, failures: list = (), seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert not failures, failures
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.01)


def test_follow_logs_a_run_while_it_trains_and_returns_when_it_ends(tmp_path, mlflow_uri):
    out, failures, ended = tmp_path / "live", [], []

    def slow_training() -> None:  # 32 updates, 20 ms each: the logger reads a growing file
        try:
            train(out, steps=4000, progress=lambda _: time.sleep(0.02))
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            failures.append(error)
        ended.append(time.monotonic())

    trainer = threading.Thread(target=slow_training)
    trainer.start()
    try:
        wait_for(out / EVENT_FILE, failures)
        assert not (out / "summary.json").exists(), "the run ended before the logger started"
        (logged,) = tracking.log_run(out, "mlflow", follow=True, poll_s=0.05, timeout_s=30,
                                     tracking_uri=mlflow_uri)
        returned = time.monotonic()
    finally:
        trainer.join()
    assert not failures
    assert logged.finished and returned - ended[0] < 5  # it saw the end, not its timeout
    assert mlflow_scalars(mlflow_uri, logged.run_id) == tensorboard_scalars(out / "tensorboard")


def record_starts(data: bytes) -> list[int]:
    """Where an event file's TFRecords start (length, its CRC, payload, the payload's CRC)."""
    starts, position = [], 0
    while position < len(data):
        starts.append(position)
        (length,) = struct.unpack("<Q", data[position:position + 8])
        position += 12 + length + 4
    return starts


def records(data: bytes) -> list[bytes]:
    """The payloads of an event file's TFRecords."""
    return [data[start + 12:start + 12 + struct.unpack("<Q", data[start:start + 8])[0]]
            for start in record_starts(data)]


def framed(payload: bytes) -> bytes:
    header = struct.pack("<Q", len(payload))
    return (header + struct.pack("<I", masked_crc32c(header)) + payload
            + struct.pack("<I", masked_crc32c(payload)))


def rewritten(data: bytes) -> list[bytes]:
    """The file's records with later wall times, as a resumed run rewrites its event file."""
    out = []
    for payload in records(data):
        event = event_pb2.Event.FromString(payload)
        event.wall_time += 1000.0
        out.append(framed(event.SerializeToString()))
    return out


def test_follow_reads_a_file_appended_in_pieces_cut_mid_record_then_replaced(
        run_dir, tmp_path, mlflow_uri):
    # As a run that is stopped and resumed: the event file grows, a record arrives in two writes;
    # the resumed run replaces the file (os.replace) by the rows up to its checkpoint, fewer than
    # were read and with new wall times, and appends the rest; summary.json comes last.
    out = tmp_path / "copied"
    (out / "tensorboard").mkdir(parents=True)
    shutil.copy(run_dir / "config.json", out / "config.json")
    events = (run_dir / EVENT_FILE).read_bytes()
    starts = record_starts(events)
    # Inside a record's payload, after its wall time: a reader that kept the old file's part of
    # the record would join it to the new file's rest and fail the record's checksum.
    cuts = [starts[len(starts) // 3] + 12 + 12, starts[2 * len(starts) // 3] + 12 + 12]
    resumed = rewritten(events)
    kept = len(resumed) // 4
    ended = []

    def writer() -> None:
        with open(out / EVENT_FILE, "wb") as file:
            for start, end in zip([0] + cuts, cuts):
                file.write(events[start:end])
                file.flush()
                time.sleep(0.3)
        replacement = out / "tensorboard" / "replacement"
        replacement.write_bytes(b"".join(resumed[:kept]))
        os.replace(replacement, out / EVENT_FILE)
        time.sleep(0.3)
        with open(out / EVENT_FILE, "ab") as file:
            file.write(b"".join(resumed[kept:]))
        time.sleep(0.3)
        shutil.copy(run_dir / "summary.json", out / "summary.json")
        ended.append(time.monotonic())

    thread = threading.Thread(target=writer)
    thread.start()
    wait_for(out / EVENT_FILE)
    (logged,) = tracking.log_run(out, "mlflow", follow=True, poll_s=0.05, timeout_s=20,
                                 tracking_uri=mlflow_uri)
    returned = time.monotonic()
    thread.join()
    assert logged.finished and returned - ended[0] < 5
    expected = tensorboard_scalars(run_dir / "tensorboard")
    assert tensorboard_scalars(out / "tensorboard") == expected
    assert mlflow_scalars(mlflow_uri, logged.run_id) == expected  # nothing missing, nothing twice
    assert logged.scalars == sum(len(points) for points in expected.values())


def test_follow_waits_for_every_run_of_a_sweep(sweep_dir, tmp_path, mlflow_uri):
    out = tmp_path / "growing_sweep"
    (out / "runs").mkdir(parents=True)
    shutil.copy(sweep_dir / "sweep.json", out / "sweep.json")
    run_ids = json.loads((sweep_dir / "sweep.json").read_text())["runs"]
    ended = []

    def writer() -> None:  # as the harness: the run's event folder, then its run file
        for run_id in run_ids:
            time.sleep(0.3)
            shutil.copytree(sweep_event_folder(sweep_dir, run_id), out / "tensorboard" / run_id)
            shutil.copy(sweep_dir / "runs" / f"{run_id}.json", out / "runs" / f"{run_id}.json")
        ended.append(time.monotonic())

    thread = threading.Thread(target=writer)
    thread.start()
    logged = tracking.log_run(out, "mlflow", follow=True, poll_s=0.05, timeout_s=20,
                              tracking_uri=mlflow_uri)
    returned = time.monotonic()
    thread.join()
    assert [run.name for run in logged] == run_ids and all(run.finished for run in logged)
    assert returned - ended[0] < 5
    for run in logged:
        assert mlflow_scalars(mlflow_uri, run.run_id) == tensorboard_scalars(
            sweep_event_folder(sweep_dir, run.name))


def test_a_resumed_run_is_unfinished_while_its_summary_has_fewer_steps(
        run_dir, tmp_path, mlflow_uri):
    out = tmp_path / "resumed"  # `locus train --resume DIR --steps 6000` has rewritten config.json
    shutil.copytree(run_dir, out)
    config = json.loads((out / "config.json").read_text())
    (out / "config.json").write_text(json.dumps({**config, "steps": 6000}))
    (logged,) = tracking.log_run(out, "mlflow", follow=True, poll_s=0.05, timeout_s=0.3,
                                 tracking_uri=mlflow_uri)
    assert not logged.finished
    (out / "config.json").write_text(json.dumps(config))
    with pytest.warns(UserWarning, match="keeps its params \\['steps'\\]"):
        (logged,) = tracking.log_run(out, "mlflow", tracking_uri=mlflow_uri)
    assert logged.finished


def test_follow_gives_up_at_its_timeout_on_a_run_that_does_not_finish(
        run_dir, tmp_path, mlflow_uri):
    out = tmp_path / "stopped"  # a run stopped early (Ctrl-C): no summary.json
    shutil.copytree(run_dir, out, ignore=shutil.ignore_patterns("summary.json"))
    started = time.monotonic()
    (logged,) = tracking.log_run(out, "mlflow", follow=True, poll_s=0.05, timeout_s=0.5,
                                 tracking_uri=mlflow_uri)
    assert 0.5 <= time.monotonic() - started < 10
    assert not logged.finished
    assert mlflow_scalars(mlflow_uri, logged.run_id) == tensorboard_scalars(out / "tensorboard")
    status = mlflow.tracking.MlflowClient(mlflow_uri).get_run(logged.run_id).info.status
    assert status == "RUNNING"


# --- Errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend, package", [("mlflow", "mlflow"), ("wandb", "wandb")])
def test_a_missing_backend_package_says_what_to_install(
        run_dir, monkeypatch, capsys, backend, package):
    monkeypatch.setitem(sys.modules, package, None)  # `import package` now fails
    with pytest.raises(ModuleNotFoundError, match=f"pip install {package}"):
        tracking.log_run(run_dir, backend)
    assert tracking.main([backend, str(run_dir)]) == 1
    assert f"pip install {package}" in capsys.readouterr().err


def test_a_folder_that_is_neither_a_run_nor_a_sweep(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("not a run")
    with pytest.raises(InvalidArgumentError, match="neither a training run .* nor a sweep"):
        tracking.log_run(tmp_path, "mlflow")
    assert tracking.main(["mlflow", str(tmp_path)]) == 2
    assert "neither a training run" in capsys.readouterr().err
    assert tracking.main(["wandb", str(tmp_path / "missing")]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_bad_arguments(run_dir, mlflow_uri, capsys):
    with pytest.raises(InvalidArgumentError, match="unknown backend 'neptune'"):
        tracking.log_run(run_dir, "neptune")
    with pytest.raises(InvalidArgumentError, match="unknown MLflow options \\['project'\\]"):
        tracking.log_run(run_dir, "mlflow", tracking_uri=mlflow_uri, project="x")
    with pytest.raises(InvalidArgumentError, match="set by locus.tracking"):
        tracking.log_run(run_dir, "wandb", name="mine")
    with pytest.raises(InvalidArgumentError, match="poll_s must be positive"):
        tracking.log_run(run_dir, "mlflow", follow=True, poll_s=0)
    with pytest.raises(InvalidArgumentError, match="MLflow cannot use the tracking store"):
        tracking.log_run(run_dir, "mlflow", tracking_uri="nosuchscheme://host/x")
    with pytest.raises(SystemExit) as exit_info:  # argparse: an unknown backend
        tracking.main(["neptune", str(run_dir)])
    assert exit_info.value.code == 2


def test_importing_locus_needs_neither_backend():
    code = ("import sys; sys.modules['mlflow'] = sys.modules['wandb'] = None; "
            "import locus, locus.tracking; print('imported')")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported"
