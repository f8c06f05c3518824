"""Python gymnasium.Envs driven by locus's C++ side: the C++ env checker and a C++ VectorEnv."""

from __future__ import annotations

import threading

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector import SyncVectorEnv

import locus
from locus import errors
from locus.vector import AutoresetMode  # gymnasium.vector.AutoresetMode from gymnasium 1.1 on
from reference_versions import gymnasium_autoreset_modes


class LineWalk(gym.Env):
    """Walk on a line from a random start to either end; Box observations and a Discrete action."""

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, length=6, render_mode=None):
        self.length = length
        self.render_mode = render_mode
        self.observation_space = spaces.Box(0.0, 1.0, shape=(2,), dtype=np.float32)
        self.action_space = spaces.Discrete(3, start=-1)  # -1 left, 0 stay, 1 right
        self.position = 0

    def _obs(self):
        return np.array([self.position / self.length, self.position == self.length],
                        dtype=np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.position = int(self.np_random.integers(1, self.length))
        return self._obs(), {"start": self.position, "label": "walk"}

    def step(self, action):
        assert self.action_space.contains(action), action
        self.position = int(np.clip(self.position + int(action), 0, self.length))
        terminated = self.position in (0, self.length)
        reward = 1.0 if self.position == self.length else (-1.0 if terminated else -0.01)
        info = {"position": self.position, "noise": float(self.np_random.random()),
                "nested": {"even": self.position % 2 == 0}}
        return self._obs(), reward, terminated, False, info

    def render(self):
        return "".join("A" if i == self.position else "." for i in range(self.length + 1))


class DictObservations(gym.Env):
    """Composite spaces: a Dict observation (Discrete + MultiBinary) and a Tuple action."""

    def __init__(self):
        self.observation_space = spaces.Dict(
            {"cell": spaces.Discrete(4), "bits": spaces.MultiBinary(3)})
        self.action_space = spaces.Tuple((spaces.Discrete(2), spaces.Box(-1, 1, (2,), np.float32)))

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return {"cell": np.int64(self.np_random.integers(4)),
                "bits": self.np_random.integers(0, 2, size=3).astype(np.int8)}, {}

    def step(self, action):
        choice, force = action
        assert self.action_space.contains(action)
        obs = {"cell": np.int64(choice + 2 * (force[0] > 0)),
               "bits": (np.abs(force[:1].repeat(3)) > 0.5).astype(np.int8)}
        return obs, float(force.sum()), bool(self.np_random.random() < 0.1), False, {}


class Exploding(LineWalk):
    def step(self, action):
        if self.position == 3:
            raise ZeroDivisionError("boom at 3")
        return super().step(action)


class OutOfSpace(LineWalk):
    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        return obs * 10.0, reward, terminated, truncated, info


def test_cpp_env_checker_passes_python_envs():
    for env in (LineWalk(), DictObservations()):
        result = locus.check_env_cpp(env, steps=300)
        assert result["steps"] == 300 and result["episodes"] >= 1
        assert result["passed"], result


def test_cpp_env_checker_reports_a_broken_python_env():
    with pytest.raises(errors.CheckError, match="observation"):
        locus.check_env_cpp(OutOfSpace())


@gymnasium_autoreset_modes
@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_cpp_vector_env_of_python_envs_matches_sync_vector_env(mode):
    ours = locus.vector_from_python([LineWalk] * 5, autoreset_mode=mode, num_threads=2,
                                    max_episode_steps=15)
    theirs = SyncVectorEnv([lambda: gym.wrappers.TimeLimit(LineWalk(), 15)] * 5,
                           autoreset_mode=mode)
    assert ours.single_observation_space == theirs.single_observation_space
    assert ours.single_action_space == theirs.single_action_space
    assert data_equivalence(ours.reset(seed=4), theirs.reset(seed=4), exact=True)
    ours.action_space.seed(1)
    ended = 0
    for step in range(120):
        actions = ours.action_space.sample()
        a, b = ours.step(actions), theirs.step(actions)
        assert data_equivalence(a, b, exact=True), f"step {step}:\n{a}\n{b}"
        ended += int((b[2] | b[3]).sum())
    assert ended > 5


def test_composite_spaces_through_a_cpp_vector_env():
    ours = locus.vector_from_python([DictObservations] * 3, copy=True)
    theirs = SyncVectorEnv([DictObservations] * 3)
    assert data_equivalence(ours.reset(seed=2), theirs.reset(seed=2), exact=True)
    ours.action_space.seed(0)
    for _ in range(30):
        actions = ours.action_space.sample()
        assert data_equivalence(ours.step(actions), theirs.step(actions), exact=True)


def test_python_exceptions_cross_the_cpp_vector_env_unchanged():
    env = locus.vector_from_python([Exploding] * 4, num_threads=2)
    env.reset(seed=0)
    with pytest.raises(ZeroDivisionError, match="boom at 3"):
        for _ in range(50):
            env.step(np.ones(4, dtype=np.int64))
    # Usable after the error: a reset starts over.
    env.reset(seed=1)


def test_the_gil_is_released_while_cpp_steps():
    """TBB's worker threads call into Python; had the stepping thread kept the GIL, they would
    wait for it forever."""
    env = locus.vector_from_python([LineWalk] * 8, num_threads=2)
    env.reset(seed=0)
    done = threading.Event()

    def run():
        for _ in range(200):
            env.step(env.action_space.sample())
        done.set()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=120)
    assert done.is_set()


def test_spaces_locus_cannot_drive_are_refused_clearly():
    class TextEnv(LineWalk):
        def __init__(self):
            super().__init__()
            self.observation_space = spaces.Text(5)

    with pytest.raises(errors.InvalidArgumentError, match="Text"):
        locus.check_env_cpp(TextEnv())


def test_space_json_round_trip():
    for space in [
        spaces.Discrete(5, start=-2),
        spaces.Box(-1.0, 2.0, (2, 3), np.float64),
        spaces.Box(np.array([-np.inf, 0.0], np.float32), np.array([1.0, np.inf], np.float32)),
        spaces.Box(-5, 5, (4,), np.int64),
        spaces.Box(np.iinfo(np.int64).min, 7, (2,), np.int64),
        spaces.Box(0, 255, (2, 2), np.uint8),
        spaces.MultiDiscrete([3, 4], start=[1, -1]),
        spaces.MultiBinary([2, 3]),
        spaces.Tuple((spaces.Discrete(2), spaces.Dict({"b": spaces.Discrete(3), "a": spaces.MultiBinary(2)}))),
    ]:
        back = locus.spaces.from_json(locus.spaces.to_json(space))
        assert back == space, (space, back)
        assert back.dtype == space.dtype
