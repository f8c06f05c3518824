"""Pictures of the classic-control envs (locus.rendering): the frames Gymnasium's envs return in
the same states, pixel for pixel, and videos through gymnasium.wrappers.RecordVideo."""

from __future__ import annotations

import os

import gymnasium as gym
import numpy as np
import pytest

import locus

from locus import rendering

pygame = pytest.importorskip("pygame")  # Gymnasium's classic-control renderers draw with it

ENVS = ["CartPole-v1", "Pendulum-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0"]


@pytest.mark.parametrize("env_id", ENVS)
def test_frames_are_gymnasiums_pixel_for_pixel(env_id):
    ours = gym.make(f"locus/{env_id}", render_mode="rgb_array")
    theirs = gym.make(env_id, render_mode="rgb_array")
    ours.reset(seed=3)
    theirs.reset(seed=3)
    np.testing.assert_array_equal(ours.render(), theirs.render())
    ours.action_space.seed(1)
    for _ in range(40):
        action = ours.action_space.sample()
        _, _, terminated, truncated, _ = ours.step(action)
        theirs.step(action)
        frame = ours.render()
        assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
        np.testing.assert_array_equal(frame, theirs.render())
        if terminated or truncated:
            break
    assert ours.metadata["render_fps"] == theirs.metadata["render_fps"]
    assert {"rgb_array", "human", "ansi"} <= set(ours.metadata["render_modes"])
    ours.close()
    theirs.close()


def test_record_video_writes_a_video_of_a_locus_env(tmp_path):
    pytest.importorskip("moviepy")
    env = gym.wrappers.RecordVideo(gym.make("locus/CartPole-v1", render_mode="rgb_array"),
                                   str(tmp_path), episode_trigger=lambda episode: True,
                                   disable_logger=True)
    env.reset(seed=0)
    for _ in range(12):
        env.step(env.action_space.sample())
    env.close()
    videos = list(tmp_path.glob("*.mp4"))
    assert len(videos) == 1 and videos[0].stat().st_size > 1000


def test_human_mode_draws_each_step_in_a_window(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")  # a window without a display
    env = locus.LocusEnv("CartPole-v1", render_mode="human")
    env.reset(seed=0)
    env.step(0)
    assert env.render() is None  # human mode shows the frame and returns nothing, as Gymnasium's
    env.close()


def test_text_rendering_is_unchanged():
    env = locus.LocusEnv("CartPole-v1", render_mode="ansi")
    env.reset(seed=0)
    assert "theta=" in env.render()


@pytest.mark.parametrize("env_id", rendering.TRIAL_TASKS)
def test_cognitive_tasks_draw_their_current_trial(env_id):
    env = gym.make(f"locus/{env_id}", render_mode="rgb_array")
    env.reset(seed=0)
    env.action_space.seed(0)
    first = env.render()
    assert first.shape == (400, 640, 3) and first.dtype == np.uint8
    plot = env.unwrapped._picture
    lengths, ended = [], False
    for _ in range(60):
        _, _, _, _, info = env.step(env.action_space.sample())
        if ended:  # the step after a trial's end starts the plot of the next trial
            assert len(plot._actions) == 1
        lengths.append(len(plot._actions))
        ended = info["trial_ended"]
        assert "target" in info
    assert max(lengths) > 1 and 1 in lengths[1:]  # trials grew, and a new one began
    assert not np.array_equal(env.render(), first)
    assert "rgb_array" in env.metadata["render_modes"]
