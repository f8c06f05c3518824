"""The package: version, registration with Gymnasium, and the single-env API."""

from __future__ import annotations

import copy
import re

import gymnasium as gym
import numpy as np
import pytest

import locus
from locus import _core


def test_version_is_the_cmake_project_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+", locus.__version__)
    assert locus.__version__ == _core.__version__


def test_every_cpp_env_is_registered_under_the_locus_namespace_with_its_spec():
    specs = _core.env_specs()
    assert len(specs) >= 6
    for spec in specs:
        gym_spec = gym.spec(f"locus/{spec['id']}")
        assert gym_spec.namespace == "locus"
        assert gym_spec.max_episode_steps == spec["max_episode_steps"]
        assert gym_spec.reward_threshold == spec["reward_threshold"]
        assert gym_spec.nondeterministic == spec["nondeterministic"]
        assert gym_spec.order_enforce == spec["order_enforce"]
        assert gym_spec.disable_env_checker == spec["disable_env_checker"]
        assert gym_spec.kwargs == (spec["kwargs"] or {})
        assert gym_spec.vector_entry_point is not None
    assert locus.env_ids() == sorted(f"locus/{s['id']}" for s in specs)


def test_registered_specs_match_gymnasium_for_the_classic_control_ports():
    for name in ["CartPole-v0", "CartPole-v1", "Acrobot-v1", "MountainCar-v0",
                 "MountainCarContinuous-v0", "Pendulum-v1"]:
        ours, theirs = gym.spec(f"locus/{name}"), gym.spec(name)
        assert ours.max_episode_steps == theirs.max_episode_steps, name
        assert ours.reward_threshold == theirs.reward_threshold, name


def test_registering_again_adds_nothing():
    assert locus.register_envs() == []


def test_make_gives_a_gymnasium_env_with_gymnasium_wrappers():
    env = gym.make("locus/CartPole-v1")
    assert isinstance(env.unwrapped, gym.Env)
    assert isinstance(env.unwrapped, locus.LocusEnv)
    assert str(env) == "<TimeLimit<OrderEnforcing<PassiveEnvChecker<LocusEnv<locus/CartPole-v1>>>>>"
    assert env.spec.id == "locus/CartPole-v1"
    assert env.spec.max_episode_steps == 500
    # locus.make accepts the id with or without the namespace.
    assert locus.make("CartPole-v1").spec.id == "locus/CartPole-v1"


@pytest.mark.parametrize(
    "name", ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1"]
)
def test_spaces_equal_gymnasiums(name):
    ours, theirs = gym.make(f"locus/{name}"), gym.make(name)
    assert ours.observation_space == theirs.observation_space
    assert ours.action_space == theirs.action_space
    assert ours.observation_space.dtype == theirs.observation_space.dtype
    assert ours.action_space.dtype == theirs.action_space.dtype
    if isinstance(theirs.observation_space, gym.spaces.Box):
        assert np.array_equal(ours.observation_space.bounded_below,
                              theirs.observation_space.bounded_below)
        assert np.array_equal(ours.observation_space.bounded_above,
                              theirs.observation_space.bounded_above)


def test_golden_cartpole_values_from_design():
    env = gym.make("locus/CartPole-v1")
    obs, info = env.reset(seed=123)
    assert info == {}
    np.testing.assert_allclose(obs, [0.01823519, -0.0446179, -0.02796401, -0.03156282], atol=1e-7)
    obs, _ = env.reset(seed=42)
    assert obs.dtype == np.float32 and obs.shape == (4,)
    np.testing.assert_allclose(obs, [0.0273956, -0.00611216, 0.03585979, 0.0197368], atol=1e-7)
    obs, reward, terminated, truncated, info = env.step(1)
    np.testing.assert_allclose(obs, [0.02727336, 0.18847767, 0.03625453, -0.26141977], atol=1e-7)
    assert (reward, terminated, truncated, info) == (1.0, False, False, {})
    assert type(reward) is float and type(terminated) is bool and type(truncated) is bool
    steps = 1
    while not terminated:
        _, _, terminated, _, _ = env.step(1)
        steps += 1
    assert steps == 10


def test_seeding_np_random_matches_gymnasiums_generator_state():
    ours, theirs = gym.make("locus/CartPole-v1"), gym.make("CartPole-v1")
    ours.reset(seed=7)
    theirs.reset(seed=7)
    assert ours.unwrapped.np_random.bit_generator.state == theirs.unwrapped.np_random.bit_generator.state
    assert ours.unwrapped.np_random_seed == 7
    for _ in range(5):
        ours.step(0)
        theirs.step(0)
    assert ours.unwrapped.np_random.bit_generator.state == theirs.unwrapped.np_random.bit_generator.state


def test_assigning_np_random_sets_the_cpp_generator():
    env = locus.LocusEnv("CartPole-v1")
    env.np_random = np.random.default_rng(5)
    assert env.np_random_seed == -1
    obs, _ = env.reset()
    reference = gym.make("CartPole-v1").unwrapped
    reference.np_random = np.random.default_rng(5)
    expected, _ = reference.reset()
    np.testing.assert_array_equal(obs, expected)
    with pytest.raises(TypeError, match="PCG64"):
        env.np_random = np.random.Generator(np.random.MT19937(1))


def test_reset_without_seed_does_not_reseed():
    env = gym.make("locus/CartPole-v1")
    first, _ = env.reset(seed=3)
    second, _ = env.reset()
    third, _ = env.reset(seed=3)
    np.testing.assert_array_equal(first, third)
    assert not np.array_equal(first, second)


def test_reset_options_reach_the_env():
    env = gym.make("locus/CartPole-v1")
    obs, _ = env.reset(seed=0, options={"low": -0.001, "high": 0.001})
    assert np.all(np.abs(obs) <= 0.001)
    obs, _ = env.reset(seed=0, options={"low": np.float64(0.01), "high": np.float32(0.02)})
    assert np.all((obs >= 0.01) & (obs <= 0.02))


def test_kwargs_reach_the_env_and_are_recorded_in_the_spec():
    env = gym.make("locus/CartPoleDomainShift-v1", gravity=3.0)
    assert env.spec.kwargs["gravity"] == 3.0
    shifted, _ = env.reset(seed=1)
    shifted_next = env.step(1)[0]
    default = gym.make("locus/CartPole-v1")
    base, _ = default.reset(seed=1)
    np.testing.assert_array_equal(shifted, base)  # same reset draws
    assert not np.array_equal(shifted_next, default.step(1)[0])  # other physics


def test_max_episode_steps_override():
    env = gym.make("locus/Pendulum-v1", max_episode_steps=3)
    env.reset(seed=0)
    flags = [env.step(np.array([0.0], dtype=np.float32))[3] for _ in range(3)]
    assert flags == [False, False, True]


def test_render_ansi_and_close():
    env = gym.make("locus/CartPole-v1", render_mode="ansi")
    env.reset(seed=0)
    text = env.render()
    assert isinstance(text, str) and text
    env.close()
    env.close()  # closing twice is allowed


def test_render_without_a_mode_warns_and_returns_none(record_warnings):
    env = locus.LocusEnv("CartPole-v1")
    env.reset(seed=0)
    with record_warnings() as recorder:
        assert env.render() is None
    assert any("render_mode" in m for m in recorder.messages)


def test_observations_are_fresh_arrays_on_every_call():
    env = locus.LocusEnv("CartPole-v1")
    a, _ = env.reset(seed=0)
    b = env.step(0)[0]
    c = env.step(0)[0]
    assert not np.shares_memory(a, b) and not np.shares_memory(b, c)
    assert a.flags.writeable and a.flags.owndata


def test_actions_of_any_gymnasium_form_are_accepted():
    # Each form steps exactly as the plain action of the same value, from the same state; the two
    # plain actions differ, so an action dropped or misread on the way in shows.
    def first_step(env_id, action):
        env = locus.LocusEnv(env_id)
        env.reset(seed=0)
        return env.step(action)[0]

    push_left, push_right = first_step("CartPole-v1", 0), first_step("CartPole-v1", 1)
    assert not np.array_equal(push_left, push_right)
    for action, plain in [(1, push_right), (np.int64(1), push_right), (np.int32(0), push_left),
                          (np.array(1), push_right), (np.array(1, dtype=np.uint8), push_right)]:
        np.testing.assert_array_equal(first_step("CartPole-v1", action), plain, err_msg=repr(action))

    def torque(value):
        return first_step("Pendulum-v1", np.array([value], dtype=np.float32))

    assert not np.array_equal(torque(0.5), torque(1.0))
    for action, value in [(np.array([0.5], dtype=np.float32), 0.5), ([0.5], 0.5),
                          (np.array([1], dtype=np.int8), 1.0),
                          (np.array([[0.1, 0.2]], dtype=np.float32)[:, 1], np.float32(0.2))]:
        np.testing.assert_array_equal(first_step("Pendulum-v1", action), torque(value),
                                      err_msg=repr(action))


def test_discrete_and_composite_observations(plugin):
    # The example plugin's Corridor-v0 has a Discrete observation space.
    ids = locus.load_plugin(plugin)
    assert "locus/Corridor-v0" in ids
    env = gym.make("locus/Corridor-v0", length=5)
    obs, _ = env.reset(seed=0)
    assert isinstance(obs, np.int64) and obs in env.observation_space
    obs, reward, terminated, truncated, _ = env.step(1)
    assert isinstance(obs, np.int64)


def test_deepcopy_of_a_gymnasium_spec_makes_equal_envs():
    spec = copy.deepcopy(gym.spec("locus/Acrobot-v1"))
    a, b = spec.make(), gym.make("locus/Acrobot-v1")
    np.testing.assert_array_equal(a.reset(seed=9)[0], b.reset(seed=9)[0])
