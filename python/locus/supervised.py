"""Supervised training of recurrent networks on the cognitive tasks, as NeuroGym trains them.

    result = locus.train_supervised("PerceptualDecisionMaking-v0", network="gru", hidden=64,
                                    iterations=1500, out="runs/pdm")
    result["accuracy"]            # held-out trials whose decision (arg-max at the trial's last
                                  # step) was right
    result["history"]["accuracy"]  # one value per evaluation

The same run as ``locus supervised --env PerceptualDecisionMaking-v0 ...``; the C++ side is
supervised/trial_run.hpp.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Mapping
from typing import Any

from locus import _core


def train_supervised(
    env: str,
    *,
    network: str = "gru",
    hidden: int = 128,
    modulated: bool = False,
    alpha: float = 1.0,
    spec: Mapping[str, Any] | str | None = None,
    iterations: int = 2000,
    eval_every: int = 0,
    eval_trials: int = 500,
    batch_size: int = 16,
    seq_len: int = 100,
    seed: int = 0,
    learning_rate: float | None = None,
    clip_grad_norm: float = 1.0,
    reset_at_trial_start: bool = False,
    env_kwargs: Mapping[str, Any] | None = None,
    out: str | None = None,
    progress: Callable[[dict[str, Any]], bool | None] | None = None,
) -> dict[str, Any]:
    """Trains a recurrent network on the cognitive task `env`; returns the run's summary.

    network: "elman", "gru" or "lstm" with `hidden` units; modulated: fixed random weights with
    learned per-context gains and biases (else every weight learns); alpha: an Elman layer's leak
    dt/tau; spec: a whole network spec instead (a dict or JSON text, as checkpoints store it).
    Each iteration is one Adam step on a (seq_len, batch_size) window of trial streams, with
    cross-entropy on every step; learning_rate defaults to 0.01 (0.1 when modulated).
    The summary holds "accuracy" (on `eval_trials` held-out trials), "correct", "trials",
    "iterations", "train_seconds" and "history" (lists "iteration", "loss", "train_accuracy",
    "accuracy", one entry per evaluation: every `eval_every` iterations and after the last).
    out: a directory that holds no run yet (config.json, metrics.csv, summary.json,
    network.ckpt, which locus.Network.load reads); default a new temporary directory.
    progress, if given, is called with the history after each evaluation; returning False stops
    the run early.
    """
    spec_json = None if spec is None else spec if isinstance(spec, str) else json.dumps(spec)
    if out is None:
        out = tempfile.mkdtemp(prefix="locus-supervised-")
    result = _core.train_supervised(
        env,
        dict(env_kwargs or {}),
        network,
        int(hidden),
        bool(modulated),
        float(alpha),
        spec_json,
        int(iterations),
        int(eval_every),
        int(eval_trials),
        int(batch_size),
        int(seq_len),
        int(seed),
        learning_rate,
        float(clip_grad_norm),
        bool(reset_at_trial_start),
        str(out),
        progress,
    )
    result["out"] = str(out)
    return result
