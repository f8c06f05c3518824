"""examples/python/ppo_cleanrl_style.py: PyTorch takes locus's arrays without a warning, and the
example learns. Needs PyTorch: it runs in .venv-compat (tests/compat)."""

from __future__ import annotations

import importlib.util
import pathlib
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "python" / "ppo_cleanrl_style.py"


def test_the_cleanrl_style_example_learns_without_warnings():
    spec = importlib.util.spec_from_file_location("ppo_cleanrl_style", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        returns = example.train("CartPole-v1", steps=40_960, seed=0)
    assert [str(w.message) for w in caught if "writable" in str(w.message)] == []
    assert np.mean(returns[-20:]) > 4 * np.mean(returns[:20]), (returns[:20], returns[-20:])


def test_read_only_views_are_what_torch_warns_about():
    # Why the example passes copy=True: without it, the arrays are read-only views.
    import locus

    observations, _ = locus.make_vec("CartPole-v1", 2).reset(seed=0)
    assert not observations.flags.writeable
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.Tensor(observations)
    assert any("not writable" in str(w.message) for w in caught)
