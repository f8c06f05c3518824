"""locus.load: a run's trained policy, with Stable-Baselines3's ``predict``.

    import gymnasium, locus

    policy = locus.load("runs/cartpole")          # the run's checkpoint.bin
    env = gymnasium.make("locus/CartPole-v1")
    obs, _ = env.reset(seed=0)
    state, done = None, False
    while not done:
        action, state = policy.predict(obs, state=state)
        obs, reward, terminated, truncated, _ = env.step(action)
        done = terminated or truncated

``predict(observation, state=None, episode_start=None, deterministic=True)`` returns
``(action, state)`` as SB3's does:

- ``observation``: one observation of the env's space, or a batch of them, (n, *shape); the action
  comes back alike: a numpy int64 (or an (n,) array) for a Discrete space, a Box's dtype and shape,
  clipped to its bounds, for a Box.
- ``state``: None starts the memory of each stream afresh; pass back the returned state to carry
  what the policy remembers (a recurrent policy's hidden state, the frames of a frame stack).
- ``episode_start``: a bool per stream (SB3's name), True where the observation begins an episode:
  that stream's memory is cleared first. With ``state=None`` every stream starts.
- ``deterministic``: the most likely action (arg-max, the Gaussian's mean) when True (the default
  here, as for an evaluation), else one drawn from the policy, from the generator seeded by
  ``load(..., seed=)``.

The policy reads the env's observations as the run's agent did (frame stacks, one-hot Discrete
observations) and changes nothing in the run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from locus import _core
from locus import spaces as locus_spaces
from locus.errors import InvalidArgumentError
from locus.training import _ensure_registered


class Policy:
    """A trained policy of a locus run (see the module docstring); made by ``locus.load``."""

    def __init__(self, checkpoint: Path, seed: int) -> None:
        self._core = _core.Policy(checkpoint)
        self.checkpoint = checkpoint
        self.observation_space = locus_spaces.from_json(self._core.observation_space)
        self.action_space = locus_spaces.from_json(self._core.action_space)
        self._seed = int(seed)
        self._memories = 0

    @property
    def recurrent(self) -> bool:
        """Whether the policy carries a hidden state from step to step."""
        return self._core.recurrent

    @property
    def env_id(self) -> str:
        return self._core.env_id

    def predict(
        self,
        observation: Any,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
    ) -> tuple[Any, Any]:
        observations, single = self._batch(observation)
        batch = observations.shape[0]
        if state is None:
            state = self._core.start(batch, (self._seed + self._memories) % 2**64)
            self._memories += 1
            starts = np.ones(batch, dtype=np.uint8)
        elif episode_start is None:
            starts = np.zeros(batch, dtype=np.uint8)
        else:
            starts = np.ascontiguousarray(episode_start, dtype=bool).astype(np.uint8).reshape(-1)
            if starts.shape != (batch,):
                raise InvalidArgumentError(
                    f"predict: episode_start has {starts.size} values for {batch} observations"
                )
        actions = self._core.predict(observations, starts, bool(deterministic), state)
        return self._actions(actions, single), state

    def _batch(self, observation: Any) -> tuple[np.ndarray, bool]:
        space = self.observation_space
        if isinstance(space, spaces.Discrete):
            array = np.ascontiguousarray(observation, dtype=np.int64)
            shape = ()
        elif isinstance(space, spaces.Box):
            array = np.ascontiguousarray(observation, dtype=space.dtype)
            shape = space.shape
        else:  # the C++ agent refused other spaces when it was trained
            raise InvalidArgumentError(f"predict: unsupported observation space {space}")
        if array.shape == shape:
            return array.reshape(1, *shape), True
        if array.ndim == len(shape) + 1 and array.shape[1:] == shape and array.shape[0] > 0:
            return array, False
        raise InvalidArgumentError(
            f"predict: observation of shape {array.shape}, expected {shape} (one) or "
            f"(n, {', '.join(map(str, shape))}) (a batch) for the space {space}"
        )

    def _actions(self, actions: np.ndarray, single: bool) -> Any:
        space = self.action_space
        if isinstance(space, spaces.Discrete):
            out = actions[:, 0].astype(np.int64) + np.int64(space.start)
            return out[0] if single else out
        if isinstance(space, spaces.Box):
            out = np.clip(actions.reshape(-1, *space.shape), space.low, space.high)
            out = out.astype(space.dtype)
            return out[0] if single else out
        raise InvalidArgumentError(f"predict: unsupported action space {space}")

    def __repr__(self) -> str:
        kind = "recurrent" if self.recurrent else "feed-forward"
        return f"Policy({self.env_id}, {kind}, {self._core.steps} steps, from {self.checkpoint})"


def load(run_dir: str | os.PathLike[str], *, run_seed: int | None = None, seed: int = 0) -> Policy:
    """The trained policy of the run in `run_dir` (``locus train --out``, ``locus.train``).

    A run of several seeds keeps one policy per seed: ``run_seed`` chooses it (required then).
    ``seed`` seeds the draws of ``predict(..., deterministic=False)``.
    """
    run_dir = Path(run_dir)
    config = _core.load_run_config(str(run_dir))
    seeds = config.get("seeds") or [config.get("seed")]
    if len(seeds) > 1:
        if run_seed not in seeds:
            raise InvalidArgumentError(
                f"load: {run_dir} holds the policies of seeds {seeds}; choose one with run_seed="
            )
        checkpoint = run_dir / f"seed_{run_seed}" / "checkpoint.bin"
    else:
        if run_seed is not None and run_seed not in seeds:
            raise InvalidArgumentError(f"load: {run_dir} was trained with seed {seeds[0]} only")
        checkpoint = run_dir / "checkpoint.bin"
    if not checkpoint.exists():
        raise InvalidArgumentError(
            f"load: {checkpoint} does not exist: the run has no checkpoint yet (resume it with "
            f"locus train --resume {run_dir})"
        )
    _ensure_registered(config["env"], config.get("env_kwargs") or {})
    if config.get("plugin"):
        _core.load_plugin_for(config["env"], config["plugin"])
    return Policy(checkpoint, seed)


__all__ = ["Policy", "load"]
