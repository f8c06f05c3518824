"""Errors arrive as clear Python exceptions of Gymnasium's (and Python's) classes, and leave the
C++ side usable."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import locus
from locus import _core, errors


def test_error_classes_derive_from_gymnasiums_and_builtins():
    assert issubclass(errors.UnknownEnvError, gym.error.NameNotFound)
    assert issubclass(errors.InvalidActionError, gym.error.InvalidAction)
    assert issubclass(errors.InvalidActionError, ValueError)
    assert issubclass(errors.ResetNeededError, gym.error.ResetNeeded)
    assert issubclass(errors.ResetNeededError, RuntimeError)
    assert issubclass(errors.InvalidArgumentError, ValueError)
    assert issubclass(errors.CheckError, AssertionError)
    assert issubclass(errors.PluginError, ImportError)
    for cls in (errors.UnknownEnvError, errors.InvalidActionError, errors.InvalidArgumentError):
        assert issubclass(cls, errors.Error) and issubclass(cls, gym.error.Error)


def test_unknown_id_names_close_matches():
    with pytest.raises(errors.UnknownEnvError, match="Did you mean: 'CartPole-v1'"):
        locus.LocusEnv("CartPol-v1")
    with pytest.raises(gym.error.NameNotFound):
        locus.make_vec("CartPol-v1", 2)
    with pytest.raises(gym.error.Error):
        gym.make("locus/CartPol-v1")  # Gymnasium's own registry answers first


def test_bad_kwargs_raise_value_errors_naming_them():
    with pytest.raises(ValueError, match="gravty"):
        gym.make("locus/CartPoleDomainShift-v1", gravty=1.0)
    with pytest.raises(errors.InvalidArgumentError, match="argument 'gravity' must be a finite number"):
        gym.make("locus/CartPoleDomainShift-v1", gravity="strong")
    with pytest.raises(errors.InvalidArgumentError, match="cannot pass a value of type object"):
        gym.make("locus/CartPole-v1", sutton_barto_reward=object())
    with pytest.raises(ValueError, match="render_mode 'rgb_array' is not supported"):
        gym.make("locus/CartPoleDomainShift-v1", render_mode="rgb_array")


def test_bad_single_env_actions(record_warnings):
    env = locus.LocusEnv("CartPole-v1")
    env.reset(seed=0)
    with pytest.raises(errors.InvalidActionError, match=r"action 2 is not in the action space Discrete\(2\)"):
        env.step(2)
    with pytest.raises(errors.InvalidActionError, match="an integer is needed, got dtype float64"):
        env.step(1.0)
    with pytest.raises(errors.InvalidActionError, match="arrays of dtype object are not supported"):
        env.step(None)
    with pytest.raises(errors.InvalidActionError, match="not in the space"):
        env.step(np.array([0, 1]))
    with pytest.raises(errors.InvalidActionError, match="not supported"):
        env.step(np.array(1, dtype=np.uint32))
    env.step(1)  # still usable
    box = locus.LocusEnv("Pendulum-v1")
    box.reset(seed=0)
    # float64 and out-of-range torques are Gymnasium's to take (test_gymnasium_compat.py); a wrong
    # shape, NaN and a dtype numpy cannot compute with are not.
    with pytest.raises(errors.InvalidActionError, match=r"shape \(2,\) instead of \(1,\)"):
        box.step(np.array([0.5, 0.5], dtype=np.float32))
    with pytest.raises(errors.InvalidActionError, match="NaN"):
        box.step(np.array([np.nan], dtype=np.float32))
    with pytest.raises(errors.InvalidActionError, match="not in the space"):
        box.step(1.5)


def test_step_before_reset_and_bad_seeds():
    env = locus.LocusEnv("CartPole-v1")
    with pytest.raises(errors.ResetNeededError, match="before calling reset"):
        env.step(0)
    with pytest.raises(errors.InvalidArgumentError, match="non-negative"):
        env.reset(seed=-1)
    with pytest.raises(errors.InvalidArgumentError, match="got 1.5"):
        env.reset(seed=1.5)
    with pytest.raises(errors.InvalidArgumentError, match="options must be"):
        env.reset(options=[1, 2])
    obs, _ = env.reset(seed=2**64 - 1)
    assert obs in env.observation_space


def test_bad_vector_actions_leave_the_env_untouched():
    env = locus.make_vec("CartPole-v1", 4, copy=True)
    obs, _ = env.reset(seed=0)
    bad_actions = [
        (np.array([0, 1, 2, 0]), "the action of env 2, 2, is not in the single action space"),
        (np.array([0.0, 1.0, 0.0, 1.0]), "dtype float64 does not fit"),
        (np.array([0, 1, 0]), r"shape \(3,\), expected \(4,\)"),
        (np.array([[0, 1, 0, 1]]), r"shape \(1, 4\)"),
        (np.array([0, 1, 0, 1], dtype=np.uint64), "dtype uint64 does not fit"),
        ("left", r"shape \(\), expected \(4,\)"),
        (["l", "e", "f", "t"], "dtype <U1 does not fit"),
        ([0, None, 1, 0], "cannot be read|does not fit"),
    ]
    for actions, message in bad_actions:
        with pytest.raises(errors.InvalidActionError, match=message):
            env.step(actions)
    # Nothing moved: the first valid step continues from the reset state.
    after = env.step(np.ones(4, dtype=np.int64))[0]
    reference = locus.make_vec("CartPole-v1", 4)
    reference.reset(seed=0)
    np.testing.assert_array_equal(after, reference.step(np.ones(4, dtype=np.int64))[0])


def test_vector_reset_errors():
    env = locus.make_vec("CartPole-v1", 3)
    with pytest.raises(errors.ResetNeededError, match="call reset"):
        env.step(np.zeros(3, dtype=np.int64))
    with pytest.raises(errors.InvalidArgumentError, match="bool array"):
        env.reset(mask=np.array([1, 0, 1]))
    with pytest.raises(errors.InvalidArgumentError, match=r"shape \(3,\)"):
        env.reset(mask=np.array([True, False]))
    with pytest.raises(errors.InvalidArgumentError, match="at least one"):
        env.reset(mask=np.zeros(3, dtype=bool))
    with pytest.raises(errors.InvalidArgumentError, match="2 seeds given for num_envs=3"):
        env.reset(seed=[1, 2])
    with pytest.raises(errors.InvalidArgumentError, match="env 1: seed must be a non-negative int, got -4"):
        env.reset(seed=[1, -4, 2])
    with pytest.raises(errors.InvalidArgumentError, match="autoreset_mode"):
        locus.make_vec("CartPole-v1", 2, autoreset_mode="sometimes")
    with pytest.raises(errors.InvalidArgumentError, match="num_envs"):
        locus.make_vec("CartPole-v1", 0)


def test_stepping_an_ended_env_with_autoreset_disabled():
    env = locus.make_vec("CartPole-v1", 2, autoreset_mode="Disabled")
    env.reset(seed=0)
    ended = np.zeros(2, dtype=bool)
    while not ended.any():
        _, _, terminated, truncated, _ = env.step(np.ones(2, dtype=np.int64))
        ended = terminated | truncated
    with pytest.raises(errors.ResetNeededError, match="autoreset_mode is Disabled"):
        env.step(np.ones(2, dtype=np.int64))
    env.reset(mask=ended.copy())
    env.step(np.ones(2, dtype=np.int64))


def test_plugin_that_does_not_exist():
    with pytest.raises(errors.PluginError, match="no_such_plugin.so"):
        locus.load_plugin("/nonexistent/no_such_plugin.so")


def test_cpp_warnings_become_python_warnings(record_warnings):
    env = locus.LocusEnv("CartPole-v1")
    env.reset(seed=0)
    terminated = False
    while not terminated:
        terminated = env.step(1)[2]
    with record_warnings() as recorder:
        env.step(1)
    assert any("step() called after the episode ended" in m for m in recorder.messages)


def test_the_core_module_names_its_types():
    assert "gymnasium.Env" in _core.Env.__doc__
