"""Every locus environment registered with Gymnasium under the ``locus/`` namespace.

``import locus`` registers them: ``gymnasium.make("locus/CartPole-v1")`` then builds the C++ env
(with Gymnasium's own wrappers: PassiveEnvChecker, OrderEnforcing, TimeLimit with the same
``max_episode_steps`` as in C++), and ``gymnasium.make_vec("locus/CartPole-v1", n)`` reaches
``locus.make_vec`` through the ``vector_entry_point``. The registered ``kwargs`` are the C++
spec's defaults. Environments that a plugin registers in C++ under their own namespace keep it.
"""

from __future__ import annotations

from typing import Any

import gymnasium

from locus import _core
from locus.env import LocusEnv

NAMESPACE = "locus"


def gymnasium_id(locus_id: str) -> str:
    """The Gymnasium id of a locus id: "CartPole-v1" -> "locus/CartPole-v1"."""
    return locus_id if "/" in locus_id else f"{NAMESPACE}/{locus_id}"


def locus_id(id: str) -> str:
    """The locus id of a Gymnasium id: "locus/CartPole-v1" -> "CartPole-v1" (others unchanged)."""
    prefix = f"{NAMESPACE}/"
    return id[len(prefix) :] if id.startswith(prefix) else id


class EnvCreator:
    """Gymnasium's ``entry_point`` for one locus id: ``EnvCreator("CartPole-v1")(**kwargs)``."""

    def __init__(self, locus_id: str) -> None:
        self.locus_id = locus_id

    def __call__(self, **kwargs: Any) -> LocusEnv:
        return LocusEnv(self.locus_id, **kwargs)

    def __repr__(self) -> str:
        return f"locus.EnvCreator({self.locus_id!r})"


class VectorEnvCreator:
    """Gymnasium's ``vector_entry_point`` for one locus id (calls ``locus.make_vec``)."""

    def __init__(self, locus_id: str) -> None:
        self.locus_id = locus_id

    def __call__(self, num_envs: int = 1, **kwargs: Any) -> Any:
        from locus.vector import make_vec

        return make_vec(self.locus_id, num_envs, **kwargs)

    def __repr__(self) -> str:
        return f"locus.VectorEnvCreator({self.locus_id!r})"


def _cpp_specs() -> list[dict[str, Any]]:
    # Python envs that locus.train registered in the C++ registry ("module:Name", the only ids
    # with a colon) are Gymnasium's already; they are not locus environments.
    return [spec for spec in _core.env_specs() if ":" not in spec["id"]]


def register_envs() -> list[str]:
    """Registers with Gymnasium every locus env it does not know yet; returns the new ids."""
    registered = []
    for spec in _cpp_specs():
        gym_id = gymnasium_id(spec["id"])
        if gym_id in gymnasium.registry:
            continue
        gymnasium.register(
            id=gym_id,
            entry_point=EnvCreator(spec["id"]),
            vector_entry_point=VectorEnvCreator(spec["id"]),
            reward_threshold=spec["reward_threshold"],
            nondeterministic=spec["nondeterministic"],
            max_episode_steps=spec["max_episode_steps"],
            order_enforce=spec["order_enforce"],
            disable_env_checker=spec["disable_env_checker"],
            kwargs=spec["kwargs"] or {},
        )
        registered.append(gym_id)
    return registered


def env_ids() -> list[str]:
    """The Gymnasium ids of every locus environment ("locus/CartPole-v1", ...), sorted."""
    return sorted(gymnasium_id(spec["id"]) for spec in _cpp_specs())


def make(id: str, **kwargs: Any) -> gymnasium.Env:
    """``gymnasium.make`` for a locus id, with or without the "locus/" prefix."""
    return gymnasium.make(gymnasium_id(locus_id(id)), **kwargs)


def load_plugin(path: str) -> list[str]:
    """Loads a C++ plugin library (see examples/plugin/) and registers its envs with Gymnasium.

    Returns the Gymnasium ids of the envs it registered.
    """
    ids = _core.load_plugin(str(path))
    register_envs()
    return [gymnasium_id(i) for i in ids]


__all__ = [
    "NAMESPACE",
    "EnvCreator",
    "VectorEnvCreator",
    "env_ids",
    "gymnasium_id",
    "load_plugin",
    "locus_id",
    "make",
    "register_envs",
]
