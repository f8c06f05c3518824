"""Peer figures for the environment-throughput benchmark: Gymnasium and, when installed, EnvPool.

Measured the way locus_bench_envs measures locus (see bench_envs.cpp): actions drawn before the
clock starts, one untimed warm-up run, then timed runs of a fixed number of steps until `repeats`
of them ran while other processes used under 0.25 cores; their median env-steps per second is the
figure (num_envs x vector steps for a vector env). Prints the same JSON schema as
locus_bench_envs; run_env_bench.py puts the two side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import warnings
from typing import Callable

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_timing import rate_fields, time_repeats  # noqa: E402

ACTION_TABLE = 1 << 16  # as in bench_envs.cpp


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure(name: str, impl: str, repeats: int, env_steps: int, config: dict,
            body: Callable[[], float]) -> dict:
    """As bench_envs.cpp's measure(): warm-up, then timed runs until `repeats` clean ones."""
    checksum = body()  # warm-up

    def run() -> None:
        nonlocal checksum
        checksum += body()

    r = time_repeats(run, repeats, env_steps)
    log(f"{name:<40} {r.median_rate:14.0f} env-steps/s (median of {r.counted}{r.busy_note()}), "
        f"{statistics.median(r.cpu_rates):.0f} per CPU second")
    return {"name": name, "impl": impl, "config": config, "env_steps_per_repeat": env_steps,
            "repeats": repeats, **rate_fields("steps", r), "checksum": float(checksum)}


def gymnasium_single(args, rng) -> dict:
    import gymnasium as gym

    env = gym.make("CartPole-v1")
    # Python ints: what a user's loop passes, and cheaper for Gymnasium than numpy scalars.
    actions = rng.integers(0, 2, size=ACTION_TABLE).tolist()
    env.reset(seed=args.seed)
    steps = args.single_steps

    def body() -> float:
        total = 0.0
        step, reset = env.step, env.reset
        mask = ACTION_TABLE - 1
        for i in range(steps):
            _, reward, terminated, truncated, _ = step(actions[i & mask])
            total += reward
            if terminated or truncated:
                reset()
        return total

    return measure("gymnasium/single/make", "gymnasium", args.repeats, steps,
                   {"num_envs": 1, "threads": 1, "env": str(env),
                    "gymnasium": gym.__version__}, body)


def gymnasium_vector(args, rng) -> dict:
    import gymnasium as gym

    n = args.num_envs
    env = gym.make_vec("CartPole-v1", num_envs=n, vectorization_mode="vector_entry_point")
    table = max(1, ACTION_TABLE // n)
    actions = rng.integers(0, 2, size=(table, n))
    env.reset(seed=args.seed)
    steps = args.vector_steps

    def body() -> float:
        total = 0.0
        for i in range(steps):
            _, reward, _, _, _ = env.step(actions[i % table])
            total += float(reward[0])
        return total

    return measure(f"gymnasium/vector/{n}", "gymnasium", args.repeats, steps * n,
                   {"num_envs": n, "threads": 1, "env": type(env).__name__,
                    "autoreset_mode": str(env.metadata.get("autoreset_mode")),
                    "gymnasium": gym.__version__}, body)


def envpool_single(args, rng, envpool) -> dict:
    env = envpool.make("CartPole-v1", env_type="gymnasium", num_envs=1, seed=args.seed,
                       num_threads=1)
    actions = rng.integers(0, 2, size=(ACTION_TABLE, 1))
    env.reset()
    steps = args.envpool_single_steps

    # EnvPool resets a finished env itself on the next step (NEXT_STEP), so there is no reset().
    def body() -> float:
        total = 0.0
        mask = ACTION_TABLE - 1
        for i in range(steps):
            _, reward, _, _, _ = env.step(actions[i & mask])
            total += float(reward[0])
        return total

    return measure("envpool/single", "envpool", args.repeats, steps,
                   {"num_envs": 1, "threads": 1, "envpool": envpool.__version__}, body)


def envpool_vector(args, rng, envpool, threads: int) -> dict:
    n = args.num_envs
    env = envpool.make("CartPole-v1", env_type="gymnasium", num_envs=n, batch_size=n,
                       seed=args.seed, num_threads=threads)
    table = max(1, ACTION_TABLE // n)
    actions = rng.integers(0, 2, size=(table, n))
    env.reset()
    steps = args.envpool_vector_steps

    def body() -> float:
        total = 0.0
        for i in range(steps):
            _, reward, _, _, _ = env.step(actions[i % table])
            total += float(reward[0])
        return total

    return measure(f"envpool/vector/{n}/threads={threads}", "envpool", args.repeats, steps * n,
                   {"num_envs": n, "threads": threads, "envpool": envpool.__version__}, body)


def thread_counts(spec: str) -> list[int]:
    cores = len(os.sched_getaffinity(0))
    return [cores if item == "all" else int(item) for item in spec.split(",") if item]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--single-steps", type=int, default=100_000)
    parser.add_argument("--vector-steps", type=int, default=2_000)
    parser.add_argument("--envpool-single-steps", type=int, default=20_000)
    parser.add_argument("--envpool-vector-steps", type=int, default=300)
    parser.add_argument("--num-envs", type=int, default=1024)
    parser.add_argument("--threads", default="1,all",
                        help="EnvPool thread counts, comma-separated ('all': every core)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-envpool", action="store_true")
    parser.add_argument("--json", help="write the JSON here instead of stdout")
    args = parser.parse_args()

    # Gymnasium warns about float64 Box bounds cast to float32 when EnvPool builds its spaces.
    warnings.filterwarnings("ignore", category=UserWarning)
    rng = np.random.default_rng(args.seed + 1)
    results = [gymnasium_single(args, rng), gymnasium_vector(args, rng)]

    envpool_status: dict = {"available": False}
    if args.no_envpool:
        envpool_status["reason"] = "skipped (--no-envpool)"
    else:
        try:
            import envpool  # noqa: PLC0415 - optional peer
        except Exception as error:  # ImportError, or a wheel built for another ABI
            envpool_status["reason"] = f"import envpool failed: {type(error).__name__}: {error}"
        else:
            envpool_status = {"available": True, "version": envpool.__version__}
            results.append(envpool_single(args, rng, envpool))
            for threads in thread_counts(args.threads):
                results.append(envpool_vector(args, rng, envpool, threads))
    if not envpool_status["available"]:
        log(f"EnvPool: not measured ({envpool_status['reason']})")

    document = {
        "benchmark": "env_throughput_peers",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "envpool": envpool_status,
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
