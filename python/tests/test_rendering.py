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


def _vector_actions(envs, steps):
    envs.action_space.seed(5)
    return [envs.action_space.sample() for _ in range(steps)]


@pytest.mark.parametrize("make", ["locus.make_vec", "gymnasium.make_vec"])
def test_vector_frames_are_sync_vector_envs_frame_for_frame(make):
    if make == "locus.make_vec":
        ours = locus.make_vec("CartPole-v1", 3, render_mode="rgb_array")
    else:
        ours = gym.make_vec("locus/CartPole-v1", 3, render_mode="rgb_array")
    theirs = gym.make_vec("CartPole-v1", 3, vectorization_mode="sync", render_mode="rgb_array")
    assert ours.render_mode == "rgb_array"
    assert ours.metadata["render_fps"] == theirs.metadata["render_fps"]
    ours.reset(seed=11)
    theirs.reset(seed=11)
    resets = 0
    for action in _vector_actions(ours, 40):  # CartPole episodes end: autoresets are drawn too
        _, _, terminated, truncated, _ = ours.step(action)
        theirs.step(action)
        resets += int(np.sum(terminated | truncated))
        frames = ours.render()
        assert isinstance(frames, tuple) and len(frames) == 3
        for mine, gymnasiums in zip(frames, theirs.render()):
            np.testing.assert_array_equal(mine, gymnasiums)
    assert resets > 0
    ours.close()
    theirs.close()


def test_record_video_records_a_vector_env(tmp_path):
    pytest.importorskip("moviepy")
    if not hasattr(gym.wrappers.vector, "RecordVideo"):
        pytest.skip(f"gymnasium {gym.__version__} has no vector RecordVideo (it came with 1.1)")
    envs = gym.wrappers.vector.RecordVideo(
        locus.make_vec("Pendulum-v1", 2, render_mode="rgb_array"), str(tmp_path),
        episode_trigger=lambda episode: True, disable_logger=True)
    envs.reset(seed=0)
    for _ in range(12):
        envs.step(envs.action_space.sample())
    envs.close()
    videos = list(tmp_path.glob("*.mp4"))
    assert len(videos) == 1 and videos[0].stat().st_size > 1000


def test_a_vector_env_refuses_human_mode_and_names_the_wrapper():
    with pytest.raises(locus.errors.UnsupportedRenderModeError, match="HumanRendering"):
        locus.make_vec("CartPole-v1", 2, render_mode="human")


@pytest.mark.parametrize("autoreset_mode", ["NextStep", "SameStep"])
def test_vector_trial_plots_are_the_single_envs_plots(autoreset_mode):
    # Env i of the vector env draws what a single env seeded seed + i draws when given the same
    # actions and reset where the vector env resets it (episodes of 12 steps end often).
    envs = locus.make_vec("GoNoGo-v0", 2, render_mode="rgb_array", max_episode_steps=12,
                          autoreset_mode=autoreset_mode)
    singles = [gym.make("locus/GoNoGo-v0", render_mode="rgb_array", max_episode_steps=12)
               for _ in range(2)]
    envs.reset(seed=4)
    for i, single in enumerate(singles):
        single.reset(seed=4 + i)
    resets_next = [False, False]
    for step, action in enumerate(_vector_actions(envs, 30)):
        _, _, terminated, truncated, _ = envs.step(action)
        frames = envs.render() if step % 5 == 4 or terminated.any() or truncated.any() else None
        for i, single in enumerate(singles):
            if resets_next[i]:
                single.reset()
                resets_next[i] = False
                continue
            _, _, single_terminated, single_truncated, _ = single.step(action[i])
            if single_terminated or single_truncated:
                if autoreset_mode == "SameStep":
                    single.reset()
                else:
                    resets_next[i] = True
        if frames is not None:
            for i, single in enumerate(singles):
                np.testing.assert_array_equal(frames[i], single.render())
