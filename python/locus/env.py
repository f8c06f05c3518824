"""LocusEnv: a locus environment (C++) as a true ``gymnasium.Env``."""

from __future__ import annotations

from typing import Any

import numpy as np
import gymnasium
from gymnasium import logger

from locus import _core, rendering
from locus import spaces as locus_spaces


def _generator_from_state(state: tuple[int, int, int, int]) -> np.random.Generator:
    value, inc, has_uint32, uinteger = state
    bit_generator = np.random.PCG64()
    bit_generator.state = {
        "bit_generator": "PCG64",
        "state": {"state": value, "inc": inc},
        "has_uint32": has_uint32,
        "uinteger": uinteger,
    }
    return np.random.Generator(bit_generator)


class LocusEnv(gymnasium.Env):
    """One locus environment, stepped in C++ through its allocation-free path.

    Made by ``gymnasium.make("locus/<id>")`` (which adds Gymnasium's usual wrappers and sets
    ``spec``) or directly as ``LocusEnv("CartPole-v1", **kwargs)``. The spaces are Gymnasium
    spaces with the C++ env's bounds, dtypes and shapes. ``reset(seed=s)`` seeds the env exactly
    as its Gymnasium twin is seeded, so both produce the same trajectories.

    ``np_random`` (and ``_np_random``) is a numpy Generator in the C++ generator's current PCG64
    state, made on each access: drawing from it does not advance the env's generator, assigning a
    PCG64 Generator to it sets the env's generator to that state.
    """

    def __init__(self, id: str, render_mode: str | None = None, **kwargs: Any) -> None:
        # Pictures are drawn on the Python side (locus.rendering); the C++ env renders text only.
        self._picture = rendering.drawing(id, render_mode)
        if self._picture is None and render_mode is not None:
            kwargs["render_mode"] = render_mode
        self._core = _core.Env(id, kwargs)
        self.locus_id = id
        # Instance attributes: every locus env shares this class.
        self.metadata = self._core.metadata
        self.render_mode = self._core.render_mode
        self.metadata["render_modes"] = [*self.metadata["render_modes"],
                                         *rendering.picture_modes(id)]
        if rendering.draws(id):
            self.metadata["render_fps"] = rendering.render_fps(id)
        if self._picture is not None:
            self.render_mode = render_mode
        self.observation_space = locus_spaces.from_json(self._core.observation_space)
        self.action_space = locus_spaces.from_json(self._core.action_space)
        self._np_random_seed: int | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        observation, info = self._core.reset(seed, options)
        if seed is not None:
            self._np_random_seed = int(seed)
        if self._picture is not None:
            self._picture.after_reset(observation, info)
            if self.render_mode == "human":
                self.render()  # as Gymnasium's envs draw each reset and step in human mode
        return observation, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        result = self._core.step(action)
        if self._picture is not None:
            observation, reward, _, _, info = result
            self._picture.after_step(action, observation, reward, info)
            if self.render_mode == "human":
                self.render()
        return result

    def render(self) -> str | None:
        if self.render_mode is None:
            # Gymnasium's envs warn and return None here too.
            modes = self.metadata.get("render_modes") or []
            env_id = self.spec.id if self.spec is not None else self.locus_id
            logger.warn(
                "You are calling render method without specifying any render mode. "
                + (
                    f'You can specify the render_mode at initialization, e.g. gymnasium.make("{env_id}", '
                    f"render_mode={modes[0]!r})"
                    if modes
                    else f"{env_id} has no render modes."
                )
            )
            return None
        if self._picture is not None:
            return self._picture.draw(self._core.save_state)
        return self._core.render()

    def close(self) -> None:
        if self._picture is not None:
            self._picture.close()
        self._core.close()

    @property
    def _np_random(self) -> np.random.Generator:  # type: ignore[override]
        return _generator_from_state(self._core.rng_state())

    @_np_random.setter
    def _np_random(self, value: np.random.Generator | None) -> None:
        if value is None:
            return
        state = value.bit_generator.state
        if state.get("bit_generator") != "PCG64":
            raise TypeError(
                f"locus envs use numpy's PCG64, got a {state.get('bit_generator')} generator"
            )
        self._core.set_rng_state(
            (
                state["state"]["state"],
                state["state"]["inc"],
                state["has_uint32"],
                state["uinteger"],
            )
        )

    @property
    def np_random(self) -> np.random.Generator:
        return self._np_random

    @np_random.setter
    def np_random(self, value: np.random.Generator) -> None:
        self._np_random = value
        self._np_random_seed = -1

    @property
    def np_random_seed(self) -> int:
        """The seed of the last ``reset(seed=...)``; -1 when the generator was never seeded by one."""
        return -1 if self._np_random_seed is None else self._np_random_seed

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        if self.spec is None:
            return f"<{type(self).__name__}<{self.locus_id}>>"
        return f"<{type(self).__name__}<{self.spec.id}>>"


__all__ = ["LocusEnv"]
