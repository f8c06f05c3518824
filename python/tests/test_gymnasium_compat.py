"""Gymnasium's habits, side by side with the installed gymnasium and numpy (issue 21).

Where Gymnasium (or numpy under it) takes an input, a locus env takes it and gives the same
result to the bit; where Gymnasium refuses one, locus refuses it too. Covered: Acrobot's first
observation (numpy's float32 sin/cos), float64 / integer / out-of-range continuous actions and
``step(True)``, reset options an env does not read, seeds of 2**64 and more (single and vector
envs), and the error an unsupported render mode raises (Stable-Baselines3's make_vec_env).
"""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence

import locus
from locus import errors
from locus.vector import AutoresetMode  # gymnasium.vector.AutoresetMode from gymnasium 1.1 on
from reference_versions import same_trig_as_numpy

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore:.*is out of date:DeprecationWarning"),
]


def make_pair(name):
    return gym.make(name), gym.make(f"locus/{name}")


def test_acrobot_reset_observation_matches_for_2000_seeds():
    theirs, ours = make_pair("Acrobot-v1")
    differing = []
    for seed in range(2000):
        obs_t, _ = theirs.reset(seed=seed)
        obs_o, _ = ours.reset(seed=seed)
        if not np.array_equal(obs_o.view(np.uint32), obs_t.view(np.uint32)):
            differing.append(seed)
    assert differing == []


@same_trig_as_numpy
@pytest.mark.parametrize(
    "action",
    [
        np.array([0.3]),  # float64: Gymnasium computes with it in float64
        np.array([-0.7], dtype=np.float32),
        np.array([5.0]),  # out of range: clipped by the env
        np.array([-9.5], dtype=np.float32),
        np.array([1], dtype=np.int64),
        np.array([True]),
        [0.25],  # Python numbers
        [1],
        [-3],
        [True],
    ],
    ids=repr,
)
@pytest.mark.parametrize("name", ["Pendulum-v1", "MountainCarContinuous-v0"])
def test_continuous_actions_match_gymnasium_bit_for_bit(name, action):
    theirs, ours = make_pair(name)
    for seed in (0, 7):
        obs_t, _ = theirs.reset(seed=seed)
        obs_o, _ = ours.reset(seed=seed)
        for step in range(30):
            obs_t, rew_t, term_t, trunc_t, _ = theirs.step(action)
            obs_o, rew_o, term_o, trunc_o, _ = ours.step(action)
            where = f"{name} seed {seed} step {step} action {action!r}"
            np.testing.assert_array_equal(obs_o, obs_t, err_msg=where)
            assert float(rew_o) == float(rew_t), where
            assert (term_o, trunc_o) == (term_t, trunc_t), where


@same_trig_as_numpy
def test_mixed_action_dtypes_along_a_trajectory():
    # The state's dtype and the action's meet differently from step to step; a random mix of
    # forms over whole episodes still gives Gymnasium's numbers.
    forms = [
        lambda a: np.array([a], dtype=np.float32),
        lambda a: np.array([a]),
        lambda a: [float(a)],
    ]
    for name, scale in [("Pendulum-v1", 3.0), ("MountainCarContinuous-v0", 1.6)]:
        theirs, ours = make_pair(name)
        rng = np.random.default_rng(5)
        theirs.reset(seed=11)
        ours.reset(seed=11)
        for step in range(400):
            action = forms[rng.integers(3)](rng.uniform(-scale, scale))
            obs_t, rew_t, term_t, trunc_t, _ = theirs.step(action)
            obs_o, rew_o, term_o, trunc_o, _ = ours.step(action)
            np.testing.assert_array_equal(obs_o, obs_t, err_msg=f"{name} step {step}")
            assert float(rew_o) == float(rew_t), f"{name} step {step}"
            if term_t or trunc_t:
                theirs.reset(seed=step)
                ours.reset(seed=step)


@pytest.mark.parametrize("name", ["CartPole-v1", "Acrobot-v1", "MountainCar-v0"])
def test_discrete_envs_take_python_bools(name):
    theirs, ours = make_pair(name)
    theirs.reset(seed=3)
    ours.reset(seed=3)
    for action in (True, False, True, np.int32(1), np.array(0)):
        obs_t, rew_t, *_ = theirs.step(action)
        obs_o, rew_o, *_ = ours.step(action)
        np.testing.assert_array_equal(obs_o, obs_t)
        assert rew_o == rew_t


@pytest.mark.parametrize(
    "name, action",
    [
        ("CartPole-v1", 1.0),
        ("CartPole-v1", np.True_),
        ("CartPole-v1", 2),
        ("CartPole-v1", np.array([1])),
        ("MountainCar-v0", -1),
        ("Pendulum-v1", 1.5),  # a scalar for a (1,) Box: Gymnasium's env fails on action[0]
        ("Pendulum-v1", np.array(1.5)),
        ("MountainCarContinuous-v0", None),
        ("MountainCarContinuous-v0", "a"),
    ],
    ids=repr,
)
def test_what_gymnasium_refuses_is_refused(name, action):
    theirs, ours = make_pair(name)
    theirs.reset(seed=0)
    ours.reset(seed=0)
    with pytest.raises(Exception):  # noqa: B017 - Gymnasium's own errors vary
        theirs.step(action)
    with pytest.raises(errors.InvalidActionError):
        ours.step(action)


def locus_ids():
    return sorted(spec_id for spec_id in gym.registry if spec_id.startswith("locus/"))


@pytest.mark.parametrize("spec_id", locus_ids())
def test_reset_options_an_env_does_not_read_are_ignored(spec_id):
    try:
        plain, with_options = gym.make(spec_id), gym.make(spec_id)
    except (errors.Error, OSError) as error:  # an env that needs data or kwargs it lacks here
        pytest.skip(f"{spec_id} cannot be made here: {error}")
    obs_plain, _ = plain.reset(seed=5)
    obs_options, _ = with_options.reset(seed=5, options={"no_such_option": 1, "seed": 3})
    assert data_equivalence(obs_options, obs_plain, exact=True)


def test_gymnasium_ignores_unknown_options_too():
    # The reference behaviour the test above holds locus to.
    for name in ("CartPole-v1", "Pendulum-v1", "Acrobot-v1"):
        gym.make(name).reset(seed=0, options={"no_such_option": 1})


@pytest.mark.parametrize("seed", [2**64 - 1, 2**64, 2**64 + 5, 2**128 + 1, 3**90])
def test_seeds_of_any_size_seed_as_numpy_does(seed):
    for name in ("CartPole-v1", "Pendulum-v1", "Acrobot-v1"):
        theirs, ours = make_pair(name)
        obs_t, _ = theirs.reset(seed=seed)
        obs_o, _ = ours.reset(seed=seed)
        np.testing.assert_array_equal(obs_o, obs_t, err_msg=f"{name} seed {seed}")
    env = locus.LocusEnv("CartPole-v1")
    env.reset(seed=seed)
    assert env.np_random_seed == seed
    # The generator after seeding is numpy's default_rng(seed) after CartPole's four draws.
    reference = np.random.default_rng(seed)
    reference.uniform(-0.05, 0.05, size=(4,))
    assert env.np_random.bit_generator.state == reference.bit_generator.state


def test_negative_and_float_seeds_are_refused_as_numpy_refuses_them():
    with pytest.raises(ValueError):
        np.random.SeedSequence(-1)
    env = locus.LocusEnv("CartPole-v1")
    with pytest.raises(errors.InvalidArgumentError, match="non-negative"):
        env.reset(seed=-1)
    with pytest.raises(errors.InvalidArgumentError, match="non-negative"):
        env.reset(seed=-(2**70))
    with pytest.raises(errors.InvalidArgumentError, match="got 1.5"):
        env.reset(seed=1.5)
    vec = locus.make_vec("CartPole-v1", 2)
    with pytest.raises(errors.InvalidArgumentError, match="non-negative"):
        vec.reset(seed=[0, -1])


@pytest.mark.parametrize("seed", [2**64 - 3, 2**64, 2**70 - 1])
def test_vector_seeds_are_python_ints_past_2_64(seed):
    ours = locus.make_vec("CartPole-v1", 5)
    theirs = gym.make_vec("CartPole-v1", 5, vectorization_mode="sync")
    obs_o, _ = ours.reset(seed=seed)
    obs_t, _ = theirs.reset(seed=seed)
    np.testing.assert_array_equal(obs_o, obs_t)
    seeds = [seed, None, seed + 2**64, 0, 2**64 - 1]
    obs_o, _ = ours.reset(seed=seeds)
    obs_t, _ = theirs.reset(seed=seeds)
    for i, s in enumerate(seeds):
        if s is not None:
            np.testing.assert_array_equal(obs_o[i], obs_t[i], err_msg=f"env {i}")


def test_vector_envs_take_float64_actions():
    ours = locus.make_vec("Pendulum-v1", 3)
    theirs = gym.make_vec("Pendulum-v1", 3, vectorization_mode="sync")
    ours.reset(seed=1)
    theirs.reset(seed=1)
    # Values float32 holds exactly, so the states agree to the bit; the batch buffer is float32,
    # so the torque cost is computed in float32 where Gymnasium's env computes it in float64.
    actions = np.array([[0.5], [-1.0], [2.0]])
    obs_o, rew_o, *_ = ours.step(actions)
    obs_t, rew_t, *_ = theirs.step(actions)
    np.testing.assert_array_equal(obs_o, obs_t)
    np.testing.assert_allclose(rew_o, rew_t, rtol=0, atol=1e-7)


@same_trig_as_numpy
def test_vector_envs_take_out_of_range_continuous_actions():
    ours = locus.make_vec("Pendulum-v1", 2)
    theirs = gym.make_vec("Pendulum-v1", 2, vectorization_mode="sync")
    ours.reset(seed=1)
    theirs.reset(seed=1)
    actions = np.array([[5.0], [-7.0]], dtype=np.float32)
    obs_o, rew_o, *_ = ours.step(actions)
    obs_t, rew_t, *_ = theirs.step(actions)
    np.testing.assert_array_equal(obs_o, obs_t)
    np.testing.assert_array_equal(rew_o, rew_t)


def test_unsupported_render_mode_is_a_type_error():
    # The bandits render text only, alone or in a vector env (the classic-control envs and the
    # cognitive tasks draw pictures: test_rendering.py).
    with pytest.raises(TypeError, match="rgb_array"):
        gym.make("locus/ReversalBandit-v0", render_mode="rgb_array")
    with pytest.raises(errors.UnsupportedRenderModeError):
        locus.make_vec("ReversalBandit-v0", 2, render_mode="rgb_array")
    # Still the ValueError it was.
    with pytest.raises(ValueError):
        locus.LocusEnv("ReversalBandit-v0", render_mode="rgb_array")


def test_stable_baselines3_make_vec_env_works():
    env_util = pytest.importorskip("stable_baselines3.common.env_util")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vec = env_util.make_vec_env("locus/CartPole-v1", n_envs=2, seed=0)
    obs = vec.reset()
    assert obs.shape == (2, 4)
    obs, rewards, dones, infos = vec.step(np.array([0, 1]))
    assert rewards.tolist() == [1.0, 1.0]
    vec.close()


@pytest.mark.parametrize("env_id", ["locus/GoNoGo-v0", "locus/ReversalBandit-v0"])
def test_stable_baselines3_make_vec_env_works_on_the_cognitive_tasks(env_id):
    # They read render_mode from their kwargs (not through Env::set_render_mode), so they need
    # the same TypeError for "rgb_array" that make_vec_env retries on.
    env_util = pytest.importorskip("stable_baselines3.common.env_util")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vec = env_util.make_vec_env(env_id, n_envs=2, seed=0)
    obs = vec.reset()
    assert obs.shape[0] == 2
    obs, rewards, dones, infos = vec.step(np.array([0, 0]))
    assert len(infos) == 2
    vec.close()


def test_autoreset_mode_is_untouched_by_seeds():
    # A seeded reset with a mask resets only the selected envs, whatever the seed's size.
    env = locus.make_vec("CartPole-v1", 3, autoreset_mode=AutoresetMode.DISABLED)
    first, _ = env.reset(seed=2**64)
    first = first.copy()
    again, _ = env.reset(seed=2**64 + 7, mask=np.array([False, True, False]))
    np.testing.assert_array_equal(again[0], first[0])
    np.testing.assert_array_equal(again[2], first[2])
    single = locus.LocusEnv("CartPole-v1")
    np.testing.assert_array_equal(again[1], single.reset(seed=2**64 + 8)[0])
