#!/usr/bin/env python3
"""NeuroGym's GoNogo-v0 throughput, the peer of bench_cognitive.cpp (GoNoGo-v0).

Measured the way locus is (bench/perf/peers.py's measure(): actions drawn before the clock, one
warm-up run, timed runs until `repeats` ran on quiet cores, median env-steps/s):
  neurogym/single/make   the env a NeuroGym user gets from ngym.make("GoNogo-v0"), which is
                         gymnasium.make(id, disable_env_checker=True): OrderEnforcing(GoNogo)
  neurogym/single/raw    GoNogo() with no wrapper
  neurogym/vector/N      gymnasium's SyncVectorEnv of N such envs (NEXT_STEP autoreset)
Python ints are passed as actions (cheaper for NeuroGym than numpy scalars).

NeuroGym 2.x imports torch in its package __init__ (for a monitor wrapper) and pins gymnasium
0.29; when `import neurogym` fails, the task module is loaded directly with the installed
gymnasium, as tests/envs/neurogym_oracle_gonogo.py does, and registered under its NeuroGym id.

    python3 bench/perf/peers_cognitive.py [--repeats 7] [--json out.json]
Exit status 77 when NeuroGym is not installed.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import ACTION_TABLE, log, measure  # noqa: E402

# The NeuroGym oracles' loader (tests/envs/neurogym_loader.py): the peer is the task they check.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "envs"))
from neurogym_loader import import_neurogym_task  # noqa: E402


def load_gonogo():
    """(GoNogo class, NeuroGym's version, how it was imported); ImportError without NeuroGym."""
    return import_neurogym_task("gonogo", "GoNogo")


def single(name, env, args, rng) -> dict:
    actions = rng.integers(0, 2, size=ACTION_TABLE).tolist()
    env.reset(seed=args.seed)
    steps = args.single_steps

    def body() -> float:
        total = 0.0
        step = env.step
        mask = ACTION_TABLE - 1
        for i in range(steps):
            # NeuroGym's GoNogo never ends an episode (no time limit is registered).
            total += step(actions[i & mask])[1]
        return total

    return measure(name, "neurogym", args.repeats, steps,
                   {"num_envs": 1, "threads": 1, "env": str(env)}, body)


def vector(env_fn, args, rng) -> dict:
    import gymnasium as gym

    n = args.num_envs
    env = gym.vector.SyncVectorEnv([env_fn for _ in range(n)])
    table = max(1, ACTION_TABLE // n)
    actions = rng.integers(0, 2, size=(table, n))
    env.reset(seed=args.seed)
    steps = args.vector_steps

    def body() -> float:
        total = 0.0
        for i in range(steps):
            total += float(env.step(actions[i % table])[1][0])
        return total

    return measure(f"neurogym/vector/{n}", "neurogym", args.repeats, steps * n,
                   {"num_envs": n, "threads": 1, "env": "gymnasium.vector.SyncVectorEnv",
                    "autoreset_mode": str(env.metadata.get("autoreset_mode"))}, body)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--single-steps", type=int, default=100_000)
    parser.add_argument("--vector-steps", type=int, default=50)
    parser.add_argument("--num-envs", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the JSON here instead of stdout")
    args = parser.parse_args()

    try:
        GoNogo, version, how = load_gonogo()
    except ImportError as error:
        log(f"peers_cognitive: NeuroGym not available: {error}")
        return 77
    import gymnasium as gym

    # NeuroGym's metadata has no render_modes; gymnasium warns about it on every make().
    warnings.filterwarnings("ignore", category=UserWarning)
    if "GoNogo-v0" not in gym.registry:
        gym.register("GoNogo-v0", entry_point=GoNogo)  # what ngym.register does

    def make_env():
        return gym.make("GoNogo-v0", disable_env_checker=True)  # ngym.make

    rng = np.random.default_rng(args.seed + 1)
    results = [single("neurogym/single/make", make_env(), args, rng),
               single("neurogym/single/raw", GoNogo(), args, rng),
               vector(make_env, args, rng)]
    document = {
        "benchmark": "cognitive_throughput_peers",
        "neurogym": {"version": version, "import": how},
        "gymnasium": gym.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "results": results,
    }
    text = json.dumps(document, indent=2)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            out.write(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
