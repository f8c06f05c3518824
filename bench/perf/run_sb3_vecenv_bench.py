#!/usr/bin/env python3
"""Stable-Baselines3 on locus.sb3's VecEnv against SB3's own DummyVecEnv, in the same run.

Two measurements, each on CartPole-v1 with the same seeds:
  1. VecEnv stepping: random actions through `VecEnv.step` for n_envs in --envs, as SB3's rollout
     collection calls it (VecMonitor or Monitor included). Three VecEnvs:
       - sb3_dummy: SB3's make_vec_env("CartPole-v1"), a DummyVecEnv of Gymnasium's CartPole;
       - sb3_dummy_locus: SB3's make_vec_env("locus/CartPole-v1"), the DummyVecEnv of locus envs;
       - locus_sb3: locus.sb3.make_vec_env("CartPole-v1"), one C++ call per step.
  2. PPO training: SB3's PPO (RL Zoo's CartPole-v1 settings: 8 envs x 32 steps, 20 epochs of batch
     256) for --ppo-steps on sb3_dummy and on locus_sb3; wall time of `learn`, whose time is
     mostly PyTorch's, so the VecEnv's share of it bounds the gain.
Each figure is the best of --repeats after waiting for a quiet machine (the machine is shared).

Run it with the interpreter that has stable-baselines3 (scripts/setup_compat.sh makes one):

    PYTHONPATH=build/python .venv-compat/bin/python bench/perf/run_sb3_vecenv_bench.py
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_common import document_start, wait_quiet, write_atomically  # noqa: E402

import numpy as np  # noqa: E402
import stable_baselines3  # noqa: E402
import torch  # noqa: E402
from stable_baselines3.common.env_util import make_vec_env as sb3_make_vec_env  # noqa: E402

import locus  # noqa: E402
import locus.sb3  # noqa: E402

PPO_SETTINGS = dict(n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=20,
                    ent_coef=0.0, learning_rate=1e-3, clip_range=0.2)
THREADS = {"locus": 1}  # --threads: locus's worker threads, as PyTorch's
VEC_ENVS = {
    "sb3_dummy": lambda n, seed: sb3_make_vec_env("CartPole-v1", n_envs=n, seed=seed),
    "sb3_dummy_locus": lambda n, seed: sb3_make_vec_env("locus/CartPole-v1", n_envs=n, seed=seed),
    "locus_sb3": lambda n, seed: locus.sb3.make_vec_env("CartPole-v1", n_envs=n, seed=seed,
                                                         num_threads=THREADS["locus"]),
}


def steps_per_second(kind: str, num_envs: int, steps: int, repeats: int, quiet: float) -> float:
    best = 0.0
    for _ in range(repeats):
        wait_quiet(quiet)
        venv = VEC_ENVS[kind](num_envs, 0)
        venv.reset()
        actions = np.random.default_rng(0).integers(0, 2, size=(steps, num_envs))
        start = time.perf_counter()
        for action in actions:
            venv.step(action)
        best = max(best, steps * num_envs / (time.perf_counter() - start))
        venv.close()
    return best


def ppo_seconds(kind: str, total_steps: int, repeats: int, quiet: float) -> tuple[float, float]:
    """Best wall time of PPO.learn and the mean return of its last 100 episodes."""
    best, mean_return = float("inf"), 0.0
    for _ in range(repeats):
        wait_quiet(quiet)
        model = stable_baselines3.PPO("MlpPolicy", VEC_ENVS[kind](8, None), seed=0, device="cpu",
                                      **PPO_SETTINGS)
        start = time.perf_counter()
        model.learn(total_steps)
        seconds = time.perf_counter() - start
        if seconds < best:
            best = seconds
            mean_return = float(np.mean([e["r"] for e in model.ep_info_buffer]))
    return best, mean_return


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", type=int, nargs="+", default=[8, 64, 256])
    parser.add_argument("--steps", type=int, default=2000, help="VecEnv steps per measurement")
    parser.add_argument("--ppo-steps", type=int, default=40_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="PyTorch and locus threads")
    parser.add_argument("--wait-quiet", type=float, default=30.0)
    parser.add_argument("--out", default=str(HERE / "results" / "sb3_vecenv.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    THREADS["locus"] = args.threads
    warnings.simplefilter("ignore")  # SB3 2.4 warns about Gymnasium versions it has not seen

    document = document_start("sb3_vecenv", os.cpu_count() or 1, python=True)
    document["versions"] = {"stable_baselines3": stable_baselines3.__version__,
                            "torch": torch.__version__, "numpy": np.__version__,
                            "locus": locus.__version__}
    stepping = []
    for num_envs in args.envs:
        row = {"num_envs": num_envs}
        for kind in VEC_ENVS:
            row[kind] = round(steps_per_second(kind, num_envs, args.steps, args.repeats,
                                               args.wait_quiet))
        row["ratio_locus_sb3_over_sb3_dummy"] = round(row["locus_sb3"] / row["sb3_dummy"], 2)
        print(f"{num_envs:4d} envs: " + ", ".join(f"{k} {row[k]:,} steps/s" for k in VEC_ENVS)
              + f"; locus_sb3 / sb3_dummy {row['ratio_locus_sb3_over_sb3_dummy']}x", flush=True)
        stepping.append(row)
    ppo = {}
    for kind in ("sb3_dummy", "locus_sb3"):
        seconds, mean_return = ppo_seconds(kind, args.ppo_steps, args.repeats, args.wait_quiet)
        ppo[kind] = {"learn_seconds": round(seconds, 2), "mean_return_last_100": mean_return}
        print(f"PPO {args.ppo_steps} steps on {kind}: {seconds:.2f} s, mean return of the last "
              f"100 episodes {mean_return:.1f}", flush=True)
    ppo["ratio_sb3_dummy_over_locus_sb3"] = round(
        ppo["sb3_dummy"]["learn_seconds"] / ppo["locus_sb3"]["learn_seconds"], 2)
    print(f"PPO speed-up: {ppo['ratio_sb3_dummy_over_locus_sb3']}x")
    document.update(stepping=stepping, ppo={"steps": args.ppo_steps, **ppo},
                    settings={"ppo": PPO_SETTINGS, "threads": args.threads,
                              "repeats": args.repeats})
    write_atomically(Path(args.out), json.dumps(document, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
