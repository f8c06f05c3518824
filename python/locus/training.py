"""Training locus's C++ agents (A2C, PPO, REINFORCE) from Python, on locus or Python environments.

    import locus
    summary = locus.train(env="CartPole-v1", agent="ppo", steps=50_000, seed=0, out="runs/cp")
    summary = locus.train(env=GoToTarget, agent="a2c", steps=20_000, num_envs=8, out="runs/go")
    summary["eval"]["return_mean"], summary["train_return_100"]
    locus.evaluate("runs/go", episodes=20)        # as `locus eval runs/go`
    locus.resume("runs/go", steps=40_000)         # as `locus train --resume runs/go --steps 40000`

``train`` runs exactly what ``locus train`` runs (agents/run.hpp) and writes the same run
directory: config.json, metrics.csv, metrics.jsonl, dopamine_trace.csv, gain_trace.csv (da+na),
checkpoint.bin and summary.json, whose content it returns as a dict.

What ``env`` may be:

- the id of a locus environment ("CartPole-v1", "locus/CartPole-v1"): the env is C++ and the whole
  run stays in C++;
- "module:Name", Gymnasium's convention: ``module`` is imported, then its attribute ``Name`` (a
  ``gymnasium.Env`` class, or a function returning an env) is called, or, if the module has no
  such attribute, ``gymnasium.make("Name")`` makes the env that importing the module registered
  (e.g. "my_envs:GoToTarget-v0");
- a Gymnasium id that is not a locus one ("MountainCarContinuous-v0"): ``gymnasium.make``; the run
  records it as "package:id", the package whose import registers it ("gymnasium:...");
- a ``gymnasium.Env`` class, or any callable returning a ``gymnasium.Env``: called once per env
  with ``env_kwargs``; recorded as "module:QualifiedName" when it can be imported by that name;
- a ``gymnasium.Env`` instance: it is the first env; every other one (``num_envs`` > 1, and the
  fresh envs of each evaluation) is a ``copy.deepcopy`` of it, taken when ``train`` is called.

A Python env needs a Discrete or float Box (float32 or float64) observation space and a Discrete
or float32 Box action space (categorical and Gaussian policies); anything else raises
``locus.errors.InvalidArgumentError`` (a ``ValueError``) before training starts. Env ``i`` is
reset with seed ``s + i`` as in Gymnasium's vector envs, so the same seed gives the same run.

The recorded id is what ``locus eval DIR``, ``locus train --resume DIR``, ``evaluate`` and
``resume`` use to make the env again in another process: a lambda, a local class or a class of
``__main__`` is recorded as "python:Name" and can only be made again in the process that trained
it; define the env in an importable module (or pass "module:Name") for a run you want to revisit.

Threads and the GIL: the C++ run releases the GIL and takes it for every call into a Python env
(reset, step, making an env), so other Python threads keep running; agents trained side by side
(``seeds=[...]``, ``threads``) take turns at the GIL and give the results they give alone.
"""

from __future__ import annotations

import copy
import functools
import importlib
import re
import tempfile
from collections.abc import Callable, Mapping
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from locus import _core
from locus import spaces as locus_spaces
from locus.errors import InvalidArgumentError, UnknownEnvError
from locus.registration import locus_id

# The prefix of the ids of Python objects that cannot be imported by name (see the module doc).
UNIMPORTABLE_PREFIX = "python"

# id -> the callable (kwargs -> gymnasium.Env) that makes the envs of that id in this process.
_factories: dict[str, Callable[..., gymnasium.Env]] = {}


def is_python_env_id(env_id: str) -> bool:
    """Whether an id names a Python env ("module:Name"); locus's own ids never hold a colon."""
    return ":" in env_id


def _lookup(module: Any, qualname: str) -> Any:
    target = module
    for part in qualname.split("."):
        target = getattr(target, part, None)
        if target is None:
            return None
    return target


def _string_factory(env_id: str) -> Callable[..., gymnasium.Env]:
    """The factory of a "module:Name" id (Gymnasium's convention, plus module attributes)."""
    module_name, _, name = env_id.partition(":")
    if not module_name or not name:
        raise InvalidArgumentError(
            f"env id {env_id!r}: expected 'module:Name' (a class or function of the module, or a "
            "Gymnasium id the module registers)"
        )
    if module_name == UNIMPORTABLE_PREFIX:
        raise InvalidArgumentError(
            f"env {env_id!r} was trained from a Python object that cannot be imported by name (a "
            "lambda, a local class or a class of __main__), so only the process that trained it "
            "can make it again; train with a class or function of an importable module, or with "
            "env='module:Name', to evaluate or resume the run elsewhere"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise InvalidArgumentError(
            f"env {env_id!r}: cannot import module {module_name!r} ({error}); put the folder "
            "that holds it on PYTHONPATH"
        ) from error
    target = _lookup(module, name)
    if target is not None:
        if not callable(target):
            raise InvalidArgumentError(
                f"env {env_id!r}: {module_name}.{name} is a {type(target).__name__}, not a "
                "gymnasium.Env class or a function that returns an env"
            )
        return target
    try:
        gymnasium.spec(name)
    except gymnasium.error.Error as error:
        raise InvalidArgumentError(
            f"env {env_id!r}: module {module_name!r} has no attribute {name!r}, and Gymnasium "
            f"has no environment {name!r} after importing it ({error})"
        ) from error
    return functools.partial(gymnasium.make, name)


def _sanitized(name: str) -> str:
    return re.sub(r"[^\w.-]", "_", name)


def _object_id(target: Any) -> str:
    """"module:QualifiedName" of a class or function, if importable by that name."""
    module_name = getattr(target, "__module__", None)
    qualname = getattr(target, "__qualname__", None) or type(target).__name__
    if module_name and module_name != "__main__" and "<" not in qualname:
        try:
            if _lookup(importlib.import_module(module_name), qualname) is target:
                return f"{module_name}:{qualname}"
        except ImportError:
            pass
    return f"{UNIMPORTABLE_PREFIX}:{_sanitized(qualname)}"


def _gymnasium_spec_id(spec: gymnasium.envs.registration.EnvSpec) -> str:
    """"package:id" for a Gymnasium spec: importing the package registers the id again."""
    entry_point = spec.entry_point
    if isinstance(entry_point, str):
        module_name = entry_point.partition(":")[0]
    else:
        module_name = getattr(entry_point, "__module__", None) or "gymnasium"
    package = module_name.split(".")[0]
    if package == "__main__":
        return f"{UNIMPORTABLE_PREFIX}:{_sanitized(spec.id)}"
    return f"{package}:{spec.id}"


class _InstanceFactory:
    """The envs of a run given one instance: the instance first, then deep copies of it."""

    def __init__(self, env: gymnasium.Env) -> None:
        try:
            self._template = copy.deepcopy(env)
        except Exception as error:  # noqa: BLE001 - any failure means: cannot copy this env
            raise InvalidArgumentError(
                f"locus makes the envs of a run beyond the first (num_envs > 1, and the fresh envs "
                f"of every evaluation) as copy.deepcopy copies of the instance given, and copying "
                f"this {type(env).__name__} failed ({type(error).__name__}: {error}); pass its "
                "class or a function that makes one instead"
            ) from error
        self._env: gymnasium.Env | None = env

    def __call__(self, **kwargs: Any) -> gymnasium.Env:
        if kwargs:
            raise InvalidArgumentError(
                f"env_kwargs {sorted(kwargs)} cannot be applied to an env instance; pass its "
                "class or a factory to have them passed on"
            )
        if self._env is not None:
            env, self._env = self._env, None
            return env
        return copy.deepcopy(self._template)


def _check_spaces(env: gymnasium.Env, env_id: str) -> None:
    """Raises InvalidArgumentError if locus's agents cannot drive the env's spaces."""
    if not isinstance(env, gymnasium.Env):
        raise TypeError(f"env {env_id!r}: expected a gymnasium.Env, got {type(env).__name__}")
    observation, action = env.observation_space, env.action_space
    if not (
        isinstance(observation, spaces.Discrete)
        or (isinstance(observation, spaces.Box) and observation.dtype in (np.float32, np.float64))
    ):
        if isinstance(observation, (spaces.Dict, spaces.Tuple)):
            hint = "; flatten it with gymnasium.wrappers.FlattenObservation"
        elif isinstance(observation, spaces.Box):
            hint = "; cast it with gymnasium.wrappers.DtypeObservation(env, np.float32)"
        else:
            hint = ""
        raise InvalidArgumentError(
            f"env {env_id!r}: observation space {observation} is not supported by locus's agents "
            f"(a Discrete or a float32/float64 Box is){hint}"
        )
    if not (
        isinstance(action, spaces.Discrete)
        or (isinstance(action, spaces.Box) and action.dtype == np.float32)
    ):
        hint = (
            "; declare it with dtype=np.float32"
            if isinstance(action, spaces.Box) and action.dtype.kind == "f"
            else ""
        )
        raise InvalidArgumentError(
            f"env {env_id!r}: action space {action} is not supported by locus's agents (a "
            f"Discrete for a categorical policy or a float32 Box for a Gaussian one){hint}"
        )
    # The adapter's own conversion (raises for spaces locus has no C++ twin of).
    locus_spaces.to_json(observation)
    locus_spaces.to_json(action)


def _register(
    env_id: str, factory: Callable[..., gymnasium.Env], probe: gymnasium.Env, for_agents: bool = True
) -> None:
    """Makes `env_id` a C++ registry entry whose envs `factory` makes (a probe checked first:
    `for_agents`, that its spaces are ones locus's agents take)."""
    if for_agents:
        _check_spaces(probe, env_id)
    _factories[env_id] = factory
    spec = getattr(probe, "spec", None)
    threshold = getattr(spec, "reward_threshold", None)
    _core.register_python_env(
        env_id,
        None if threshold is None else float(threshold),
        f"Python env {env_id}",
    )


def _probe(factory: Callable[..., gymnasium.Env], env_id: str, kwargs: Mapping[str, Any]):
    env = factory(**kwargs)
    if not isinstance(env, gymnasium.Env):
        raise TypeError(
            f"env {env_id!r}: {factory!r} returned a {type(env).__name__}, not a gymnasium.Env"
        )
    return env


def _without_limit(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    # max_episode_steps is applied by the C++ VectorEnv (make_vec), never passed to the env.
    return {k: v for k, v in kwargs.items() if k != "max_episode_steps"}


def _probe_and_register(
    env_id: str, factory: Callable[..., gymnasium.Env], env_kwargs: Mapping[str, Any]
) -> str:
    """Registers `factory` as `env_id`, with the spaces of one env it makes (closed after)."""
    probe = _probe(factory, env_id, _without_limit(env_kwargs))
    try:
        _register(env_id, factory, probe)
    finally:
        probe.close()
    return env_id


def _resolve(env: Any, env_kwargs: Mapping[str, Any]) -> str:
    """The id a run records for `env`; Python envs are registered in the C++ registry."""
    if isinstance(env, str):
        if not is_python_env_id(env):
            try:
                return _core.spec(locus_id(env))["id"]
            except UnknownEnvError as locus_error:
                try:
                    spec = gymnasium.spec(env)
                except gymnasium.error.Error:
                    raise UnknownEnvError(
                        f"{locus_error} It is no Gymnasium id either; name an env defined in a "
                        "Python module as 'module:Name'"
                    ) from None
            env_id = _gymnasium_spec_id(spec)
            factory: Callable[..., gymnasium.Env] = functools.partial(gymnasium.make, spec.id)
        else:
            env_id = env
            factory = _string_factory(env)
        return _probe_and_register(env_id, factory, env_kwargs)
    if isinstance(env, gymnasium.Env):
        spec = env.spec
        env_id = _gymnasium_spec_id(spec) if spec is not None else _object_id(type(env.unwrapped))
        factory = _InstanceFactory(env)
        _register(env_id, factory, env)
        return env_id
    if callable(env):
        return _probe_and_register(_object_id(env), env, env_kwargs)
    raise TypeError(
        f"env must be an env id, 'module:Name', a gymnasium.Env class, a function returning a "
        f"gymnasium.Env, or a gymnasium.Env instance; got {type(env).__name__}"
    )


def _make_env(env_id: str, kwargs: dict[str, Any]) -> tuple[gymnasium.Env, dict, dict]:
    """Called by the C++ registry's entry point for a Python env id (under the GIL)."""
    factory = _factories.get(env_id)
    if factory is None:
        factory = _string_factory(env_id)
        _factories[env_id] = factory
    env = _probe(factory, env_id, kwargs)
    return (
        env,
        locus_spaces.to_json(env.observation_space),
        locus_spaces.to_json(env.action_space),
    )


def _ensure_registered(
    env_id: str, env_kwargs: Mapping[str, Any], for_agents: bool = True
) -> None:
    """Registers the Python env of a saved run (another process may have trained it), or of
    `locus check` and `locus rollout` (`for_agents` False: any spaces locus's envs have)."""
    if not is_python_env_id(env_id) or env_id in _factories:
        return
    factory = _string_factory(env_id)
    probe = _probe(factory, env_id, _without_limit(env_kwargs))
    try:
        _register(env_id, factory, probe, for_agents)
    finally:
        probe.close()


def train(
    env: Any,
    *,
    agent: str | None = None,
    steps: int | None = None,
    seed: int | None = None,
    num_envs: int | None = None,
    modulation: str | None = None,
    out: str | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    max_episode_steps: int | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    stop_on_signals: bool = False,
    **config: Any,
) -> dict[str, Any]:
    """Trains a locus agent on `env` into the run directory `out`; returns its summary.json.

    agent: "a2c" (default), "ppo" or "reinforce"; modulation: "none", "da" (default) or "da+na";
    steps: environment steps per agent (default 100000); num_envs: envs per agent (default 8);
    seed: the agent's seed (default 0); out: a directory that holds no run yet (default: a new
    temporary directory, named by the summary's "checkpoint"). `config` takes every other key of
    a ``locus train --config`` file (policy: "mlp", "rnn", "gru" or "lstm"; network; hidden, a
    list of widths or one int; rollout_steps, learning_rate, seeds, threads, eval_episodes,
    checkpoint_every, ...); unknown keys raise InvalidArgumentError
    listing the allowed ones. env_kwargs are passed to the env's class or factory (recorded in
    config.json); max_episode_steps adds a time limit (applied in C++, like Gymnasium's
    TimeLimit). progress, if given, is called after every update with a dict (agent, update,
    steps, episode_returns, return_100, loss, entropy). stop_on_signals (for command lines):
    Ctrl-C and SIGTERM stop the run at its next checkpoint and raise RunInterrupted; `resume`
    continues it. See the module doc for what `env` may be.
    """
    kwargs = dict(env_kwargs or {})
    if max_episode_steps is not None:
        kwargs["max_episode_steps"] = int(max_episode_steps)
    env_id = _resolve(env, kwargs)
    run_config: dict[str, Any] = {"env": env_id, **config}
    if isinstance(run_config.get("hidden"), int) and not isinstance(run_config["hidden"], bool):
        run_config["hidden"] = [run_config["hidden"]]
    if kwargs:
        run_config["env_kwargs"] = kwargs
    for key, value in (
        ("agent", agent),
        ("steps", steps),
        ("seed", seed),
        ("num_envs", num_envs),
        ("modulation", modulation),
    ):
        if value is not None:
            run_config[key] = value
    if out is None:
        out = tempfile.mkdtemp(prefix="locus-train-")
    return _core.train(run_config, str(out), progress, stop_on_signals)


def resume(
    out: str,
    *,
    steps: int | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    precision: str | None = None,
    threads: int | None = None,
    stop_on_signals: bool = False,
    **settings: Any,
) -> dict[str, Any]:
    """Continues the run in `out` (to `steps` environment steps per agent, if given).

    `precision` ("float32", "bfloat16", "tf32") replaces the run's matmul precision from now on:
    the learned state carries over, only the arithmetic changes; `threads` sets the worker
    threads. `settings` may repeat any other key of the run's config with its saved value; a
    different value raises InvalidArgumentError naming it (a resumed run may change only steps,
    threads and precision). An agent the run had not checkpointed yet starts from scratch.
    """
    config = _core.load_run_config(str(out))
    _ensure_registered(config["env"], config.get("env_kwargs") or {})
    requested = dict(settings)
    for key, value in (("steps", steps), ("precision", precision), ("threads", threads)):
        if value is not None:
            requested[key] = value
    return _core.resume(str(out), requested, progress, stop_on_signals)


def evaluate(out: str, *, episodes: int = 10, seed: int | None = None) -> dict[str, Any]:
    """Evaluates the checkpoint(s) of the run in `out` greedily; writes and returns eval.json."""
    config = _core.load_run_config(str(out))
    _ensure_registered(config["env"], config.get("env_kwargs") or {})
    return _core.evaluate(str(out), episodes, seed)


__all__ = ["evaluate", "is_python_env_id", "resume", "train"]
