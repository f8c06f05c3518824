"""What a locus run or sweep folder holds, and the tail of its TensorBoard event files.

The read side of ``locus.tracking``: the locus runs a folder holds (a training run's agents, a
sweep's runs), when each has finished, and the scalars its event file holds that were not read
yet. The backends (``locus.tracking_backends``) and ``log_run`` (``locus.tracking``) build on it.

Design notes:

- The source is the TensorBoard event files that ``locus train`` and ``locus sweep`` already write
  (agents/run_tensorboard.hpp, bench/harness/run_tensorboard.hpp), read with TensorBoard's own
  reader. The tags and steps are then exactly those TensorBoard shows, with no second mapping of
  metrics.jsonl fields to names that could drift from the C++ one; and the reader tails a file
  that is still being appended to (it keeps its offset and retries a record cut short), which is
  what ``follow=True`` needs.
- "Finished" is read from what the C++ writes last. A training agent writes summary.json after it
  has flushed and closed its event file; a resumed run with more steps still has the old
  summary.json until it ends, so a summary counts only when its steps reach config.json's. A
  sweep writes each run's event file and then, atomically, runs/<id>.json (what marks the run
  finished), and sweep.json lists every run id, so the sweep is done when every run file exists.
- A resumed run replaces its event file (atomically, with the rows it keeps and new wall times):
  the tail reopens a file whose inode changed, since a reader that went on from its offset would
  join a record's old bytes to the new file's rest (TensorBoard's reader without TensorFlow reads
  by path and offset); values are keyed by (tag, step), so nothing is logged twice.
- ``tensorboard`` is imported only when an event file is read: ``import locus`` does not need it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

from locus.errors import InvalidArgumentError

EVENT_FILE_NAME = "events.out.tfevents.locus"  # util/tensorboard_events.hpp, kEventFileName
TENSORBOARD_FOLDER = "tensorboard"

# (step, wall time in seconds, {tag: value}): one TensorBoard event's scalars.
Event = tuple[int, float, dict[str, float]]


# --- What a folder holds -----------------------------------------------------------------------


def _read_json(path: Path) -> Any:
    """The file's JSON, or None while it is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class AgentRun:
    """One training agent's folder: a run of one seed, or a multi-seed run's seed_<s>/."""

    folder: Path
    run_folder: Path  # the folder given: its config.json holds the steps every agent trains for
    name: str
    group: Optional[str]
    kind = "train"

    @property
    def key(self) -> str:
        return str(self.folder.resolve())

    @property
    def event_file(self) -> Path:
        return self.folder / TENSORBOARD_FOLDER / EVENT_FILE_NAME

    def ready(self) -> bool:
        return self.event_file.is_file()

    def config(self) -> dict[str, Any]:
        return _read_json(self.folder / "config.json") or _read_json(
            self.run_folder / "config.json"
        ) or {}

    def finished(self) -> bool:
        summary = _read_json(self.folder / "summary.json")
        if not isinstance(summary, dict):
            return False
        target = (_read_json(self.run_folder / "config.json") or {}).get("steps")
        steps = summary.get("steps")
        return not (isinstance(target, int) and isinstance(steps, int) and steps < target)


@dataclass(frozen=True)
class SweepRun:
    """One run of a sweep: its event folder is complete once its run file exists."""

    sweep_folder: Path
    run_id: str
    sweep_name: str
    kind = "sweep"

    @property
    def name(self) -> str:
        return self.run_id

    @property
    def group(self) -> str:
        return self.sweep_name

    @property
    def key(self) -> str:
        return f"{self.sweep_folder.resolve()}#{self.run_id}"

    @property
    def event_file(self) -> Path:
        return self.sweep_folder / TENSORBOARD_FOLDER / self.run_id / EVENT_FILE_NAME

    def ready(self) -> bool:
        return self.finished()

    def config(self) -> dict[str, Any]:
        run = _read_json(self.sweep_folder / "runs" / f"{self.run_id}.json") or {}
        config = {"method": run.get("method"), "seed": run.get("seed")}
        config.update(run.get("settings") or {})
        for key in ("grid", "scenario"):
            if run.get(key):
                config[key] = run[key]
        return config

    def finished(self) -> bool:
        return (self.sweep_folder / "runs" / f"{self.run_id}.json").is_file()


Source = Union[AgentRun, SweepRun]


def _sweep_runs(folder: Path) -> list[Source]:
    sweep = _read_json(folder / "sweep.json")
    if not isinstance(sweep, dict) or not isinstance(sweep.get("runs"), list):
        raise InvalidArgumentError(f"{folder / 'sweep.json'} is damaged: it lists no runs")
    name = str(sweep.get("name") or folder.name)
    return [SweepRun(folder, str(run_id), name) for run_id in sweep["runs"]]


def _agent_runs(folder: Path) -> list[Source]:
    config = _read_json(folder / "config.json")
    if not isinstance(config, dict):
        raise InvalidArgumentError(f"{folder / 'config.json'} is damaged: not a JSON object")
    seeds = config.get("seeds") or []
    if len(seeds) <= 1:  # agents/run.cpp: one seed trains in the run folder itself
        return [AgentRun(folder, folder, folder.name, None)]
    return [
        AgentRun(folder / f"seed_{seed}", folder, f"{folder.name}/seed_{seed}", folder.name)
        for seed in seeds
    ]


def runs_in(path: Union[str, os.PathLike[str]]) -> list[Source]:
    """The locus runs of a training run folder or a sweep folder."""
    folder = Path(path)
    if not folder.is_dir():
        raise InvalidArgumentError(f"{folder}: no such folder (expected a locus run or sweep)")
    if (folder / "sweep.json").is_file():
        return _sweep_runs(folder)
    if (folder / "config.json").is_file():
        return _agent_runs(folder)
    raise InvalidArgumentError(
        f"{folder} is neither a training run (config.json, from `locus train` or locus.train) "
        "nor a sweep (sweep.json, from `locus sweep` or locus.sweep)"
    )


# --- Reading events ----------------------------------------------------------------------------


def _import_tensorboard() -> tuple[Any, Any]:
    try:
        from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
        from tensorboard.util import tensor_util
    except ImportError as error:
        raise ModuleNotFoundError(
            f"reading locus's event files needs TensorBoard ({error}): pip install tensorboard",
            name="tensorboard",
        ) from error
    return EventFileLoader, tensor_util


def _scalar(value: Any, tensor_util: Any) -> Optional[float]:
    """A summary value's number, if it is a scalar (the reader turns simple_value into a tensor)."""
    if value.HasField("simple_value"):
        return float(value.simple_value)
    if value.metadata.plugin_data.plugin_name == "scalars" and value.HasField("tensor"):
        return float(tensor_util.make_ndarray(value.tensor).item())
    return None


class EventTail:
    """The events of one file not read yet; reopens the file when it was replaced."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._loader: Any = None
        self._identity: Optional[tuple[int, int]] = None
        self._loader_class, self._tensor_util = _import_tensorboard()

    def read_new(self) -> list[Event]:
        try:
            stat = self._path.stat()
        except OSError:
            return []
        if (stat.st_dev, stat.st_ino) != self._identity:
            self._loader = self._loader_class(str(self._path))
            self._identity = (stat.st_dev, stat.st_ino)
        events = []
        for event in self._loader.Load():
            scalars = {}
            for value in event.summary.value:
                number = _scalar(value, self._tensor_util)
                if number is not None:
                    scalars[value.tag] = number
            if scalars:
                events.append((int(event.step), float(event.wall_time), scalars))
        return events


__all__ = [
    "EVENT_FILE_NAME",
    "TENSORBOARD_FOLDER",
    "AgentRun",
    "Event",
    "EventTail",
    "Source",
    "SweepRun",
    "runs_in",
]
