"""Stable-Baselines3 on locus's C++ vector envs: a locus vector env as an SB3 ``VecEnv``.

    from stable_baselines3 import PPO
    import locus.sb3

    envs = locus.sb3.make_vec_env("CartPole-v1", n_envs=8, seed=0)
    PPO("MlpPolicy", envs, seed=0).learn(50_000)

SB3 steps its environments through a ``VecEnv``; ``stable_baselines3.common.env_util.make_vec_env``
builds a ``DummyVecEnv`` that steps one Python env after another. ``locus.sb3.make_vec_env`` gives
SB3 a ``VecEnv`` whose ``step`` is one call into C++ (TBB workers) for the whole batch, and keeps
SB3's conventions:

- an env whose episode ends is reset in the same step; its last observation is in
  ``info["terminal_observation"]`` and ``info["TimeLimit.truncated"]`` says whether the time limit
  ended it (what SB3's bootstrapping reads); the reset's info goes to ``reset_infos``;
- ``seed(s)`` seeds env i with s + i at the next ``reset()``, as SB3's ``make_vec_env(seed=s)``
  does; envs without a seed keep their random streams;
- rewards are float32, observations fresh arrays that SB3 may keep;
- wrapped in SB3's ``VecMonitor`` (``monitor=True``), episode returns and lengths reach SB3's
  logger (``rollout/ep_rew_mean``) and ``evaluate_policy``.

The envs are C++ objects: ``get_attr`` answers for what every env shares (``render_mode``,
``spec``, ``metadata``, ``observation_space``, ``action_space``), and ``set_attr`` or
``env_method`` raise an error that says so.

Importing this module needs stable-baselines3; ``import locus`` does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

try:
    from stable_baselines3.common.vec_env import VecEnv, VecMonitor
except ImportError as error:  # pragma: no cover - exercised only without SB3
    raise ImportError(
        "locus.sb3 needs Stable-Baselines3: pip install stable-baselines3 (its PyTorch comes "
        "with it; see docs/python.md#stable-baselines3)"
    ) from error

from locus.errors import InvalidArgumentError
from locus.vector import AutoresetMode, LocusVectorEnv, make_vec

# What every env of a locus vector env shares, by the name SB3 asks for.
_SHARED_ATTRIBUTES = {
    "render_mode": lambda envs: envs.render_mode,
    "spec": lambda envs: envs.spec,
    "metadata": lambda envs: envs.metadata,
    "observation_space": lambda envs: envs.single_observation_space,
    "action_space": lambda envs: envs.single_action_space,
}


def _infos_per_env(infos: dict[str, Any], num_envs: int) -> list[dict[str, Any]]:
    """Gymnasium's batched info dict (values per env, masks under "_key") as one dict per env."""
    per_env: list[dict[str, Any]] = [{} for _ in range(num_envs)]
    for key, value in infos.items():
        if key.startswith("_"):
            continue
        mask = infos.get("_" + key)
        values = _infos_per_env(value, num_envs) if isinstance(value, dict) else value
        for i in range(num_envs):
            if mask is None or mask[i]:
                per_env[i][key] = values[i]
    return per_env


class LocusVecEnv(VecEnv):
    """A locus vector env (``locus.make_vec`` with ``autoreset_mode="SameStep"``) as SB3's VecEnv."""

    def __init__(self, envs: LocusVectorEnv) -> None:
        if not isinstance(envs, LocusVectorEnv):
            raise InvalidArgumentError(
                f"LocusVecEnv wraps a locus.LocusVectorEnv, got {type(envs).__name__}; "
                "use locus.sb3.make_vec_env(id, n_envs)"
            )
        if envs.autoreset_mode != AutoresetMode.SAME_STEP:
            raise InvalidArgumentError(
                "SB3 resets an env in the step that ends its episode: make the locus vector env "
                f"with autoreset_mode='SameStep', got {envs.autoreset_mode.value}"
            )
        self.envs = envs
        self._actions: Any = None
        super().__init__(envs.num_envs, envs.single_observation_space, envs.single_action_space)

    def reset(self) -> Any:
        seeds = None if all(s is None for s in self._seeds) else list(self._seeds)
        options = self._options[0] if self._options[0] else None
        if any(o != self._options[0] for o in self._options):
            raise InvalidArgumentError(
                "a locus vector env resets every env with the same options; set_options() got "
                "different options per env"
            )
        observations, infos = self.envs.reset(seed=seeds, options=options)
        self.reset_infos = _infos_per_env(infos, self.num_envs)
        self._reset_seeds()
        self._reset_options()
        return observations

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> tuple[Any, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        observations, rewards, terminations, truncations, infos = self.envs.step(self._actions)
        dones = terminations | truncations
        final_observations = infos.pop("final_obs", None)
        final_infos = infos.pop("final_info", None)
        infos.pop("_final_obs", None)
        infos.pop("_final_info", None)
        step_infos = _infos_per_env(infos, self.num_envs)
        ended_infos = _infos_per_env(final_infos or {}, self.num_envs)
        for i in np.flatnonzero(dones):
            # The step's info of an ended episode is its final info; what `infos` holds for this
            # env now came from the reset.
            self.reset_infos[i] = step_infos[i]
            step_infos[i] = ended_infos[i]
            step_infos[i]["terminal_observation"] = final_observations[i]
        for i in range(self.num_envs):
            step_infos[i]["TimeLimit.truncated"] = bool(truncations[i] and not terminations[i])
        return observations, rewards.astype(np.float32), dones, step_infos

    def close(self) -> None:
        self.envs.close()

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        if attr_name not in _SHARED_ATTRIBUTES:
            raise AttributeError(
                f"locus envs are C++ objects; get_attr answers for what every env shares "
                f"({', '.join(_SHARED_ATTRIBUTES)}), not {attr_name!r}"
            )
        value = _SHARED_ATTRIBUTES[attr_name](self.envs)
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        raise AttributeError(
            f"locus envs are C++ objects whose attributes cannot be set from Python "
            f"(set_attr({attr_name!r})); pass settings as env_kwargs to make_vec_env"
        )

    def env_method(
        self, method_name: str, *method_args: Any, indices: Any = None, **method_kwargs: Any
    ) -> list[Any]:
        raise AttributeError(
            f"locus envs are C++ objects without Python methods (env_method({method_name!r})); "
            "the vector env's own methods are on .envs"
        )

    def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
        # No Python wrapper sits on a C++ env (so evaluate_policy asks for a VecMonitor).
        return [False for _ in self._get_indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        if self.render_mode != "rgb_array":
            return [None for _ in range(self.num_envs)]
        return list(self.envs.render())


def make_vec_env(
    env_id: str,
    n_envs: int = 1,
    seed: int | None = None,
    *,
    env_kwargs: dict[str, Any] | None = None,
    monitor: bool = True,
    num_threads: int = 0,
    max_episode_steps: int | None = None,
) -> VecEnv:
    """SB3's ``make_vec_env`` for a locus env: `n_envs` copies stepped together in C++.

    ``env_id``: a locus id ("CartPole-v1") or its Gymnasium id ("locus/CartPole-v1"). ``seed``:
    env i gets seed + i at the first reset (None: random seeds). ``env_kwargs`` go to the envs;
    ``num_threads`` 0 uses every core (results do not depend on it); ``monitor`` wraps the result
    in SB3's ``VecMonitor``.
    """
    envs = make_vec(
        env_id,
        n_envs,
        autoreset_mode=AutoresetMode.SAME_STEP,
        num_threads=num_threads,
        copy=True,
        max_episode_steps=max_episode_steps,
        **(env_kwargs or {}),
    )
    venv: VecEnv = LocusVecEnv(envs)
    if seed is not None:
        venv.seed(seed)
    return VecMonitor(venv) if monitor else venv


__all__ = ["LocusVecEnv", "make_vec_env"]
