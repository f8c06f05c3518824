"""locus.train_supervised: recurrent networks trained by supervision on the cognitive tasks (the C++
side is tested in tests/supervised): a short run that must learn, its history and directory, the
progress callback and errors."""

from __future__ import annotations

import json

import pytest

import locus
from locus import errors

SMALL = {"hidden": 32, "seq_len": 50, "eval_trials": 200, "seed": 3}


def test_a_short_run_learns_and_returns_its_history(tmp_path):
    out = tmp_path / "run"
    seen = []
    result = locus.train_supervised(
        "PerceptualDecisionMaking-v0",
        network="gru",
        iterations=150,
        eval_every=50,
        out=str(out),
        progress=seen.append,
        **SMALL,
    )
    # Chance is 0.5 (a coin flip between the two directions at the right time).
    assert result["accuracy"] > 0.7
    assert result["trials"] == 200 and result["iterations"] == 150
    assert result["history"]["iteration"] == [50, 100, 150]
    assert result["history"]["accuracy"][-1] == result["accuracy"]
    assert [h["iteration"] for h in seen] == [[50], [50, 100], [50, 100, 150]]
    assert json.loads((out / "summary.json").read_text())["accuracy"] == result["accuracy"]
    network = locus.Network.load(str(out / "network.ckpt"))
    assert network is not None


def test_a_modulated_network_learns_and_progress_can_stop_it():
    result = locus.train_supervised(
        "GoNoGo-v0", modulated=True, iterations=200, eval_every=100, **SMALL
    )
    assert result["accuracy"] > 0.8  # withholding on every trial scores 0.5
    assert result["network"] == "modulated_gru"
    stopped = locus.train_supervised(
        "GoNoGo-v0", iterations=200, eval_every=50, progress=lambda history: False, **SMALL
    )
    assert stopped["history"]["iteration"] == [50]


def test_bad_input_raises_with_the_problem_named(tmp_path):
    with pytest.raises(errors.InvalidArgumentError, match="use elman, gru or lstm"):
        locus.train_supervised("GoNoGo-v0", network="rnn", iterations=1)
    with pytest.raises(errors.InvalidArgumentError, match="does not say its per-step target"):
        locus.train_supervised("CartPole-v1", iterations=1)
    with pytest.raises(errors.InvalidArgumentError, match="batch_size must be at least 1"):
        locus.train_supervised("GoNoGo-v0", batch_size=0, iterations=1)
    with pytest.raises(errors.UnknownEnvError, match="Did you mean"):
        locus.train_supervised("GoNogo-v0", iterations=1)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(errors.InvalidArgumentError, match="already holds a run"):
        locus.train_supervised("GoNoGo-v0", iterations=1, out=str(tmp_path), **SMALL)
