"""locus.load(run_dir).predict: a run's trained policy in a plain Gymnasium loop, as SB3's predict."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import locus
from locus.errors import InvalidArgumentError


@pytest.fixture(scope="module")
def cartpole_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cartpole") / "run"
    summary = locus.train("CartPole-v1", agent="ppo", steps=60_000, seed=0, out=str(out))
    return out, summary


@pytest.fixture(scope="module")
def pendulum_gru_run(tmp_path_factory):
    # A recurrent Gaussian policy: its actions are floats, so any change of memory shows.
    out = tmp_path_factory.mktemp("pendulum") / "run"
    locus.train("Pendulum-v1", agent="ppo", steps=512, seed=0, out=str(out), policy="gru",
                hidden=[16])
    return out


def test_the_policy_plays_gymnasiums_own_cartpole_as_well_as_evaluate_says(cartpole_run):
    out, _ = cartpole_run
    policy = locus.load(out)
    evaluated = locus.evaluate(str(out), episodes=5)["eval"]["return_mean"]
    env = gym.make("CartPole-v1")  # Gymnasium's env, not locus's
    returns = []
    for episode in range(5):
        observation, _ = env.reset(seed=100 + episode)
        state, done, total = None, False, 0.0
        while not done:
            action, state = policy.predict(observation, state=state)
            assert isinstance(action, np.int64)
            observation, reward, terminated, truncated, _ = env.step(action)
            total += reward
            done = terminated or truncated
        returns.append(total)
    assert evaluated >= 400, evaluated
    assert np.mean(returns) >= 400, returns


def test_a_batch_gives_the_actions_of_its_observations_one_by_one(cartpole_run):
    policy = locus.load(cartpole_run[0])
    observations = np.random.default_rng(0).uniform(-0.2, 0.2, size=(16, 4)).astype(np.float32)
    batch, _ = policy.predict(observations)
    assert batch.dtype == np.int64 and batch.shape == (16,)
    singles = [policy.predict(o)[0] for o in observations]
    assert batch.tolist() == singles
    # A mix of both actions: the policy does look at the observation.
    assert set(batch.tolist()) == {0, 1}


def test_a_recurrent_policy_carries_its_memory_and_episode_start_clears_it(pendulum_gru_run):
    policy = locus.load(pendulum_gru_run)
    assert policy.recurrent
    observations = np.random.default_rng(1).uniform(-1, 1, size=(5, 3)).astype(np.float32)
    fresh = [policy.predict(o)[0] for o in observations]
    state = None
    carried = []
    for o in observations:
        action, state = policy.predict(o, state=state)
        carried.append(action)
    assert np.array_equal(carried[0], fresh[0])
    assert not np.array_equal(carried[3], fresh[3])  # the memory changes the action
    restarted, _ = policy.predict(observations[3], state=state, episode_start=[True])
    assert np.array_equal(restarted, fresh[3])
    # Streams of a batch keep separate memories: row 1 follows the single stream above.
    state = None
    for o in observations:
        pair, state = policy.predict(np.stack([observations[0], o]), state=state)
    np.testing.assert_array_equal(pair[1], carried[-1])


def test_box_actions_are_clipped_to_the_space_and_draws_follow_the_seed(pendulum_gru_run):
    policy = locus.load(pendulum_gru_run, seed=7)
    observations = np.random.default_rng(2).uniform(-1, 1, size=(64, 3)).astype(np.float32)
    drawn, _ = policy.predict(observations, deterministic=False)
    assert drawn.dtype == np.float32 and drawn.shape == (64, 1)
    assert np.all(drawn >= -2.0) and np.all(drawn <= 2.0)
    again, _ = locus.load(pendulum_gru_run, seed=7).predict(observations, deterministic=False)
    np.testing.assert_array_equal(drawn, again)
    other, _ = locus.load(pendulum_gru_run, seed=8).predict(observations, deterministic=False)
    assert not np.array_equal(drawn, other)


def test_bad_input_is_a_clear_error(cartpole_run, tmp_path):
    policy = locus.load(cartpole_run[0])
    with pytest.raises(InvalidArgumentError, match=r"shape \(3,\), expected \(4,\)"):
        policy.predict(np.zeros(3, dtype=np.float32))
    _, state = policy.predict(np.zeros((2, 4), dtype=np.float32))
    with pytest.raises(InvalidArgumentError, match="3 observations for a memory of 2 streams"):
        policy.predict(np.zeros((3, 4), dtype=np.float32), state=state)
    with pytest.raises(InvalidArgumentError, match="episode_start has 1 values for 2"):
        policy.predict(np.zeros((2, 4), dtype=np.float32), state=state, episode_start=[True])
    seeds = tmp_path / "seeds"
    locus.train("CartPole-v1", steps=256, seeds=[1, 2], out=str(seeds))
    with pytest.raises(InvalidArgumentError, match=r"seeds \[1, 2\]; choose one with run_seed"):
        locus.load(seeds)
    assert locus.load(seeds, run_seed=2).predict(np.zeros(4, dtype=np.float32))[0] in (0, 1)
