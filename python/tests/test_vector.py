"""locus.make_vec: Gymnasium's vector semantics over C++ batch buffers.

The reference is Gymnasium's SyncVectorEnv over the same locus envs (gymnasium.make("locus/...")
for each), so both sides run the same C++ dynamics and must agree exactly: observations, rewards,
flags and infos, step by step, in every autoreset mode.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector import SyncVectorEnv

import locus
from locus.errors import InvalidActionError
from locus.vector import AutoresetMode  # gymnasium.vector.AutoresetMode from gymnasium 1.1 on
from reference_versions import gymnasium_autoreset_modes, same_trig_as_numpy

MODES = [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP, AutoresetMode.DISABLED]
# CartPole ends often (terminated), Pendulum with a short limit ends by truncation, GoNoGo and
# ReversalBandit fill their infos with ints, bools and strings.
CASES = [
    ("CartPole-v1", {}),
    ("Pendulum-v1", {"max_episode_steps": 23}),
    ("GoNoGo-v0", {"max_episode_steps": 40}),
    ("ReversalBandit-v0", {"max_episode_steps": 30}),
]


def sync_reference(name, num_envs, mode, max_episode_steps=None):
    return SyncVectorEnv(
        [lambda: gym.make(f"locus/{name}", max_episode_steps=max_episode_steps)] * num_envs,
        autoreset_mode=mode,
    )


def assert_same(ours, theirs, where):
    assert data_equivalence(ours, theirs, exact=True), f"{where}:\nlocus {ours}\nsync  {theirs}"


@same_trig_as_numpy
@gymnasium_autoreset_modes
@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
@pytest.mark.parametrize("name,kwargs", CASES, ids=[c[0] for c in CASES])
def test_matches_sync_vector_env(name, kwargs, mode):
    num_envs, steps = 6, 250
    limit = kwargs.get("max_episode_steps")
    ours = locus.make_vec(name, num_envs, autoreset_mode=mode, num_threads=2, **kwargs)
    theirs = sync_reference(name, num_envs, mode, limit)
    assert ours.metadata["autoreset_mode"] == mode
    assert ours.single_observation_space == theirs.single_observation_space
    assert ours.single_action_space == theirs.single_action_space
    assert ours.observation_space == theirs.observation_space
    assert ours.action_space == theirs.action_space

    assert_same(ours.reset(seed=17), theirs.reset(seed=17), "reset")
    ours.action_space.seed(3)
    ended_total = 0
    for step in range(steps):
        actions = ours.action_space.sample()
        result_ours = ours.step(actions)
        result_theirs = theirs.step(actions)
        assert_same(result_ours, result_theirs, f"{name} {mode.value} step {step}")
        ended = result_theirs[2] | result_theirs[3]
        ended_total += int(ended.sum())
        if mode == AutoresetMode.DISABLED and ended.any():
            assert_same(ours.reset(options={"reset_mask": ended.copy()}),
                        theirs.reset(options={"reset_mask": ended.copy()}),
                        f"{name} masked reset after step {step}")
    # Episodes ended during the run, so the autoreset paths were compared.
    assert ended_total >= num_envs


def test_results_do_not_depend_on_the_thread_count():
    def run(num_threads):
        env = locus.make_vec("CartPole-v1", 64, num_threads=num_threads, copy=True)
        env.action_space.seed(0)
        trajectory = [env.reset(seed=5)[0]]
        for _ in range(300):
            trajectory.append(env.step(env.action_space.sample())[:4])
        return env.num_threads, trajectory

    (threads_1, one), (threads_2, two), (_, default) = run(1), run(2), run(0)
    assert threads_1 == 1 and threads_2 >= 1
    assert data_equivalence(one, two, exact=True)
    assert data_equivalence(one, default, exact=True)


def test_zero_copy_views_are_rewritten_in_place():
    env = locus.make_vec("CartPole-v1", 8)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (8, 4) and obs.dtype == np.float32 and obs.flags.c_contiguous
    assert not obs.flags.writeable and not obs.flags.owndata
    assert np.shares_memory(obs, env._core.observation_buffer)
    before = obs.copy()
    obs2, rewards, terminations, truncations, _ = env.step(np.ones(8, dtype=np.int64))
    assert obs2 is obs  # the same array: its contents changed
    assert not np.array_equal(before, obs)
    assert rewards.dtype == np.float64 and terminations.dtype == np.bool_
    assert not rewards.flags.writeable and not terminations.flags.writeable
    obs3, rewards3, terminations3, truncations3, _ = env.step(np.zeros(8, dtype=np.int64))
    assert obs3 is obs and rewards3 is rewards
    assert terminations3 is terminations and truncations3 is truncations
    with pytest.raises(ValueError, match="read-only"):
        obs[0, 0] = 1.0


def test_copy_on_request_gives_fresh_arrays():
    env = locus.make_vec("CartPole-v1", 4, copy=True)
    obs, _ = env.reset(seed=0)
    obs2 = env.step(np.ones(4, dtype=np.int64))[0]
    assert obs2 is not obs and not np.shares_memory(obs, obs2)
    assert obs.flags.writeable and obs.flags.owndata
    assert not np.array_equal(obs, obs2)
    reference = locus.make_vec("CartPole-v1", 4)
    reference.reset(seed=0)
    np.testing.assert_array_equal(obs2, reference.step(np.ones(4, dtype=np.int64))[0])


def test_any_action_form_gives_the_fast_paths_result():
    forms = [
        lambda a: a,                             # int64, C-contiguous: read in place
        lambda a: a.astype(np.int32),            # another integer width: cast
        lambda a: a.tolist(),                    # a list
        lambda a: np.stack([a, a], axis=1)[:, 0],  # a strided view
    ]
    results = []
    for form in forms:
        env = locus.make_vec("CartPole-v1", 16, copy=True)
        env.reset(seed=1)
        rng = np.random.default_rng(0)
        out = [env.step(form(rng.integers(0, 2, size=16)))[:4] for _ in range(40)]
        results.append(out)
    for other in results[1:]:
        assert data_equivalence(results[0], other, exact=True)


def test_continuous_actions_follow_box_contains():
    env = locus.make_vec("Pendulum-v1", 3)
    env.reset(seed=0)
    env.step(np.zeros((3, 1), dtype=np.float32))
    env.step([[0.5], [1.0], [-1.0]])  # a list is converted to the Box's dtype, as Box.contains does
    env.step(np.zeros((3, 1), dtype=np.int16))  # int16 casts safely to float32
    env.step(np.zeros((3, 1)))  # float64 too, as Gymnasium's vector envs hand it to Pendulum
    with pytest.raises(InvalidActionError, match="float16"):
        env.step(np.zeros((3, 1), dtype=np.float16))


def test_gymnasium_make_vec_reaches_locus_through_the_vector_entry_point():
    env = gym.make_vec("locus/CartPole-v1", num_envs=5, autoreset_mode=AutoresetMode.SAME_STEP,
                       num_threads=1)
    assert isinstance(env, locus.LocusVectorEnv) and isinstance(env, gym.vector.VectorEnv)
    assert env.num_envs == 5 and env.num_threads == 1
    assert env.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    assert env.spec.id == "locus/CartPole-v1" and env.spec.max_episode_steps == 500
    assert env.max_episode_steps == 500
    short = gym.make_vec("locus/CartPole-v1", num_envs=2, max_episode_steps=3)
    short.reset(seed=0)
    truncations = [short.step(np.zeros(2, dtype=np.int64))[3].copy() for _ in range(3)]
    assert [t.tolist() for t in truncations] == [[False, False], [False, False], [True, True]]
    sync = gym.make_vec("locus/CartPole-v1", num_envs=2, vectorization_mode="sync")
    assert isinstance(sync, SyncVectorEnv)


@gymnasium_autoreset_modes
def test_reset_with_a_mask_resets_only_the_selected_envs():
    env = locus.make_vec("GoNoGo-v0", 4, autoreset_mode="Disabled", copy=True)
    first, _ = env.reset(seed=0)
    for _ in range(3):
        env.step(np.zeros(4, dtype=np.int64))
    moved = env.step(np.zeros(4, dtype=np.int64))[0]
    mask = np.array([True, False, True, False])
    obs, infos = env.reset(seed=100, mask=mask)
    np.testing.assert_array_equal(obs[~mask], moved[~mask])
    assert infos["_trial"].tolist() == mask.tolist()
    reference = sync_reference("GoNoGo-v0", 4, AutoresetMode.DISABLED)
    reference.reset(seed=100)
    np.testing.assert_array_equal(obs[mask], reference.reset(seed=100)[0][mask])
    # Gymnasium's spelling of the same: options["reset_mask"]; the options dict is not changed.
    options = {"reset_mask": np.array([False, True, False, False])}
    _, infos = env.reset(options=options)
    assert "reset_mask" in options and infos["_trial"].tolist() == [False, True, False, False]


@gymnasium_autoreset_modes
def test_seed_lists_seed_each_env_as_given():
    seeds = [3, None, 2**64 - 1, 0, 3]
    ours = locus.make_vec("CartPole-v1", 5)
    theirs = sync_reference("CartPole-v1", 5, AutoresetMode.NEXT_STEP)
    obs_ours, _ = ours.reset(seed=seeds)
    obs_theirs, _ = theirs.reset(seed=seeds)
    for i, s in enumerate(seeds):
        if s is not None:
            np.testing.assert_array_equal(obs_ours[i], obs_theirs[i])
    np.testing.assert_array_equal(obs_ours[0], obs_ours[4])


def test_render_and_close():
    env = locus.make_vec("CartPole-v1", 3, render_mode="ansi")
    env.reset(seed=0)
    frames = env.render()
    assert isinstance(frames, tuple) and len(frames) == 3 and all(isinstance(f, str) for f in frames)
    env.close()
    assert env.closed
    with pytest.raises(gym.error.ClosedEnvironmentError):
        env.step(np.zeros(3, dtype=np.int64))
    env.close()


def test_infos_are_batched_as_gymnasium_batches_them():
    env = locus.make_vec("ReversalBandit-v0", 3)
    _, infos = env.reset(seed=0)
    assert infos["trial"].dtype == np.int64 and infos["_trial"].dtype == np.bool_
    assert infos["rewarded"].dtype == np.bool_
    _, _, _, _, infos = env.step(np.array([0, 1, 0]))
    assert set(infos) >= {"trial", "_trial", "rewarded", "_rewarded", "correct", "_correct"}
    assert infos["trial"].shape == (3,)
