"""The two backends of ``locus.tracking``: MLflow (through MlflowClient) and Weights & Biases.

A backend opens one backend run per locus run (``Backend.open``), which takes the new scalars
(``BackendRun.log``) and is closed at the end (``BackendRun.close``); ``logged`` holds the (tag,
step) values the backend run already has, so ``locus.tracking`` sends only what it lacks. What a
folder holds and its event files are ``locus.tracking_sources``.

Design notes:

- MLflow is used through ``MlflowClient`` (no global active run), so the agents of a multi-seed
  run, which train side by side, are logged side by side. A tag (``locus.key``) marks the MLflow
  run of each locus run: a second call finds it and logs only the (tag, step) values it lacks.
  W&B runs are created with ``reinit="create_new"`` for the same reason; a W&B offline run cannot
  be continued, so each call makes a new W&B run (documented; ``follow=True`` is the way to log a
  run in progress once).
- ``mlflow`` and ``wandb`` are imported only when their backend is made: ``import locus`` needs
  neither.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Iterable, Mapping
from typing import Any, Optional, Protocol

from locus.errors import InvalidArgumentError
from locus.tracking_sources import Event, Source

BACKENDS = ("mlflow", "wandb")


class BackendRun(Protocol):
    run_id: str
    logged: set[tuple[str, int]]  # (tag, step) values the backend run already holds

    def log(self, events: list[Event]) -> None: ...

    def close(self, finished: bool) -> None: ...


class Backend(Protocol):
    def open(self, run: Source) -> BackendRun: ...


def _missing_package(backend: str, error: ImportError) -> ModuleNotFoundError:
    hints = {
        "mlflow": "pip install mlflow (or the lighter client alone: pip install mlflow-skinny)",
        "wandb": "pip install wandb",
    }
    return ModuleNotFoundError(
        f"logging to {backend} needs the {backend} package, which cannot be imported ({error}): "
        f"{hints[backend]}",
        name=backend,
    )


def _flat_params(config: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """A nested config as MLflow params: dotted keys, values as JSON text (strings as they are)."""
    params: dict[str, str] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            params.update(_flat_params(value, name + "."))
        else:
            params[name] = value if isinstance(value, str) else json.dumps(value)
    return params


def _batches(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _run_key_digest(run: Source) -> str:
    return hashlib.sha256(run.key.encode("utf-8")).hexdigest()[:32]


class _MlflowRun:
    def __init__(
        self, client: Any, entities: Any, run_id: str, logged: set[tuple[str, int]]
    ) -> None:
        self._client, self._entities = client, entities
        self.run_id = run_id
        self.logged = logged

    def log_params(self, params: dict[str, str], existing: Mapping[str, str]) -> None:
        changed = sorted(k for k, v in params.items() if k in existing and existing[k] != v)
        if changed:
            warnings.warn(
                f"MLflow run {self.run_id} keeps its params {changed}: MLflow params cannot "
                "change (the locus run's config changed, e.g. steps on a resume)",
                stacklevel=4,
            )
        new = [self._entities.Param(k, v) for k, v in params.items() if k not in existing]
        for batch in _batches(new, 100):
            self._client.log_batch(self.run_id, params=batch)

    def log(self, events: list[Event]) -> None:
        metrics = [
            self._entities.Metric(tag, value, int(wall_time * 1000), step)
            for step, wall_time, scalars in events
            for tag, value in scalars.items()
        ]
        for batch in _batches(metrics, 1000):
            self._client.log_batch(self.run_id, metrics=batch)

    def close(self, finished: bool) -> None:
        if finished:
            self._client.set_terminated(self.run_id, "FINISHED")


class _Mlflow:
    """MLflow through MlflowClient; options: tracking_uri, experiment, tags."""

    OPTIONS = ("tracking_uri", "experiment", "tags")

    def __init__(self, default_experiment: str, **options: Any) -> None:
        unknown = sorted(set(options) - set(self.OPTIONS))
        if unknown:
            raise InvalidArgumentError(
                f"unknown MLflow options {unknown}; allowed: {', '.join(self.OPTIONS)}"
            )
        try:
            from mlflow import entities
            from mlflow.tracking import MlflowClient
        except ImportError as error:
            raise _missing_package("mlflow", error) from error
        self._entities = entities
        self._tags = dict(options.get("tags") or {})
        self._client = self._make_client(MlflowClient, options.get("tracking_uri"))
        name = (
            options.get("experiment")
            or os.environ.get("MLFLOW_EXPERIMENT_NAME")
            or default_experiment
        )
        self._experiment_id = self._experiment(name)

    @staticmethod
    def _make_client(client_class: Any, tracking_uri: Optional[str]) -> Any:
        try:
            return client_class(tracking_uri=tracking_uri)
        except Exception as error:  # noqa: BLE001 - MLflow raises several kinds for a bad store
            raise InvalidArgumentError(
                f"MLflow cannot use the tracking store {tracking_uri or '(its default)'}: "
                f"{str(error).rstrip('.')}. Give tracking_uri (--tracking-uri): a tracking "
                "server (http://HOST:5000), sqlite:///mlflow.db (needs the full mlflow, or "
                "sqlalchemy and alembic beside mlflow-skinny), or file:DIR with "
                "MLFLOW_ALLOW_FILE_STORE=true"
            ) from error

    def _experiment(self, name: str) -> str:
        experiment = self._client.get_experiment_by_name(name)
        if experiment is not None:
            return experiment.experiment_id
        try:
            return self._client.create_experiment(name)
        except Exception:  # another process created it meanwhile
            experiment = self._client.get_experiment_by_name(name)
            if experiment is None:
                raise
            return experiment.experiment_id

    def _existing(self, digest: str) -> Any:
        found = self._client.search_runs(
            [self._experiment_id], filter_string=f"tags.`locus.key` = '{digest}'", max_results=1
        )
        return found[0] if found else None

    def _held(self, run: Any) -> set[tuple[str, int]]:
        """The (tag, step) values an existing MLflow run holds."""
        run_id = run.info.run_id
        return {
            (key, int(metric.step))
            for key in run.data.metrics
            for metric in self._client.get_metric_history(run_id, key)
        }

    def open(self, run: Source) -> _MlflowRun:
        digest = _run_key_digest(run)
        existing = self._existing(digest)
        params = _flat_params(run.config())
        if existing is not None:  # a second call: continue the run, log only what it lacks
            run_id = existing.info.run_id
            self._client.update_run(run_id, status="RUNNING")
            opened = _MlflowRun(self._client, self._entities, run_id, self._held(existing))
            opened.log_params(params, existing.data.params)
            return opened
        tags = {"locus.key": digest, "locus.path": run.key, "locus.kind": run.kind}
        if run.group:
            tags["locus.group"] = run.group
        created = self._client.create_run(
            self._experiment_id, run_name=run.name, tags={**tags, **self._tags}
        )
        opened = _MlflowRun(self._client, self._entities, created.info.run_id, set())
        opened.log_params(params, {})
        return opened


class _WandbRun:
    def __init__(self, run: Any) -> None:
        self._run = run
        self.run_id: str = run.id
        self.logged: set[tuple[str, int]] = set()

    def log(self, events: list[Event]) -> None:
        # W&B drops a row whose step is below the last one: steps go in order.
        for step, _, scalars in sorted(events, key=lambda event: event[0]):
            self._run.log(scalars, step=step)

    def close(self, finished: bool) -> None:
        self._run.summary["locus/finished"] = finished
        self._run.finish()


class _Wandb:
    """W&B: one wandb.init per locus run; options go to wandb.init (project, entity, mode, ...)."""

    RESERVED = ("name", "config", "reinit")

    def __init__(self, **options: Any) -> None:
        reserved = sorted(set(options) & set(self.RESERVED))
        if reserved:
            raise InvalidArgumentError(
                f"W&B options {reserved} are set by locus.tracking (the run's name and config); "
                "leave them out"
            )
        try:
            import wandb
        except ImportError as error:
            raise _missing_package("wandb", error) from error
        self._wandb = wandb
        self._options = dict(options)
        if not self._options.get("project") and not os.environ.get("WANDB_PROJECT"):
            self._options["project"] = "locus"

    def open(self, run: Source) -> _WandbRun:
        options = {"group": run.group, "job_type": run.kind, **self._options}
        started = self._wandb.init(
            name=run.name, config=run.config(), reinit="create_new", **options
        )
        return _WandbRun(started)


def make_backend(name: str, default_experiment: str, options: dict[str, Any]) -> Backend:
    if name == "mlflow":
        return _Mlflow(default_experiment, **options)
    if name == "wandb":
        return _Wandb(**options)
    raise InvalidArgumentError(f"unknown backend {name!r}; expected one of {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "Backend", "BackendRun", "make_backend"]
