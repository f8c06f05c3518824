"""LocusVectorEnv: a locus VectorEnv (C++, TBB workers) as a ``gymnasium.vector.VectorEnv``.

The observations, rewards, terminations and truncations returned by ``reset`` and ``step`` are
numpy arrays that share the C++ batch buffers: no copy is made, and the same (read-only) arrays
are returned by every call, their contents rewritten in place. They stay valid until the next
``step`` or ``reset``; keep a copy (``obs.copy()``) to hold data past that, or make the env with
``copy=True`` to receive fresh arrays from every call, as Gymnasium's ``SyncVectorEnv`` does by
default.

Actions that are already a C-contiguous array of the action space's packed dtype and shape
(``(num_envs,)`` int64 for a Discrete space, ``(num_envs, *shape)`` of the Box's dtype) are read
in place; anything else (a list, another integer width, a strided slice) is written into a
preallocated action buffer: integers with numpy's safe casting, Box actions of any bool, integer
or float dtype converted to the Box's dtype (a float64 action is rounded to float32, so unlike a
single env, which computes with it as Gymnasium's does, a vector env's result can differ from
Gymnasium's in the last bits). A dtype that does not fit (a float for a Discrete space), a wrong
shape, or an action the env refuses raises ``locus.errors.InvalidActionError`` before any env
moves, and leaves the vector env usable.

The GIL is released while C++ steps the envs. Results do not depend on ``num_threads``.
"""

from __future__ import annotations

import copy as copy_module
from collections.abc import Mapping, Sequence
from typing import Any

from enum import Enum

import numpy as np
import gymnasium
from gymnasium.vector import VectorEnv
from gymnasium.vector.utils import batch_space

try:
    from gymnasium.vector import AutoresetMode
except ImportError:  # gymnasium 1.0: the enum came with 1.1, whose values the C++ side uses

    class AutoresetMode(Enum):  # type: ignore[no-redef]
        NEXT_STEP = "NextStep"
        SAME_STEP = "SameStep"
        DISABLED = "Disabled"


from locus import _core, rendering
from locus import spaces as locus_spaces
from locus.errors import InvalidActionError, InvalidArgumentError, UnsupportedRenderModeError

def _views(buffer: np.ndarray, layout: dict[str, Any], num_envs: int, stride: int) -> Any:
    """Strided views of an env-major packed buffer, one per leaf of the space (no copy).

    Env i's value starts at byte i * stride; a leaf at `offset` within it is viewed as a
    (num_envs, *shape) array whose first stride is `stride`, so Tuple and Dict spaces come out
    child-major, as Gymnasium batches them, without moving a byte.
    """
    kind = layout["kind"]
    if kind == "Tuple":
        return tuple(_views(buffer, child, num_envs, stride) for child in layout["children"])
    if kind == "Dict":
        return {
            key: _views(buffer, child, num_envs, stride)
            for key, child in zip(layout["keys"], layout["children"])
        }
    dtype = np.dtype(layout["dtype"])
    shape = tuple(layout["shape"])
    element_strides = []
    step = dtype.itemsize
    for dim in reversed(shape):
        element_strides.insert(0, step)
        step *= dim
    return np.ndarray(
        shape=(num_envs, *shape),
        dtype=dtype,
        buffer=buffer,
        offset=layout["offset"],
        strides=(stride, *element_strides),
    )


def _copy_tree(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(_copy_tree(v) for v in value)
    if isinstance(value, dict):
        return {k: _copy_tree(v) for k, v in value.items()}
    return value.copy()


def _autoreset_mode(mode: AutoresetMode | str) -> AutoresetMode:
    if isinstance(mode, AutoresetMode):
        return mode
    names = {
        "nextstep": AutoresetMode.NEXT_STEP,
        "next_step": AutoresetMode.NEXT_STEP,
        "samestep": AutoresetMode.SAME_STEP,
        "same_step": AutoresetMode.SAME_STEP,
        "disabled": AutoresetMode.DISABLED,
    }
    found = names.get(str(mode).lower()) if isinstance(mode, str) else None
    if found is None:
        raise InvalidArgumentError(
            f"autoreset_mode {mode!r} is not one of AutoresetMode.NEXT_STEP, SAME_STEP, DISABLED "
            "(or the strings 'NextStep', 'SameStep', 'Disabled')"
        )
    return found


class LocusVectorEnv(VectorEnv):
    """A batch of locus environments stepped in parallel in C++ (see the module docstring)."""

    def __init__(self, core: Any, *, copy: bool = False, render_mode: str | None = None,
                 locus_id: str | None = None) -> None:
        """`render_mode` "rgb_array" with the env's `locus_id`: pictures drawn here
        (locus.rendering), the C++ envs made without a render mode."""
        self._core = core
        self.copy = copy
        self.num_envs = core.num_envs
        self.autoreset_mode = AutoresetMode(core.autoreset_mode)
        self.metadata = dict(core.metadata)
        self.metadata["autoreset_mode"] = self.autoreset_mode
        self.render_mode = core.render_mode
        self._pictures: rendering.VectorPictures | None = None
        if render_mode is not None and locus_id is not None:
            self._pictures = rendering.VectorPictures(locus_id, render_mode, self.num_envs,
                                                      self.autoreset_mode.value)
            self.render_mode = render_mode
            self.metadata["render_modes"] = [*self.metadata["render_modes"], "rgb_array"]
            if rendering.draws(locus_id):
                self.metadata["render_fps"] = rendering.render_fps(locus_id)
        self.single_observation_space = locus_spaces.from_json(core.single_observation_space)
        self.single_action_space = locus_spaces.from_json(core.single_action_space)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)

        self._observations = _views(
            core.observation_buffer, core.observation_layout, self.num_envs, core.observation_stride
        )
        self._action_layout = core.action_layout
        self._actions = _views(
            core.action_buffer, self._action_layout, self.num_envs, core.action_stride
        )
        self._rewards = core.rewards
        self._terminations = core.terminations
        self._truncations = core.truncations

    @property
    def num_threads(self) -> int:
        """The TBB threads stepping the envs."""
        return self._core.num_threads

    @property
    def max_episode_steps(self) -> int | None:
        return self._core.max_episode_steps

    def reset(
        self,
        *,
        seed: int | Sequence[int | None] | None = None,
        options: dict[str, Any] | None = None,
        mask: np.ndarray | None = None,
    ) -> tuple[Any, dict[str, Any]]:
        """Resets every env, or those `mask` selects.

        ``seed``: None (no reseeding), a non-negative int s of any size (env i gets the int
        s + i, as SyncVectorEnv does) or a list with one int or None per env. ``mask``: a bool
        array of shape (num_envs,), also accepted as Gymnasium's ``options["reset_mask"]``; meant
        for ``AutoresetMode.DISABLED``.
        """
        self._check_open()
        if options is not None and "reset_mask" in options:
            if mask is not None:
                raise InvalidArgumentError(
                    "give the reset mask as mask= or options['reset_mask'], not both"
                )
            options = dict(options)
            mask = options.pop("reset_mask")
        if mask is not None:
            mask = self._check_mask(mask)
        core = self._core
        if seed is None or isinstance(seed, (int, np.integer)):
            core.reset(seed, options, mask)
            if seed is not None:
                super().reset(seed=int(seed))
        else:
            core.reset(list(seed), options, mask)
        infos = core.infos(mask)
        if self._pictures is not None:
            self._pictures.after_reset(self._observations, infos, mask)
        observations = _copy_tree(self._observations) if self.copy else self._observations
        return observations, infos

    def _check_mask(self, mask: Any) -> np.ndarray:
        if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
            got = f"an array of dtype {mask.dtype}" if isinstance(mask, np.ndarray) else repr(mask)
            raise InvalidArgumentError(
                f"reset mask must be a numpy bool array of shape ({self.num_envs},), got {got}"
            )
        if mask.shape != (self.num_envs,):
            raise InvalidArgumentError(
                f"reset mask must have shape ({self.num_envs},), got {mask.shape}"
            )
        if not mask.any():
            raise InvalidArgumentError("reset mask must select at least one env, got none")
        return mask

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if self.closed:
            raise gymnasium.error.ClosedEnvironmentError("step() on a closed LocusVectorEnv")
        core = self._core
        if not core.step(actions):
            self._write_actions(self._actions, self._action_layout, actions, "actions")
            core.step_buffered()
        infos = core.step_infos()
        if self._pictures is not None:
            self._pictures.after_step(actions, self._observations, self._rewards,
                                      self._terminations, self._truncations, infos)
        if self.copy:
            return (
                _copy_tree(self._observations),
                self._rewards.copy(),
                self._terminations.copy(),
                self._truncations.copy(),
                infos,
            )
        return self._observations, self._rewards, self._terminations, self._truncations, infos

    def _write_actions(self, target: Any, layout: dict[str, Any], value: Any, path: str) -> None:
        kind = layout["kind"]
        if kind == "Tuple":
            if not isinstance(value, (tuple, list)) or len(value) != len(layout["children"]):
                raise InvalidActionError(
                    f"{path}: expected a tuple of {len(layout['children'])} batched arrays "
                    f"(action space {self.action_space}), got {type(value).__name__}"
                )
            for i, (child_target, child_layout) in enumerate(zip(target, layout["children"])):
                self._write_actions(child_target, child_layout, value[i], f"{path}[{i}]")
            return
        if kind == "Dict":
            if not isinstance(value, Mapping) or set(value) != set(layout["keys"]):
                raise InvalidActionError(
                    f"{path}: expected a dict with keys {layout['keys']} of batched arrays "
                    f"(action space {self.action_space}), got {value!r:.200}"
                )
            for key, child_layout in zip(layout["keys"], layout["children"]):
                self._write_actions(target[key], child_layout, value[key], f"{path}[{key!r}]")
            return
        dtype = target.dtype
        try:
            # As Box.contains: what is not an array yet is converted to the Box's dtype; other
            # spaces keep numpy's default dtypes (so a float is refused by a Discrete space).
            array = (
                np.asarray(value, dtype=dtype)
                if kind == "Box" and not isinstance(value, np.ndarray)
                else np.asarray(value)
            )
        except (TypeError, ValueError, OverflowError) as error:
            raise InvalidActionError(
                f"{path}: {value!r:.200} cannot be read as {self.num_envs} actions of the space "
                f"{self.single_action_space}: {error}"
            ) from None
        if array.shape != target.shape:
            raise InvalidActionError(
                f"{path}: shape {array.shape}, expected {target.shape} "
                f"(num_envs={self.num_envs} actions of the space {self.single_action_space})"
            )
        if kind == "Discrete" and not isinstance(value, np.ndarray) and array.dtype == np.bool_:
            # Python bools are ints to Discrete.contains (numpy bools are not).
            array = array.astype(np.int64)
        if kind in ("Discrete", "MultiDiscrete"):
            ok = array.dtype.kind in "iu" and np.can_cast(array.dtype, dtype, "safe")
            casting = "safe"
            need = "an integer dtype that casts safely to int64"
        elif kind == "MultiBinary":
            # MultiBinary.contains accepts any 0/1 values; the C++ check sees them as int8.
            ok = array.dtype.kind in "biu" and bool(np.all((array == 0) | (array == 1)))
            casting = "unsafe"
            need = "0/1 values of an integer or bool dtype"
        else:
            # Gymnasium's vector envs hand each env its row as it is, and the envs take any real
            # dtype (Pendulum computes with it); the batch buffer holds the Box's dtype, so a
            # float64 action is rounded to it here (bounds are the envs' to check or clip).
            ok = array.dtype.kind in "biuf" and array.dtype != np.float16
            casting = "unsafe"
            need = f"a bool, integer or float dtype (converted to {dtype})"
        if not ok:
            raise InvalidActionError(
                f"{path}: dtype {array.dtype} does not fit the space {self.single_action_space} "
                f"({need})"
            )
        np.copyto(target, array, casting=casting)

    def render(self) -> tuple[str, ...] | tuple[np.ndarray, ...] | None:
        """One frame per env, as SyncVectorEnv's render: text ("ansi") or pictures
        ("rgb_array")."""
        if self.render_mode is None:
            gymnasium.logger.warn(
                "You are calling render method without specifying any render mode."
            )
            return None
        if self._pictures is not None:
            core = self._core
            return self._pictures.draw(
                [lambda i=i: core.save_state(i) for i in range(self.num_envs)])
        return self._core.render()

    def close_extras(self, **kwargs: Any) -> None:
        if self._pictures is not None:
            self._pictures.close()
        self._core.close()

    def _check_open(self) -> None:
        if self.closed:
            raise gymnasium.error.ClosedEnvironmentError("reset() on a closed LocusVectorEnv")

    def __repr__(self) -> str:
        name = self.spec.id if self.spec is not None else None
        return (
            f"LocusVectorEnv({name or ''}{', ' if name else ''}num_envs={self.num_envs}, "
            f"autoreset_mode={self.autoreset_mode.value}, num_threads={self.num_threads})"
        )


def make_vec(
    id: str,
    num_envs: int = 1,
    *,
    autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
    num_threads: int = 0,
    copy: bool = False,
    max_episode_steps: int | None = None,
    **kwargs: Any,
) -> LocusVectorEnv:
    """A vector env of `num_envs` copies of the locus environment `id`.

    ``id`` is a locus id ("CartPole-v1") or its Gymnasium id ("locus/CartPole-v1"). Env i is seeded
    with seed + i. ``num_threads`` 0 uses every core; the results are the same for any count.
    ``max_episode_steps`` overrides the registered time limit. Other keyword arguments go to the
    environments, as in ``gymnasium.make_vec``.
    """
    from locus.registration import gymnasium_id, locus_id

    mode = _autoreset_mode(autoreset_mode)
    if not isinstance(num_envs, (int, np.integer)) or int(num_envs) < 1:
        raise InvalidArgumentError(f"make_vec: num_envs must be a positive int, got {num_envs!r}")
    if not isinstance(num_threads, (int, np.integer)) or int(num_threads) < 0:
        raise InvalidArgumentError(
            f"make_vec: num_threads must be a non-negative int (0: all cores), got {num_threads!r}"
        )
    env_kwargs = dict(kwargs)
    if max_episode_steps is not None:
        env_kwargs["max_episode_steps"] = max_episode_steps
    cpp_id = locus_id(id)
    render_mode = env_kwargs.get("render_mode")
    if render_mode == "human" and rendering.picture_modes(cpp_id):
        raise UnsupportedRenderModeError(
            f"a vector env of {cpp_id} does not open windows (render_mode 'human'); make it with "
            "render_mode='rgb_array' and wrap it in gymnasium.wrappers.vector.HumanRendering, "
            "which shows every env's frame in one window"
        )
    pictures = render_mode == "rgb_array" and "rgb_array" in rendering.picture_modes(cpp_id)
    if pictures:
        del env_kwargs["render_mode"]  # the C++ envs render text only
    core = _core.VectorEnv(cpp_id, int(num_envs), env_kwargs, mode.value, int(num_threads))
    env = LocusVectorEnv(core, copy=copy, render_mode=render_mode if pictures else None,
                         locus_id=cpp_id)
    gym_id = gymnasium_id(cpp_id)
    if gym_id in gymnasium.registry:
        spec = copy_module.deepcopy(gymnasium.registry[gym_id])
        spec.kwargs = {**spec.kwargs, **kwargs}
        if max_episode_steps is not None:
            spec.max_episode_steps = max_episode_steps
        spec.kwargs["num_envs"] = int(num_envs)
        spec.kwargs["vectorization_mode"] = "vector_entry_point"
        env.spec = spec
    return env


__all__ = ["AutoresetMode", "LocusVectorEnv", "make_vec"]
