"""Pictures of locus envs: ``render_mode="rgb_array"`` (and ``"human"`` for classic control).

- The classic-control envs are drawn by Gymnasium's own renderers (pygame), given the locus env's
  state (``Env::save_state``), so a locus env's frame is the frame Gymnasium's env returns in the
  same state, pixel for pixel, and ``gymnasium.wrappers.RecordVideo`` records locus envs. It needs
  pygame (``pip install "gymnasium[classic-control]"``), imported at the first frame.
- The cognitive tasks draw their current trial (matplotlib), as NeuroGym's plot_env shows one: the
  observations over the trial's steps, the actions taken against the target action (info
  "target"), and the rewards.
The C++ side keeps its text rendering ("ansi"); other envs refuse the picture modes as before,
with ``locus.errors.UnsupportedRenderModeError``.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import gymnasium
import numpy as np

PICTURE_MODES = ("rgb_array", "human")


def _doubles(values: list[Any]) -> np.ndarray:
    # Env::save_state writes NaN and infinities as text (envs/state_json.hpp).
    return np.array([float(v) for v in values], dtype=np.float64)


def _state_only(env: Any, fields: dict[str, Any]) -> None:
    env.state = _doubles(fields["state"])


def _pendulum(env: Any, fields: dict[str, Any]) -> None:
    env.state = _doubles(fields["state"])
    env.last_u = None if fields.get("last_u") is None else float(fields["last_u"])


# locus id -> (the Gymnasium env that draws it, how its state is copied there).
_RENDERERS: dict[str, tuple[str, Callable[[Any, dict[str, Any]], None]]] = {
    "CartPole-v0": ("CartPole-v0", _state_only),
    "CartPole-v1": ("CartPole-v1", _state_only),
    "MountainCar-v0": ("MountainCar-v0", _state_only),
    "MountainCarContinuous-v0": ("MountainCarContinuous-v0", _state_only),
    "Acrobot-v1": ("Acrobot-v1", _state_only),
    "Pendulum-v1": ("Pendulum-v1", _pendulum),
}


def draws(locus_id: str) -> bool:
    """Whether `locus_id` has pictures (rgb_array and human modes)."""
    return locus_id in _RENDERERS


def render_fps(locus_id: str) -> int:
    """The frame rate of Gymnasium's env of the same id (RecordVideo's videos play at it)."""
    return int(_gymnasium_class(locus_id).metadata["render_fps"])


def _gymnasium_class(locus_id: str) -> Any:
    # The registry's spec, not gymnasium.spec(), which warns about old versions (CartPole-v0).
    entry_point = gymnasium.registry[_RENDERERS[locus_id][0]].entry_point
    module, name = entry_point.split(":")
    return getattr(__import__(module, fromlist=[name]), name)


class Picture:
    """Draws one locus env's state with the Gymnasium env of the same id (made at the first frame).
    The reset and step hooks are those of TrialPlot; a state is all a picture needs."""

    def __init__(self, locus_id: str, render_mode: str) -> None:
        self._locus_id = locus_id
        self._copy_state = _RENDERERS[locus_id][1]
        self._render_mode = render_mode
        self._env: Any = None

    def after_reset(self, observation: Any, info: dict[str, Any]) -> None:
        pass

    def after_step(self, action: Any, observation: Any, reward: float, info: dict[str, Any]) -> None:
        pass

    def draw(self, save_state: Callable[[], dict[str, Any]]) -> np.ndarray | None:
        """The frame of the state that `save_state` (the C++ env's Env::save_state) returns."""
        if self._env is None:
            # The class itself: gymnasium.make would warn about old versions (CartPole-v0).
            self._env = _gymnasium_class(self._locus_id)(render_mode=self._render_mode)
        self._copy_state(self._env, save_state()["fields"])
        return self._env.render()

    def close(self) -> None:
        if self._env is not None:
            self._env.close()
            self._env = None


# The cognitive tasks: their info names each step's target action and the end of each trial.
TRIAL_TASKS = ("GoNoGo-v0", "SetShiftGoNoGo-v0", "PerceptualDecisionMaking-v0",
               "DelayMatchSample-v0", "ContextDecisionMaking-v0")


class TrialPlot:
    """The current trial of a cognitive task as a picture (see the module docstring): the steps
    since the trial began, the trial that just ended until the next step begins another."""

    WIDTH, HEIGHT, DPI = 640, 400, 80

    def __init__(self, locus_id: str) -> None:
        self._locus_id = locus_id
        self._clear()

    def _clear(self) -> None:
        self._observations: list[np.ndarray] = []
        self._actions: list[float] = []
        self._targets: list[float] = []
        self._rewards: list[float] = []
        self._ended = False

    def after_reset(self, observation: Any, info: dict[str, Any]) -> None:
        self._clear()
        self._observations.append(np.asarray(observation, dtype=np.float64).reshape(-1))

    def after_step(self, action: Any, observation: Any, reward: float, info: dict[str, Any]) -> None:
        if self._ended:  # the step after a trial's end belongs to the next trial
            self._clear()
            self._observations.append(self._last_observation)
        self._actions.append(float(np.asarray(action).reshape(-1)[0]))
        self._targets.append(float(info.get("target", np.nan)))
        self._rewards.append(float(reward))
        self._last_observation = np.asarray(observation, dtype=np.float64).reshape(-1)
        self._ended = bool(info.get("trial_ended", False))
        if not self._ended:
            self._observations.append(self._last_observation)

    def draw(self, save_state: Callable[[], dict[str, Any]] | None = None) -> np.ndarray:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        figure = Figure(figsize=(self.WIDTH / self.DPI, self.HEIGHT / self.DPI), dpi=self.DPI)
        canvas = FigureCanvasAgg(figure)
        observations, actions, rewards = figure.subplots(3, 1, sharex=True,
                                                         height_ratios=[2, 1, 1])
        steps = len(self._observations)
        if steps:
            observations.imshow(np.array(self._observations).T, aspect="auto", cmap="viridis",
                                interpolation="nearest", extent=(-0.5, steps - 0.5,
                                                                 len(self._observations[0]) - 0.5,
                                                                 -0.5))
        if steps:
            observations.set_yticks(range(len(self._observations[0])))
        observations.set_ylabel("observation")
        observations.set_title(f"{self._locus_id}: the current trial", fontsize=10)
        taken = range(len(self._actions))
        actions.step(taken, self._targets, where="mid", color="0.5", label="target")
        actions.plot(taken, self._actions, "o", color="tab:blue", markersize=3, label="action")
        actions.set_ylabel("action")
        actions.legend(fontsize=7, loc="upper left")
        rewards.step(taken, self._rewards, where="mid", color="tab:red")
        rewards.set_ylabel("reward")
        rewards.set_xlabel("step of the trial")
        rewards.set_xlim(-0.5, max(steps, len(self._actions), 1) - 0.5)
        figure.tight_layout()
        canvas.draw()
        return np.asarray(canvas.buffer_rgba())[..., :3].copy()

    def close(self) -> None:
        pass


def drawing(locus_id: str, render_mode: str | None) -> Picture | TrialPlot | None:
    """What draws `locus_id`'s frames in `render_mode`, or None (the C++ env renders, or refuses)."""
    if render_mode in PICTURE_MODES and draws(locus_id):
        return Picture(locus_id, render_mode)
    if render_mode == "rgb_array" and locus_id in TRIAL_TASKS:
        return TrialPlot(locus_id)
    return None


def _row(infos: dict[str, Any], i: int) -> dict[str, Any]:
    """Env i's info out of a vector env's batched info (the entries its mask gives it)."""
    row = {}
    for key, value in infos.items():
        if key.startswith("_") or not isinstance(value, np.ndarray):
            continue
        mask = infos.get(f"_{key}")
        if mask is None or mask[i]:
            row[key] = value[i]
    return row


class VectorPictures:
    """The pictures of a vector env's sub-envs: ``render()`` gives a tuple of one frame per env,
    as Gymnasium's SyncVectorEnv does. Each env has its own drawing (Picture or TrialPlot, above);
    the trial plots follow each env's steps and resets in every autoreset mode."""

    def __init__(self, locus_id: str, render_mode: str, num_envs: int, autoreset_mode: str) -> None:
        self._drawings = [drawing(locus_id, render_mode) for _ in range(num_envs)]
        # Pictures need the state only; trial plots need every step.
        self._follows_steps = isinstance(self._drawings[0], TrialPlot)
        self._autoreset_mode = autoreset_mode
        # NextStep: the envs whose next step is a reset (their action is ignored).
        self._resets_next = np.zeros(num_envs, dtype=bool)

    def after_reset(self, observations: Any, infos: dict[str, Any], mask: Any) -> None:
        if not self._follows_steps:
            return
        for i, drawn in enumerate(self._drawings):
            if mask is None or mask[i]:
                drawn.after_reset(observations[i], _row(infos, i))
                self._resets_next[i] = False

    def after_step(self, actions: Any, observations: Any, rewards: np.ndarray,
                   terminations: np.ndarray, truncations: np.ndarray,
                   infos: dict[str, Any]) -> None:
        if not self._follows_steps:
            return
        actions = np.asarray(actions)
        ended = np.logical_or(terminations, truncations)
        for i, drawn in enumerate(self._drawings):
            if self._resets_next[i]:
                drawn.after_reset(observations[i], _row(infos, i))
            elif ended[i] and self._autoreset_mode == "SameStep":
                # The step's own results are under final_obs and final_info; obs is the reset's.
                drawn.after_step(actions[i], infos["final_obs"][i], rewards[i],
                                 _row(infos["final_info"], i))
                drawn.after_reset(observations[i], _row(infos, i))
            else:
                drawn.after_step(actions[i], observations[i], rewards[i], _row(infos, i))
        if self._autoreset_mode == "NextStep":
            self._resets_next = ended.copy()

    def draw(self, save_states: Sequence[Callable[[], dict[str, Any]]]) -> tuple[np.ndarray, ...]:
        return tuple(drawn.draw(save_state)
                     for drawn, save_state in zip(self._drawings, save_states))

    def close(self) -> None:
        for drawn in self._drawings:
            drawn.close()


def picture_modes(locus_id: str) -> list[str]:
    """The picture modes `locus_id` has here."""
    if draws(locus_id):
        return list(PICTURE_MODES)
    return ["rgb_array"] if locus_id in TRIAL_TASKS else []


__all__ = ["PICTURE_MODES", "Picture", "TrialPlot", "VectorPictures", "drawing", "draws",
           "picture_modes", "render_fps"]
