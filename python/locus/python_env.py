"""Python environments driven by locus's C++ side.

A ``gymnasium.Env`` written in Python (Discrete, Box, MultiDiscrete, MultiBinary, Tuple or Dict
spaces) becomes a C++ ``locus::envs::Env`` whose reset and step call back into Python under the
GIL. Its spaces are converted from the Gymnasium spaces (``locus.spaces.to_json``); observations
are packed into the space's layout and actions handed to the env as Gymnasium values.

- ``check_env_cpp(env)`` runs locus's C++ env checker on it;
- ``vector_from_python(env_fns)`` steps a batch of them in a C++ VectorEnv (TBB workers take turns
  at the GIL: this brings locus's vector semantics, not parallel speed, to Python envs).

``locus.train`` (locus.training) trains locus's C++ agents on such envs through the same adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium

from locus import _core
from locus import spaces as locus_spaces
from locus.vector import AutoresetMode, LocusVectorEnv, _autoreset_mode


def _adapter_parts(env: gymnasium.Env) -> tuple[gymnasium.Env, dict[str, Any], dict[str, Any]]:
    if not isinstance(env, gymnasium.Env):
        raise TypeError(f"expected a gymnasium.Env, got {type(env).__name__}")
    return (
        env,
        locus_spaces.to_json(env.observation_space),
        locus_spaces.to_json(env.action_space),
    )


def check_env_cpp(env: gymnasium.Env, *, seed: int = 123, steps: int = 200) -> dict[str, Any]:
    """Runs locus's C++ env checker on a Python env; raises locus.errors.CheckError on a violation.

    Returns the checks that passed, the warnings and the steps and episodes of the seeded rollout.
    """
    return _core.check_python_env(*_adapter_parts(env), seed, steps)


def vector_from_python(
    env_fns: Sequence[Callable[[], gymnasium.Env]],
    *,
    autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
    num_threads: int = 0,
    max_episode_steps: int | None = None,
    copy: bool = False,
) -> LocusVectorEnv:
    """A LocusVectorEnv (C++ VectorEnv) over Python envs made by `env_fns`, like SyncVectorEnv."""
    mode = _autoreset_mode(autoreset_mode)
    parts = [_adapter_parts(fn()) for fn in env_fns]
    core = _core.VectorEnv.from_python_envs(parts, mode.value, num_threads, max_episode_steps)
    return LocusVectorEnv(core, copy=copy)


__all__ = ["check_env_cpp", "vector_from_python"]
