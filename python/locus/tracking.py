"""Logging locus runs and sweeps to MLflow or Weights & Biases, from the files they write.

    import locus.tracking
    locus.tracking.log_run("runs/cp", "mlflow", tracking_uri="http://localhost:5000")
    locus.tracking.log_run("runs/default", "wandb", project="ngm", follow=True)

    python -m locus.tracking mlflow runs/cp --experiment cartpole
    python -m locus.tracking wandb runs/default --project ngm --follow

Design notes (the why; docs/tracking.md says what is logged):

- Training runs in C++ and never calls Python, so logging cannot hook into it; reading the files
  afterwards (or alongside) works the same for ``locus train``, ``locus.train``, runs under
  ``mpirun`` and runs copied from a cluster.
- Three modules, one concept each: ``locus.tracking_sources`` reads a run or sweep folder (its
  runs, when each has finished, the tail of its TensorBoard event files);
  ``locus.tracking_backends`` holds the MLflow and W&B backends; this module joins them
  (``log_run``, the command line). The design notes of each part are in its module's docstring.
- ``mlflow``, ``wandb`` and ``tensorboard`` are imported only when used: ``import locus`` needs
  none of them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from typing import Any, Optional, Union

from locus.errors import InvalidArgumentError
from locus.tracking_backends import BACKENDS, Backend, BackendRun, make_backend
from locus.tracking_sources import EventTail, Source, SweepRun, runs_in


@dataclass(frozen=True)
class LoggedRun:
    """One locus run (a training agent, or a sweep's run) and the backend run it went to."""

    name: str  # the locus run's name, also the backend run's name
    run_id: str  # the backend's id of the run (MLflow run id, W&B run id)
    scalars: int  # (tag, step) values this call logged; values already there are not counted
    finished: bool  # whether the locus run had finished when the call returned


# --- Logging -----------------------------------------------------------------------------------


class _RunLogger:
    """One locus run's backend run, opened once its events can be read, fed what is new."""

    def __init__(self, run: Source, backend: Backend) -> None:
        self.run, self._backend = run, backend
        self._tail = EventTail(run.event_file)
        self._backend_run: Optional[BackendRun] = None
        self.scalars = 0
        self.result: Optional[LoggedRun] = None

    def poll(self) -> None:
        if self.result is not None or not self.run.ready():
            return
        if self._backend_run is None:
            self._backend_run = self._backend.open(self.run)
        new = []
        for step, wall_time, scalars in self._tail.read_new():
            fresh = {t: v for t, v in scalars.items() if (t, step) not in self._backend_run.logged}
            if fresh:
                new.append((step, wall_time, fresh))
                self._backend_run.logged.update((t, step) for t in fresh)
        if new:
            self._backend_run.log(new)
            self.scalars += sum(len(scalars) for _, _, scalars in new)

    def close(self, finished: bool) -> None:
        """Ends the backend run (once), recording what was logged in `result`."""
        if self.result is not None or self._backend_run is None:
            return
        self._backend_run.close(finished)
        self.result = LoggedRun(self.run.name, self._backend_run.run_id, self.scalars, finished)


def _default_experiment(runs: list[Source]) -> str:
    return runs[0].group if isinstance(runs[0], SweepRun) else "locus"


def log_run(
    path: Union[str, os.PathLike[str]],
    backend: str,
    *,
    follow: bool = False,
    poll_s: float = 2.0,
    timeout_s: Optional[float] = None,
    **options: Any,
) -> list[LoggedRun]:
    """Logs a locus training run or sweep to MLflow or W&B: every TensorBoard scalar at its step,
    and each run's config as params (MLflow) or config (W&B).

    Args:
        path: a run folder of ``locus train`` / ``locus.train`` (one backend run per agent: a
            multi-seed run gives one per seed), or a sweep folder of ``locus sweep`` /
            ``locus.sweep`` (one backend run per sweep run).
        backend: "mlflow" or "wandb".
        follow: keep reading new events every ``poll_s`` seconds until the run or sweep has
            finished (every agent's summary.json written / every sweep run's file), then return.
            Without it, what the files hold now is logged and the call returns.
        poll_s: with ``follow``, the seconds between two reads of the files.
        timeout_s: with ``follow``, stop following after this many seconds (what was written by
            then is logged); None waits for the end.
        options: for MLflow ``tracking_uri``, ``experiment`` (default: MLFLOW_EXPERIMENT_NAME, else
            the sweep's name for a sweep, "locus" for a training run) and ``tags``; for W&B any
            keyword of ``wandb.init`` but name, config and reinit (``project`` defaults to
            WANDB_PROJECT, else "locus"; a sweep's runs get ``group`` = the sweep's name).

    Returns:
        One LoggedRun per backend run written to, in the folder's order.

    Raises:
        locus.errors.InvalidArgumentError: a path that is no run or sweep folder, an unknown
            backend or option, or an MLflow tracking store that cannot be used.
        ModuleNotFoundError: the backend's package (or tensorboard) is not installed; the message
            says what to pip install.

    Calling it again for the same run and MLflow experiment continues the same MLflow run and
    logs only the values it lacks; for W&B each call makes a new W&B run.
    """
    if backend not in BACKENDS:
        raise InvalidArgumentError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    if follow and not poll_s > 0:
        raise InvalidArgumentError(f"poll_s must be positive, got {poll_s}")
    runs = runs_in(path)
    target = make_backend(backend, _default_experiment(runs), options)
    loggers = [_RunLogger(run, target) for run in runs]
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    try:
        _poll_until_done(loggers, follow, poll_s, deadline)
    finally:
        for logger in loggers:
            logger.close(logger.run.finished())
    return [logger.result for logger in loggers if logger.result is not None]


def _poll_until_done(
    loggers: list[_RunLogger], follow: bool, poll_s: float, deadline: Optional[float]
) -> None:
    while True:
        # Read "finished" before the events: everything a finished run wrote is then read below.
        finished = [logger.run.finished() for logger in loggers]
        for logger, done in zip(loggers, finished):
            logger.poll()
            if done:
                logger.close(True)
        if all(finished) or not follow:
            return
        if deadline is not None and time.monotonic() >= deadline:
            return
        time.sleep(poll_s)


# --- Command line ------------------------------------------------------------------------------

EXIT_RUNTIME_ERROR = 1
EXIT_USAGE_ERROR = 2


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="a run folder (locus train) or a sweep folder (locus sweep)")
    parser.add_argument(
        "--follow", action="store_true", help="keep logging new events until the run finishes"
    )
    parser.add_argument("--poll", type=float, default=2.0, metavar="SECONDS",
                        help="with --follow: seconds between reads (default 2)")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help="with --follow: stop following after this long")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m locus.tracking",
        description="Log a locus run or sweep (its TensorBoard scalars and config) to MLflow or "
        "Weights & Biases.",
    )
    backends = parser.add_subparsers(dest="backend", required=True, metavar="{mlflow,wandb}")
    mlflow = backends.add_parser("mlflow", help="log to MLflow")
    _add_common(mlflow)
    mlflow.add_argument("--tracking-uri", help="MLflow tracking URI (default: MLflow's own)")
    mlflow.add_argument("--experiment", help="experiment name (default: sweep name or 'locus')")
    wandb = backends.add_parser("wandb", help="log to Weights & Biases")
    _add_common(wandb)
    wandb.add_argument("--project", help="W&B project (default: WANDB_PROJECT or 'locus')")
    wandb.add_argument("--entity", help="W&B entity (team or user)")
    wandb.add_argument("--mode", choices=("online", "offline"), help="W&B mode")
    wandb.add_argument("--dir", help="folder for W&B's local files")
    return parser


def _options(args: argparse.Namespace) -> dict[str, Any]:
    names = ("tracking_uri", "experiment") if args.backend == "mlflow" else (
        "project", "entity", "mode", "dir"
    )
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def main(argv: Optional[list[str]] = None) -> int:
    """``python -m locus.tracking``: 0 when logged, 2 for a usage error, 1 for any other."""
    args = _parser().parse_args(argv)  # exits with status 2 on bad flags
    try:
        logged = log_run(args.path, args.backend, follow=args.follow, poll_s=args.poll,
                         timeout_s=args.timeout, **_options(args))
    except InvalidArgumentError as error:
        print(f"locus.tracking: error: {error}", file=sys.stderr)
        return EXIT_USAGE_ERROR
    except ModuleNotFoundError as error:
        print(f"locus.tracking: error: {error}", file=sys.stderr)
        return EXIT_RUNTIME_ERROR
    except Exception as error:  # noqa: BLE001 - the command line reports every failure
        print(f"locus.tracking: error: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_RUNTIME_ERROR
    for run in logged:
        state = "finished" if run.finished else "not finished"
        print(f"{args.backend}: {run.name} -> {run.run_id} ({run.scalars} values, {state})")
    return 0


__all__ = ["BACKENDS", "LoggedRun", "log_run", "main"]

if __name__ == "__main__":
    sys.exit(main())
