"""Gymnasium's env checker passes for every registered locus environment, without a warning.

Two kinds of message are not about the environment's behaviour and are set aside, each checked to
be exactly what Gymnasium says of the same thing:
- check_space_limit's advice on the design of a space ("minimum value is -infinity", "we
  recommend a symmetric and normalized space"): locus's spaces are Gymnasium's own (CartPole's
  velocities are unbounded, Pendulum's torque is in [-2, 2]), and check_env gives Gymnasium's
  CartPole and Pendulum the same advice (test_same_messages_as_gymnasiums_own_envs);
- the deprecation notice of an old version id (CartPole-v0), as for Gymnasium's CartPole-v0.
"""

from __future__ import annotations

from importlib.util import find_spec

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.envs.registration import find_highest_version, parse_env_id
from gymnasium.utils.env_checker import check_env, check_space_limit

import locus
from locus import rendering

ENV_IDS = locus.env_ids()
GYMNASIUM_TWINS = ["CartPole-v0", "CartPole-v1", "Acrobot-v1", "MountainCar-v0",
                   "MountainCarContinuous-v0", "Pendulum-v1"]


def set_aside(env_id, env, record_warnings):
    """The messages that are about the spaces' design or the id's version (see the docstring)."""
    with record_warnings() as recorder:
        check_space_limit(env.observation_space, "observation")
        check_space_limit(env.action_space, "action")
    messages = set(recorder.messages)
    ns, name, version = parse_env_id(env_id)
    if version is not None and find_highest_version(ns, name) > version:
        messages.add(
            f"\x1b[33mWARN: The environment {env_id} is out of date. You should consider "
            f"upgrading to version `v{find_highest_version(ns, name)}`.\x1b[0m"
        )
    return messages


def check_env_messages(env_id, record_warnings, skip_render_check=False):
    with record_warnings() as recorder:
        env = gym.make(env_id)
        check_env(env.unwrapped, skip_render_check=skip_render_check)
        env.close()
    return recorder.messages, env


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_check_env_passes_without_warnings(env_id, record_warnings):
    # The pictures (rgb_array, human) are drawn by Gymnasium's renderers, which need pygame as
    # Gymnasium's own envs do: without it (.venv-compat) their render check is left out.
    no_pictures = rendering.draws(locus.locus_id(env_id)) and find_spec("pygame") is None
    messages, env = check_env_messages(env_id, record_warnings, skip_render_check=no_pictures)
    allowed = set_aside(env_id, env, record_warnings)
    assert [m for m in messages if m not in allowed] == []


@pytest.mark.parametrize("name", GYMNASIUM_TWINS)
def test_same_messages_as_gymnasiums_own_envs(name, record_warnings):
    # Gymnasium's renderers need pygame, which .venv-compat lacks: the render checks are left out
    # on both sides here (test_check_env_passes_without_warnings and test_rendering.py run them).
    ours, _ = check_env_messages(f"locus/{name}", record_warnings, skip_render_check=True)
    theirs, _ = check_env_messages(name, record_warnings, skip_render_check=True)
    assert sorted(set(m.replace("locus/", "") for m in ours)) == sorted(set(theirs))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_seeded_rollout_through_gymnasiums_wrappers_is_warning_free_and_deterministic(
    env_id, record_warnings
):
    """PassiveEnvChecker, OrderEnforcing and TimeLimit see nothing to complain about, and the same
    seeds give the same trajectory (episodes restart as they end)."""

    def rollout():
        env = gym.make(env_id)
        env.action_space.seed(5)
        obs, _ = env.reset(seed=11)
        trajectory = [obs]
        for _ in range(300):
            obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
            assert obs in env.observation_space
            assert isinstance(info, dict)
            trajectory.append((obs, reward, terminated, truncated))
            if terminated or truncated:
                obs, _ = env.reset()
                trajectory.append(obs)
        env.close()
        return trajectory

    with record_warnings() as recorder:
        first, second = rollout(), rollout()
    ns, name, version = parse_env_id(env_id)
    deprecated = version is not None and find_highest_version(ns, name) > version
    assert [m for m in recorder.messages if not (deprecated and "out of date" in m)] == []
    for a, b in zip(first, second):
        if isinstance(a, tuple):
            np.testing.assert_array_equal(a[0], b[0])
            assert a[1:] == b[1:]
        else:
            np.testing.assert_array_equal(a, b)
