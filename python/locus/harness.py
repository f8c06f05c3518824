"""The continual-learning harness from Python: ``locus.sweep`` runs what ``locus sweep`` runs.

    import locus
    runs = locus.sweep("bench/configs/default.yaml", jobs=2, out="runs/default")
    runs[0]["method"], runs[0]["seed"], runs[0]["metrics"]["acc"]
    acc = locus.metric_array(runs, "acc", method="ft-sgd")   # numpy, one value per seed

The config is a path to a YAML file, YAML or JSON text, or a dict with the same keys (see
bench/harness/sweep.hpp and ``locus sweep --help``). The runs execute in C++ (TBB workers, ``jobs`` at
a time) without the GIL; each finished run is written to ``out/runs/<id>.json``, so calling
``sweep`` again with the same ``out`` skips the runs that finished, exactly as the command line
does. The result is a plain list of dicts, one per run in the config's order (methods, grid
points, seeds): the lines of ``out/results.jsonl``, with JSON's null (an undefined metric) as
None.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np

from locus import _core
from locus.errors import InvalidArgumentError

SweepConfig = Union[str, "os.PathLike[str]", Mapping[str, Any]]


def _config_source(config: SweepConfig) -> tuple[str, str]:
    """(text, path): exactly one is non-empty."""
    if isinstance(config, Mapping):
        try:
            return json.dumps(dict(config), allow_nan=False), ""
        except (TypeError, ValueError) as error:
            raise InvalidArgumentError(
                f"sweep config dict cannot be written as JSON ({error}); use str, int, float "
                "(finite), bool, None, lists and dicts"
            ) from error
    if isinstance(config, os.PathLike):
        return "", os.fspath(config)
    if isinstance(config, str):
        if "\n" not in config and os.path.isfile(config):
            return "", config
        if "\n" in config or ":" in config or config.lstrip().startswith("{"):
            return config, ""
        raise FileNotFoundError(
            f"sweep config {config!r} is no file; give a path to a YAML file, YAML or JSON text, "
            "or a dict"
        )
    raise TypeError(
        f"sweep config must be a path, YAML/JSON text or a dict, got {type(config).__name__}"
    )


def sweep(
    config: SweepConfig,
    jobs: int = 1,
    out: Optional[Union[str, "os.PathLike[str]"]] = None,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Runs a sweep through the C++ harness (bench/harness/sweep.hpp) and returns its runs.

    Args:
        config: a path to a YAML config, YAML or JSON text, or a dict of the same keys.
        jobs: runs executed at once (TBB workers); the results do not depend on it.
        out: the sweep directory (runs/, results.jsonl, summary.csv); default ``runs/<name>``
            as for ``locus sweep``. Runs already finished there are not run again.
        progress: print the C++ progress line on stderr.

    Returns:
        One dict per run (id, method, seed, grid, settings, metrics, record, ...), in the
        config's order: the lines of ``out/results.jsonl``.

    Raises:
        locus.errors.InvalidArgumentError: a bad config (unknown key or setting, bad value) or
            ``jobs`` < 1, before anything runs.
        locus.errors.SweepStateError: ``out`` holds runs of a different config.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, (int, np.integer)):
        raise TypeError(f"jobs must be an int, got {type(jobs).__name__}")
    text, path = _config_source(config)
    outcome = _core.run_sweep(
        text, path, "" if out is None else os.fspath(out), int(jobs), bool(progress)
    )
    results = Path(outcome["out"]) / "results.jsonl"
    with open(results, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _nan_for_none(value: Any) -> Any:
    if value is None:
        return float("nan")
    if isinstance(value, list):
        return [_nan_for_none(v) for v in value]
    return value


def metric_array(
    runs: Sequence[Mapping[str, Any]], metric: str, method: Optional[str] = None
) -> np.ndarray:
    """One metric of every run (or of ``method``'s runs) as a float64 numpy array.

    A scalar metric ("acc", "bwt", "avg_sg", ...) gives shape (runs,); a per-boundary one ("sg")
    gives (runs, boundaries). Undefined values (None) are NaN.
    """
    selected = [run for run in runs if method is None or run.get("method") == method]
    if method is not None and not selected:
        methods = sorted({str(run.get("method")) for run in runs})
        raise KeyError(f"no run of method {method!r}; the runs' methods: {', '.join(methods)}")
    values = []
    for run in selected:
        metrics = run.get("metrics", {})
        if metric not in metrics:
            raise KeyError(
                f"run {run.get('id')!r} has no metric {metric!r}; its metrics: "
                f"{', '.join(sorted(metrics))}"
            )
        values.append(_nan_for_none(metrics[metric]))
    try:
        return np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"metric {metric!r} is not a number or an equal-length list in every run ({error})"
        ) from error


__all__ = ["metric_array", "sweep"]
