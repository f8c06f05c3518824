#!/usr/bin/env python3
"""PPO on CartPole-v1: locus (`locus train`) against Stable-Baselines3, matched hyperparameters.

For each seed, both learners train PPO for the same number of environment steps with the same
settings (HYPERPARAMETERS below: 8 envs x 128 steps per update, 4 epochs of 4 minibatches of 256,
Adam lr 1e-3 constant, gamma 0.99, GAE lambda 0.95, clip 0.2, entropy 0.01, value coefficient 0.5,
gradient-norm clip 0.5, no advantage normalization, no value clipping, one shared trunk of 64-64
ReLU with a linear policy head (init scale 0.01) and a linear value head), and both are evaluated
greedily on 20 fresh episodes every 4 updates. Reported per seed: environment steps and training
wall time until the first evaluation with a mean return >= 475, the wall time of the whole run
(the same steps for both), and the CPU time of the whole run; then the ratios locus / SB3.

Evaluation time is excluded from every wall time, for both:
  - SB3 runs in this process; a callback stops the clock while it evaluates.
  - locus runs twice per seed. Run A evaluates every 4 updates (`--eval-every 4`) and gives the
    update at which the mean return first reaches 475. Run B does not evaluate and gives the
    training wall time up to that update (metrics.csv's time_s) and the run's CPU time. Evaluation
    does not change training (Agent::evaluate uses its own envs and no training randomness), so
    both runs follow the same trajectory; the script checks that their losses agree.

The machine is shared: each run starts after waiting for a quiet machine (run_env_bench.py's
wait_quiet) and records the CPU other processes used meanwhile; CPU time is reported beside wall
time because it is the less disturbed figure (training only for both: locus's timing run, which
does not evaluate, and SB3's clock with the evaluations taken out).

Threads: --threads sets torch.set_num_threads and `locus train --threads`, and, because Debian's
torch and locus both call OpenBLAS, whose thread pool neither setting controls,
OPENBLAS_NUM_THREADS and OMP_NUM_THREADS as well (before torch is imported, and for the locus
process).

Run it with the Python that has stable-baselines3 (see bench/perf/requirements.txt):

    .venv-sb3/bin/python bench/perf/run_sb3_bench.py --locus build/bin/locus --seeds 1,2,3,4,5
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
from bench_common import cpu_model, sb3_ppo_kwargs, wait_quiet, write_atomically  # noqa: E402
from peer_timing import machine_busy_seconds  # noqa: E402

THRESHOLD = 475.0  # CartPole-v1's reward threshold
EVAL_EVERY = 4  # updates between evaluations
EVAL_EPISODES = 20

# The shared settings, in locus's config keys; sb3_kwargs() maps them to SB3's.
HYPERPARAMETERS = {
    "env": "CartPole-v1",
    "agent": "ppo",
    "modulation": "da",  # advantages and critic targets from the TD error via GAE: plain PPO
    "network": "trainable",
    "hidden": [64, 64],
    "num_envs": 8,
    "rollout_steps": 128,
    "ppo_epochs": 4,
    "minibatches": 4,  # 8 * 128 / 4 = 256 transitions per minibatch
    "optimizer": "adam",  # eps 1e-5 in both
    "learning_rate": 1e-3,
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "clip_epsilon": 0.2,
    "entropy_coef": 0.01,
    "value_coef": 0.5,
    "max_grad_norm": 0.5,
    "normalize_advantages": False,
    "value_clip": 0.0,
}


def sb3_kwargs() -> dict:
    return sb3_ppo_kwargs(HYPERPARAMETERS)


def rounded_steps(total: int) -> int:
    """Whole updates, as both learners do them: locus stops at the first update reaching `total`."""
    per_update = HYPERPARAMETERS["num_envs"] * HYPERPARAMETERS["rollout_steps"]
    return math.ceil(total / per_update) * per_update


# ---- locus ----

def read_metrics(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def run_locus(locus: str, seed: int, steps: int, threads: int, evaluate: bool, work: Path,
              max_wait: float) -> dict:
    config = dict(HYPERPARAMETERS, seed=seed, steps=steps, threads=threads, checkpoint_every=50,
                  eval_every=EVAL_EVERY if evaluate else 0,
                  eval_episodes=EVAL_EPISODES if evaluate else 1)
    config_path = work / f"locus_{seed}_{'eval' if evaluate else 'timing'}.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    out = work / f"run_{seed}_{'eval' if evaluate else 'timing'}"
    command = [locus, "train", "--config", str(config_path), "--quiet", "--out", str(out)]
    load_before = wait_quiet(max_wait)
    print(f"$ {shlex.join(command)}", file=sys.stderr, flush=True)
    busy0, wall0 = machine_busy_seconds(), time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    # wait4 gives this child's own CPU time (RUSAGE_CHILDREN would also count any earlier child
    # that subprocess happens to reap meanwhile).
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - wall0
    if process.returncode != 0:
        raise SystemExit(f"run_sb3_bench: locus train failed with exit status "
                         f"{process.returncode}: {shlex.join(command)}")
    cpu = usage.ru_utime + usage.ru_stime
    others = max(0.0, (machine_busy_seconds() - busy0) - cpu)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return {"metrics": read_metrics(out / "metrics.csv"), "summary": summary,
            "process_cpu_s": cpu, "process_wall_s": wall,
            "load": {"before_cores": round(load_before, 3), "during_cores": round(others / wall, 3)}}


def locus_seed(locus: str, seed: int, steps: int, threads: int, work: Path,
               max_wait: float) -> dict:
    with_eval = run_locus(locus, seed, steps, threads, True, work, max_wait)
    timing = run_locus(locus, seed, steps, threads, False, work, max_wait)
    evals = [(int(r["update"]), int(r["steps"]), float(r["eval_return"]))
             for r in with_eval["metrics"] if r["eval_return"] not in ("", None)]
    reached = next(((u, s, ret) for u, s, ret in evals if ret >= THRESHOLD), None)
    by_update = {int(r["update"]): r for r in timing["metrics"]}
    # Same trajectory in both runs: the losses of every update must agree.
    for row in with_eval["metrics"]:
        other = by_update.get(int(row["update"]))
        if other is None or other["loss"] != row["loss"]:
            raise SystemExit(f"run_sb3_bench: locus runs with and without evaluation differ at "
                             f"update {row['update']} (seed {seed}); the timing would not apply")
    result = {
        "steps": int(timing["summary"]["steps"]),
        "evaluations": [{"update": u, "steps": s, "mean_return": ret} for u, s, ret in evals],
        "final_eval_return_20": evals[-1][2] if evals else None,
        "train_wall_s": float(timing["summary"]["wall_seconds"]),
        "process_wall_s": timing["process_wall_s"],
        "process_cpu_s": timing["process_cpu_s"],
        "load": {"eval_run": with_eval["load"], "timing_run": timing["load"]},
        "steps_to_threshold": None,
        "wall_to_threshold_s": None,
    }
    if reached is not None:
        result["steps_to_threshold"] = reached[1]
        result["wall_to_threshold_s"] = float(by_update[reached[0]]["time_s"])
    return result


# ---- Stable-Baselines3 ----

def sb3_seed(seed: int, steps: int, threads: int, max_wait: float) -> dict:
    import gymnasium as gym
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

    class SharedTrunk(BaseFeaturesExtractor):
        """locus's actor-critic network: one ReLU trunk that both linear heads read."""

        def __init__(self, observation_space: gym.Space, hidden: tuple[int, ...] = (64, 64)):
            super().__init__(observation_space, features_dim=hidden[-1])
            layers, width = [], int(observation_space.shape[0])
            for units in hidden:
                layers += [torch.nn.Linear(width, units), torch.nn.ReLU()]
                width = units
            self.trunk = torch.nn.Sequential(*layers)

        def forward(self, observations: torch.Tensor) -> torch.Tensor:
            return self.trunk(observations)

    class Clock(BaseCallback):
        """Training time per update, with the evaluation every EVAL_EVERY updates taken out."""

        def __init__(self, eval_env):
            super().__init__()
            self.eval_env = eval_env
            self.updates = 0
            self.paused_wall = self.paused_cpu = 0.0
            self.evaluations: list[dict] = []
            self.start_wall = self.start_cpu = 0.0

        def _on_training_start(self) -> None:
            self.start_wall, self.start_cpu = time.perf_counter(), time.process_time()

        def evaluate(self) -> None:
            wall0, cpu0 = time.perf_counter(), time.process_time()
            train_wall = wall0 - self.start_wall - self.paused_wall
            train_cpu = cpu0 - self.start_cpu - self.paused_cpu
            mean, _ = evaluate_policy(self.model, self.eval_env, n_eval_episodes=EVAL_EPISODES,
                                      deterministic=True)
            self.evaluations.append({"update": self.updates, "steps": self.num_timesteps,
                                     "mean_return": float(mean), "train_wall_s": train_wall,
                                     "train_cpu_s": train_cpu})
            self.paused_wall += time.perf_counter() - wall0
            self.paused_cpu += time.process_time() - cpu0

        def _on_rollout_start(self) -> None:
            # Called before each rollout, so after the previous update's learning: the same point
            # at which `locus train --eval-every` evaluates.
            if self.updates > 0 and self.updates % EVAL_EVERY == 0:
                self.evaluate()
            self.updates += 1

        def _on_step(self) -> bool:
            return True

        def training_seconds(self) -> tuple[float, float]:
            return (time.perf_counter() - self.start_wall - self.paused_wall,
                    time.process_time() - self.start_cpu - self.paused_cpu)

    torch.set_num_threads(threads)
    h = HYPERPARAMETERS
    load_before = wait_quiet(max_wait)
    print(f"sb3: PPO seed {seed}, {steps} steps", file=sys.stderr, flush=True)
    busy0, wall0, cpu0 = machine_busy_seconds(), time.monotonic(), time.process_time()
    env = make_vec_env(h["env"], n_envs=h["num_envs"], seed=seed)
    eval_env = make_vec_env(h["env"], n_envs=4, seed=10_000 + seed)
    model = PPO("MlpPolicy", env, seed=seed, device="cpu", verbose=0,
                policy_kwargs={"features_extractor_class": SharedTrunk,
                               "features_extractor_kwargs": {"hidden": tuple(h["hidden"])},
                               "net_arch": [], "share_features_extractor": True,
                               "activation_fn": torch.nn.ReLU},
                **sb3_kwargs())
    clock = Clock(eval_env)
    model.learn(total_timesteps=steps, callback=clock)
    train_wall, train_cpu = clock.training_seconds()
    if clock.updates % EVAL_EVERY == 0:
        clock.evaluate()  # after the last update, as locus evaluates at update 196 = 4 * 49
    wall = time.monotonic() - wall0
    cpu = time.process_time() - cpu0
    others = max(0.0, (machine_busy_seconds() - busy0) - cpu)
    reached = next((e for e in clock.evaluations if e["mean_return"] >= THRESHOLD), None)
    return {
        "steps": int(model.num_timesteps),
        "evaluations": [{k: e[k] for k in ("update", "steps", "mean_return")}
                        for e in clock.evaluations],
        "final_eval_return_20": clock.evaluations[-1]["mean_return"] if clock.evaluations else None,
        "train_wall_s": train_wall,
        "train_cpu_s": train_cpu,
        "process_wall_s": wall,
        "process_cpu_s": cpu,
        "load": {"before_cores": round(load_before, 3), "during_cores": round(others / wall, 3)},
        "steps_to_threshold": reached["steps"] if reached else None,
        "wall_to_threshold_s": reached["train_wall_s"] if reached else None,
        "cpu_to_threshold_s": reached["train_cpu_s"] if reached else None,
    }


# ---- report ----

def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


def fmt(value, spec=".1f", missing="not reached"):
    return missing if value is None else format(value, spec)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locus", default=str(REPO / "build" / "bin" / "locus"))
    parser.add_argument("--seeds", default="1,2,3,4,5")
    parser.add_argument("--steps", type=int, default=200_000,
                        help="environment steps per run (rounded up to whole updates of 1024)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for each learner (torch.set_num_threads, locus --threads)")
    parser.add_argument("--wait-quiet", type=float, default=60.0,
                        help="seconds to wait for a quiet machine before each run")
    parser.add_argument("--out", default=str(HERE / "results" / "sb3_ppo.json"))
    parser.add_argument("--skip-sb3", action="store_true", help="measure locus only")
    args = parser.parse_args()

    # Before torch (and its OpenBLAS) is imported; the locus subprocesses inherit it.
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    seeds = [int(s) for s in args.seeds.split(",") if s]
    steps = rounded_steps(args.steps)
    if not Path(args.locus).is_file():
        raise SystemExit(f"run_sb3_bench: no locus binary at {args.locus} (build target 'locus')")
    versions = {"python": platform.python_version()}
    if not args.skip_sb3:
        try:
            import gymnasium
            import stable_baselines3
            import torch
        except ImportError as error:
            raise SystemExit(f"run_sb3_bench: {error}; run with the Python of "
                             f"bench/perf/requirements.txt's SB3 environment") from error
        versions.update(torch=torch.__version__, stable_baselines3=stable_baselines3.__version__,
                        gymnasium=gymnasium.__version__)

    rows = []
    with tempfile.TemporaryDirectory(prefix="locus_sb3_bench_") as tmp:
        for seed in seeds:
            row = {"seed": seed,
                   "locus": locus_seed(args.locus, seed, steps, args.threads, Path(tmp),
                                       args.wait_quiet)}
            if not args.skip_sb3:
                row["sb3"] = sb3_seed(seed, steps, args.threads, args.wait_quiet)
            rows.append(row)
            print(json.dumps({"seed": seed,
                              **{k: {f: row[k][f] for f in ("steps_to_threshold",
                                                            "wall_to_threshold_s",
                                                            "train_wall_s", "process_cpu_s")}
                                 for k in ("locus", "sb3") if k in row}}),
                  file=sys.stderr, flush=True)

    print(f"\nPPO on CartPole-v1, {steps} steps per run, {args.threads} thread(s) each; "
          f"threshold: mean greedy return >= {THRESHOLD:.0f} over {EVAL_EPISODES} episodes, "
          f"evaluated every {EVAL_EVERY} updates")
    header = ("| seed | locus steps to 475 | SB3 steps to 475 | locus wall to 475 (s) | "
              "SB3 wall to 475 (s) | ratio | locus wall total (s) | SB3 wall total (s) | ratio | "
              "locus CPU, training (s) | SB3 CPU, training (s) | ratio |")
    print(header)
    print("|" + "|".join(["---"] + ["---:"] * 11) + "|")
    for row in rows:
        lo, sb = row["locus"], row.get("sb3")
        cells = [str(row["seed"]), fmt(lo["steps_to_threshold"], ",d"),
                 fmt(sb and sb["steps_to_threshold"], ",d"),
                 fmt(lo["wall_to_threshold_s"], ".2f"), fmt(sb and sb["wall_to_threshold_s"], ".2f"),
                 fmt(ratio(lo["wall_to_threshold_s"], sb and sb["wall_to_threshold_s"]), ".4f", "-"),
                 fmt(lo["train_wall_s"], ".2f"), fmt(sb and sb["train_wall_s"], ".2f"),
                 fmt(ratio(lo["train_wall_s"], sb and sb["train_wall_s"]), ".4f", "-"),
                 fmt(lo["process_cpu_s"], ".2f"), fmt(sb and sb["train_cpu_s"], ".2f"),
                 fmt(ratio(lo["process_cpu_s"], sb and sb["train_cpu_s"]), ".4f", "-")]
        print("| " + " | ".join(cells) + " |")
    summary = {}
    for key, sb3_key in (("wall_to_threshold_s", "wall_to_threshold_s"),
                         ("train_wall_s", "train_wall_s"), ("process_cpu_s", "train_cpu_s")):
        pairs = [ratio(r["locus"][key], r["sb3"][sb3_key]) for r in rows if "sb3" in r]
        summary[f"median_ratio_{key}"] = median(pairs)
    print(f"median ratios locus/SB3: wall to 475 {fmt(summary['median_ratio_wall_to_threshold_s'], '.4f', '-')}, "
          f"wall total {fmt(summary['median_ratio_train_wall_s'], '.4f', '-')}, "
          f"CPU total {fmt(summary['median_ratio_process_cpu_s'], '.4f', '-')}")

    document = {
        "benchmark": "ppo_cartpole_vs_sb3",
        "date": datetime.date.today().isoformat(),
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "platform": platform.platform()},
        "versions": versions,
        "command": shlex.join([sys.executable] + sys.argv),
        "hyperparameters": HYPERPARAMETERS,
        "sb3_kwargs": sb3_kwargs(),
        "steps": steps, "threads": args.threads, "threshold": THRESHOLD,
        "eval_every_updates": EVAL_EVERY, "eval_episodes": EVAL_EPISODES,
        "runs": rows, "summary": summary,
    }
    write_atomically(Path(args.out), json.dumps(document, indent=2) + "\n")
    print(f"results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
