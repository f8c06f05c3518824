"""``locus train``, ``eval``, ``check`` and ``rollout`` for Python environments:
``python -m locus.cli train ...``.

The ``locus`` command line is a C++ program built without Python. When its ``train``, ``eval``,
``check`` or ``rollout`` meets a Python environment (an id "module:Name", given by --env, the
command's env argument or a config file, or recorded in the config.json of the run to resume or
evaluate), it replaces itself with this module run by an
interpreter that has the package (cli/python_commands.cpp says which), passing the same
arguments. The flags, the run directory and the printed lines are those of the C++ commands;
the training itself is the same C++ code (locus.training, agents/run.hpp).

    locus train --env my_envs:GoToTarget-v0 --agent ppo --steps 20000 --out runs/go
    locus eval runs/go --episodes 20
    python -m locus.cli train --env my_envs:GoToTarget-v0 ...   # the same, without the binary

Exit status as the C++ command line's: 0 success, 2 usage errors (bad flags or values, unknown
envs), 1 runtime errors (including a Python env that raises).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

EXIT_RUNTIME_ERROR = 1
EXIT_USAGE_ERROR = 2


def _whole(text: str) -> int:
    """A whole number >= 0, as the C++ command line reads its unsigned flags."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number of 0 or more, got '{text}'")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got '{text}'")
    return value


def _whole_list(text: str) -> list[int]:
    return [_whole(part) for part in text.split(",") if part]


def _json_object(text: str) -> dict[str, Any]:
    """A JSON object, as the C++ command line reads --kwargs."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(
            f"must be a JSON object such as '{{\"key\": 1}}', got '{text}'"
        )
    return value


def _add_train_flags(train: argparse.ArgumentParser) -> list[tuple[str, str]]:
    """The flags of ``locus train``, from the one table both command lines read
    (agents/train_flags.hpp through ``_core.train_flags()``). Returns (dest, run-config key) of
    the flags that set a config key."""
    from locus import _core

    kinds: dict[str, dict[str, Any]] = {
        "text": {},
        "whole": {"type": _whole},
        "number": {"type": float},
        "whole_list": {"type": _whole_list},
        "switch": {"action": "store_true"},
        "json_object": {"type": _json_object},
    }
    seeds = train.add_mutually_exclusive_group()  # --agents N or --seeds LIST
    config_flags = []
    for flag in _core.train_flags():
        dest = flag["name"][2:].replace("-", "_")
        group = seeds if flag["name"] in ("--agents", "--seeds") else train
        group.add_argument(flag["name"], dest=dest, help=flag["help"], **kinds[flag["value"]])
        if flag["key"]:
            config_flags.append((dest, flag["key"]))
    return config_flags


def _parser() -> tuple[argparse.ArgumentParser, list[tuple[str, str]]]:
    parser = argparse.ArgumentParser(
        prog="locus", description="locus train / locus eval for Python environments"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser(
        "train", help="Train actor-critic agents (A2C, PPO, REINFORCE) with dopamine/noradrenaline"
    )
    config_flags = _add_train_flags(train)
    evaluate = commands.add_parser("eval", help="Evaluate the checkpoint of a `locus train` run")
    evaluate.add_argument("dir", help="Run directory")
    evaluate.add_argument("--episodes", type=int, default=10, help="Episodes (default 10)")
    evaluate.add_argument("--seed", type=int, help="Seed of the evaluation envs")
    check = commands.add_parser("check", help="Run the env checker and a seeded random rollout")
    check.add_argument("env", help="Environment id (my_module:MyEnv)")
    check.add_argument("--kwargs", type=_json_object, default={}, help="make() keyword arguments")
    check.add_argument("--seed", type=_whole, default=123, help="Seed of the checks")
    check.add_argument("--steps", type=_positive, default=500, help="Steps of the random rollout")
    rollout = commands.add_parser("rollout", help="Run episodes with a uniformly random policy")
    rollout.add_argument("--env", required=True, help="Environment id (my_module:MyEnv)")
    rollout.add_argument("--kwargs", type=_json_object, default={}, help="make() keyword arguments")
    rollout.add_argument("--episodes", type=_positive, default=5, help="Number of episodes")
    rollout.add_argument("--seed", type=_whole, default=0, help="Seed of the first reset")
    rollout.add_argument("--render", action="store_true", help="Print the ANSI rendering")
    return parser, config_flags


def _given_settings(args: argparse.Namespace, default_seed: int) -> dict[str, Any]:
    """The settings of --config and the flags, as flat config keys (flags win), with the seeds of
    --agents: the C++ command's own reading (agents::given_train_settings)."""
    from locus import _core

    flag_values = {key: getattr(args, dest) for dest, key in args.config_flags
                   if getattr(args, dest) is not None}
    return _core.given_train_settings(args.config or "", flag_values, args.agents, default_seed)


def _train(args: argparse.Namespace) -> None:
    from locus import _core, training
    from locus.errors import InvalidArgumentError

    show = not args.quiet and sys.stderr.isatty()
    if args.resume:
        if args.out:
            raise InvalidArgumentError("--resume continues a run in place: drop --out")
        saved = _core.load_run_config(args.resume)
        given = _given_settings(args, saved.get("seed", 0))
        config, changes = _core.resumed_config(args.resume, given)
        for key, before, after in changes:
            print(f"locus: resuming {args.resume} with {key} {after} (was {before})", file=sys.stderr)
        progress = _core.TrainProgress(len(config["seeds"]) or 1, config["steps"], show)
        summary = training.resume(
            args.resume, progress=progress, stop_on_signals=True, **given
        )
        progress.finish()
        print(_core.train_summary_text(summary, args.resume))
        return
    if not args.out:
        raise InvalidArgumentError("locus train needs --out DIR (or --resume DIR)")
    config = _given_settings(args, 0)
    env = config.pop("env", None)
    if env is None:
        raise InvalidArgumentError("locus train needs --env (or an env key in --config)")
    env_kwargs = config.pop("env_kwargs", None)
    agents = len(config.get("seeds") or []) or 1
    progress = _core.TrainProgress(agents, int(config.get("steps", 100000)), show)
    summary = training.train(
        env,
        out=args.out,
        env_kwargs=env_kwargs,
        progress=progress,
        stop_on_signals=True,
        **config,
    )
    progress.finish()
    print(_core.train_summary_text(summary, args.out))


def _eval(args: argparse.Namespace) -> None:
    from locus import training
    from locus.errors import InvalidArgumentError

    if args.episodes <= 0:
        raise InvalidArgumentError(f"--episodes must be positive, got {args.episodes}")
    result = training.evaluate(args.dir, episodes=args.episodes, seed=args.seed)
    print(json.dumps(result, indent=2))


def _check_or_rollout(args: argparse.Namespace) -> None:
    """``locus check`` and ``locus rollout`` of a module:Name env: registered with the C++
    registry (locus.training), then the C++ commands' own code (envs/wrappers/check_and_rollout)."""
    from locus import _core, training

    training._ensure_registered(args.env, args.kwargs, for_agents=False)
    if args.command == "check":
        lines = _core.run_check(args.env, args.kwargs, args.seed, args.steps)
    else:
        lines = _core.run_rollout(args.env, args.kwargs, args.episodes, args.seed, args.render)
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser, config_flags = _parser()
    # Exits with status 2 on a usage error, as CLI11 does.
    args = parser.parse_args(argv)
    args.config_flags = config_flags
    from locus import errors

    try:
        if args.command == "train":
            _train(args)
        elif args.command == "eval":
            _eval(args)
        else:
            _check_or_rollout(args)
    except errors.CheckError as error:  # as the C++ command reports a failed check
        print(f"locus: error: {error}", file=sys.stderr)
        return EXIT_RUNTIME_ERROR
    except errors.RunInterrupted as error:
        from locus import _core

        print(f"locus: stopped: {error}", file=sys.stderr)
        signal = _core.stopping_signal()
        return 128 + signal if signal else EXIT_RUNTIME_ERROR
    except (errors.UnknownEnvError, errors.InvalidArgumentError, TypeError) as error:
        print(f"locus: error: {error}", file=sys.stderr)
        return EXIT_USAGE_ERROR
    except Exception as error:  # noqa: BLE001 - the command line reports every failure
        print(f"locus: error: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_RUNTIME_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
