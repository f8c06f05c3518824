"""Pictures of locus's classic-control envs: ``render_mode="rgb_array"`` and ``"human"``.

The frames are drawn by Gymnasium's own classic-control renderers (pygame), given the locus env's
state (``Env::save_state``), so a locus env's frame is the frame Gymnasium's env returns in the same
state, pixel for pixel, and ``gymnasium.wrappers.RecordVideo`` records locus envs. It needs pygame
(``pip install "gymnasium[classic-control]"``), imported at the first frame. The C++ side keeps its
text rendering ("ansi"); envs without a picture here (the cognitive tasks) refuse these modes as
before, with ``locus.errors.UnsupportedRenderModeError``.
"""

from __future__ import annotations

from typing import Any, Callable

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
    """Draws one locus env's state with the Gymnasium env of the same id (made at the first frame)."""

    def __init__(self, locus_id: str, render_mode: str) -> None:
        self._locus_id = locus_id
        self._copy_state = _RENDERERS[locus_id][1]
        self._render_mode = render_mode
        self._env: Any = None

    def draw(self, fields: dict[str, Any]) -> np.ndarray | None:
        if self._env is None:
            # The class itself: gymnasium.make would warn about old versions (CartPole-v0).
            self._env = _gymnasium_class(self._locus_id)(render_mode=self._render_mode)
        self._copy_state(self._env, fields)
        return self._env.render()

    def close(self) -> None:
        if self._env is not None:
            self._env.close()
            self._env = None


__all__ = ["PICTURE_MODES", "Picture", "draws", "render_fps"]
