#!/usr/bin/env python3
"""Recurrent PPO on GoNoGo-v0 (endless): wall time to 95 % correct trials, locus vs sb3-contrib.

Issue #18's peer target: the same env (locus's GoNoGo-v0 in its default endless mode: trials follow
one another without an episode end until the 1000-step TimeLimit; the agent must carry the
stimulus through a 5-step delay, so only a policy with memory solves it) trained by
  (a) sb3-contrib's RecurrentPPO ("MlpLstmPolicy"), on gymnasium.make("locus/GoNoGo-v0") envs in
      SB3's DummyVecEnv (make_vec_env, as an SB3 user runs it), in this process;
  (b) locus's recurrent PPO through the command line (`locus train --config ...` with
      policy: lstm, hidden: [128]), in a child process,
with the same sizes and hyperparameters (HYPERPARAMETERS below, in locus's config keys;
sb3_kwargs() maps them to SB3's): one LSTM layer of 128 read by a linear policy head and a linear
value head, 8 envs x 128 steps per update, 4 PPO epochs of 4 minibatches of 256 transitions,
Adam (eps 1e-5 in both) at lr 1e-3, gamma, GAE lambda, clip, entropy and value coefficients,
gradient-norm clip, advantage normalization. These are settings under which RecurrentPPO reaches
95 % on every seed tried (its defaults are lr 3e-4, 10 epochs, batches of 128, no entropy bonus).
What cannot be matched exactly:
  - sb3-contrib's one-LSTM mode (shared_lstm) feeds the value head the LSTM's output detached, so
    only the policy loss trains the LSTM; its default (--sb3-critic separate) gives the value head
    a second LSTM of its own (twice the recurrent work). locus's body is shared by both heads.
  - Minibatches: sb3-contrib cuts the rollout at a random point into 256-transition batches of
    sequences (split at env boundaries and episode starts, padded); locus's are 2 whole env
    sequences of 128 steps.
  - The locus run writes a checkpoint every 50 updates (its default), inside its clock.

Measured per seed and learner: the training wall time (and env steps) until the share of correct
trials among the last 100 that ended (info["trial_ended"], info["correct"]: hits and correct
rejections) first reaches 0.95, checked once per update (after the update's learning, as locus
writes its metrics row), with at least 100 trials seen. Both clocks start when training starts
(after the model and envs are built):
  - SB3: a callback keeps the last 100 trial outcomes from the step infos, checks them at the start
    of each rollout (i.e. after the previous update) and stops learn() when they reach 0.95.
  - locus: metrics.csv's `success_100` (agents/run_metrics.cpp: the agent's last 100 trials) and
    `time_s` (training time since the run started) of the first update row that reaches 0.95.
    `locus train` has no stop-at-target option, so the script polls metrics.csv and kills the
    process once such a row is there (the row's time_s, taken inside the run, is the figure; the
    polling delay only costs machine time). The rows reach the file when its stream buffer fills
    or at a checkpoint, so the kill may come some updates late.
Each run has a wall-clock cap (--max-minutes); a run that does not reach 0.95 in it is reported as
"not reached in X min, best Y" (Y: its highest 100-trial share at an update boundary). Also
reported: each learner's training steps per second over its whole run and their ratio, the
steadier figure (the steps to 95 % vary several-fold between seeds: 66k to 530k for RecurrentPPO
on seeds 1-3, so a per-seed time ratio mixes luck with speed).

OpenBLAS: the locus process runs with OPENBLAS_CORETYPE=SkylakeX when the OpenBLAS it loads falls
back to its generic SSE kernels on an AVX-512 CPU (Debian 12's on Sapphire/Emerald Rapids;
docs/build.md, "OpenBLAS kernels"); torch does not use that library.

Threads: --threads sets torch.set_num_threads, `locus train --threads`, and OPENBLAS_NUM_THREADS /
OMP_NUM_THREADS (before torch is imported, and for the locus process). The machine may be shared:
each run starts after waiting (up to --wait-quiet s) for a quiet machine, and records the load
average (`uptime`) and the CPU other processes used meanwhile (in cores).

Run it with the .venv that has sb3-contrib (bench/perf/requirements.txt) and the Python module
built (PYTHONPATH=build/python; target _core) and the CLI (target locus):

    PYTHONPATH=build/python .venv/bin/python bench/perf/run_recurrent_ppo_bench.py \\
        --locus build/bin/locus --seeds 1,2,3 --threads 1 --max-minutes 20

--skip-locus or --skip-sb3 measure one side only (results keep the other side's entry out).
"""

from __future__ import annotations

import argparse
import collections
import csv
import datetime
import json
import os
import platform
import resource
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
from run_recurrent_bench import FALLBACK_CORES, cpu_flags, openblas_core  # noqa: E402

TARGET = 0.95  # share of correct trials (issue #18)
WINDOW = 100  # trials in the rolling share, as locus's success_100
GYM_ID = "locus/GoNoGo-v0"

# The shared settings, in locus's config keys; sb3_kwargs() and sb3_policy_kwargs() map them to
# sb3-contrib's.
HYPERPARAMETERS = {
    "env": "GoNoGo-v0",  # default kwargs: endless trials (trials_per_episode 0), TimeLimit 1000
    "agent": "ppo",
    "modulation": "da",  # advantages and critic targets from the TD error via GAE: plain PPO
    "network": "trainable",
    "policy": "lstm",
    "hidden": [128],  # one LSTM layer of 128; linear policy and value heads on it
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
    "normalize_advantages": True,
    "value_clip": 0.0,
}
# Steps for the locus run: more than any run gets through in its cap, which ends it instead.
LOCUS_STEP_BUDGET = 1_000_000_000


def sb3_kwargs() -> dict:
    return sb3_ppo_kwargs(HYPERPARAMETERS)


def sb3_policy_kwargs(critic: str) -> dict:
    """MlpLstmPolicy with no MLP layers: the LSTM's output feeds the linear heads directly.

    critic "shared": one LSTM for both heads (sb3-contrib's shared_lstm; it detaches the value
    head's input, so only the policy loss trains the LSTM); "separate": sb3-contrib's default, a
    second LSTM of the same size for the value head (twice the recurrent work).
    """
    (size,) = HYPERPARAMETERS["hidden"]
    return {"lstm_hidden_size": size, "n_lstm_layers": 1, "net_arch": [],
            "shared_lstm": critic == "shared", "enable_critic_lstm": critic == "separate"}


def load_now() -> dict:
    """The 1-, 5- and 15-minute load averages, as `uptime` prints them."""
    one, five, fifteen = os.getloadavg()
    return {"1min": round(one, 2), "5min": round(five, 2), "15min": round(fifteen, 2)}


def not_reached(best: float | None, minutes: float) -> dict:
    return {"reached": False, "wall_to_target_s": None, "steps_to_target": None,
            "best_success_100": best, "cap_minutes": minutes}


# ---- sb3-contrib ----

def sb3_seed(seed: int, threads: int, max_minutes: float, critic: str, max_wait: float) -> dict:
    import locus  # noqa: F401  (registers the locus/... ids with Gymnasium)
    import torch
    from sb3_contrib import RecurrentPPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv

    class StopAtTarget(BaseCallback):
        """The last WINDOW trial outcomes; stops learn() once their share reaches TARGET."""

        def __init__(self, cap_s: float):
            super().__init__()
            self.cap_s = cap_s
            self.outcomes: collections.deque[int] = collections.deque(maxlen=WINDOW)
            self.trials = 0
            self.updates = 0
            self.best: float | None = None
            self.reached: dict | None = None
            self.start_wall = self.start_cpu = self.train_wall = 0.0

        def _on_training_start(self) -> None:
            self.start_wall, self.start_cpu = time.perf_counter(), time.process_time()

        def _on_training_end(self) -> None:
            self.train_wall = time.perf_counter() - self.start_wall

        def check(self) -> None:
            """At an update boundary: the same point at which locus writes a metrics row."""
            if self.trials < WINDOW or self.reached is not None:
                return
            share = sum(self.outcomes) / WINDOW
            self.best = share if self.best is None else max(self.best, share)
            if share >= TARGET:
                self.reached = {"update": self.updates, "steps": self.num_timesteps,
                                "wall_s": time.perf_counter() - self.start_wall,
                                "cpu_s": time.process_time() - self.start_cpu,
                                "success_100": share}

        def _on_rollout_start(self) -> None:
            self.check()
            if self.updates % 20 == 0 and self.trials >= WINDOW:
                print(f"  update {self.updates}: {self.num_timesteps} steps, "
                      f"{time.perf_counter() - self.start_wall:.0f} s, last {WINDOW} trials "
                      f"{sum(self.outcomes) / WINDOW:.2f}", file=sys.stderr, flush=True)
            self.updates += 1

        def _on_step(self) -> bool:
            for info in self.locals["infos"]:
                if info.get("trial_ended"):
                    self.outcomes.append(int(bool(info["correct"])))
                    self.trials += 1
            return self.reached is None and time.perf_counter() - self.start_wall < self.cap_s

    torch.set_num_threads(threads)
    h = HYPERPARAMETERS
    load_before = wait_quiet(max_wait)
    uptime = load_now()
    print(f"sb3-contrib: RecurrentPPO seed {seed} (load {uptime})", file=sys.stderr, flush=True)
    busy0, wall0, cpu0 = machine_busy_seconds(), time.monotonic(), time.process_time()
    env = make_vec_env(GYM_ID, n_envs=h["num_envs"], seed=seed, vec_env_cls=DummyVecEnv)
    model = RecurrentPPO("MlpLstmPolicy", env, seed=seed, device="cpu", verbose=0,
                         policy_kwargs=sb3_policy_kwargs(critic), **sb3_kwargs())
    stop = StopAtTarget(cap_s=60.0 * max_minutes)
    model.learn(total_timesteps=10**12, callback=stop)
    if stop.reached is None:
        stop.check()  # the outcomes of the last, cut rollout count toward the best share
    wall = time.monotonic() - wall0
    cpu = time.process_time() - cpu0
    others = max(0.0, (machine_busy_seconds() - busy0) - cpu)
    env.close()
    result = not_reached(stop.best, max_minutes)
    if stop.reached is not None:
        result.update(reached=True, wall_to_target_s=stop.reached["wall_s"],
                      cpu_to_target_s=stop.reached["cpu_s"],
                      steps_to_target=stop.reached["steps"], update=stop.reached["update"],
                      success_100=stop.reached["success_100"])
    result.update(steps_run=int(model.num_timesteps), trials_run=stop.trials,
                  train_wall_s=stop.train_wall,
                  steps_per_s=model.num_timesteps / stop.train_wall,
                  process_wall_s=wall, process_cpu_s=cpu,
                  load={"uptime_before": uptime, "uptime_after": load_now(),
                        "before_cores": round(load_before, 3),
                        "during_cores": round(others / wall, 3)})
    return result


# ---- locus ----

def first_row_at_target(metrics_csv: Path) -> tuple[dict | None, float | None]:
    """The first complete metrics row whose success_100 reaches TARGET with >= WINDOW trials seen,
    and the best success_100 among complete rows with >= WINDOW trials (None if none yet)."""
    try:
        text = metrics_csv.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, None
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines.pop()  # a row still being written
    trials, best = 0, None
    for row in csv.DictReader(lines):
        trials += int(row["trials"])
        if trials < WINDOW or row["success_100"] == "":
            continue
        share = float(row["success_100"])
        best = share if best is None else max(best, share)
        if share >= TARGET:
            return row, best
    return None, best


def training_speed(metrics_csv: Path) -> tuple[int, float] | None:
    """Steps and training seconds (time_s) of the last complete metrics row, if any."""
    try:
        lines = metrics_csv.read_text(encoding="utf-8").splitlines(keepends=True)
    except FileNotFoundError:
        return None
    rows = list(csv.DictReader(line for line in lines if line.endswith("\n")))
    return (int(rows[-1]["steps"]), float(rows[-1]["time_s"])) if rows else None


def locus_environment(locus: str) -> dict:
    """The locus process's environment: OPENBLAS_CORETYPE=SkylakeX when the OpenBLAS it loads
    falls back to generic SSE kernels on an AVX-512 CPU (docs/build.md, "OpenBLAS kernels"), unless
    the caller set it."""
    env = dict(os.environ)
    if "OPENBLAS_CORETYPE" not in env and openblas_core(Path(locus)) in FALLBACK_CORES \
            and "avx512f" in cpu_flags():
        env["OPENBLAS_CORETYPE"] = "SkylakeX"
    return env


def locus_seed(locus: str, seed: int, threads: int, max_minutes: float, work: Path,
               max_wait: float, poll_s: float = 0.5) -> dict:
    config = dict(HYPERPARAMETERS, seed=seed, steps=LOCUS_STEP_BUDGET, threads=threads,
                  eval_every=0, eval_episodes=1)
    config_path = work / f"locus_{seed}.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    out = work / f"run_{seed}"
    command = [locus, "train", "--config", str(config_path), "--quiet", "--out", str(out)]
    load_before = wait_quiet(max_wait)
    uptime = load_now()
    print(f"$ {shlex.join(command)}   (load {uptime})", file=sys.stderr, flush=True)
    busy0, wall0 = machine_busy_seconds(), time.monotonic()
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, env=locus_environment(locus))
    row, best = None, None
    while process.poll() is None and time.monotonic() - wall0 < 60.0 * max_minutes:
        time.sleep(poll_s)
        row, best = first_row_at_target(out / "metrics.csv")
        if row is not None:
            break
    if process.poll() is None:
        process.kill()
    _, stderr = process.communicate()
    wall = time.monotonic() - wall0
    if row is None:
        row, best = first_row_at_target(out / "metrics.csv")
    if row is None and process.returncode not in (0, -9):
        hint = ("\n(this locus has no recurrent policies: build one with issue #18's `policy` key, "
                "or pass --skip-locus)" if "unknown config key 'policy'" in stderr else "")
        raise SystemExit(f"run_recurrent_ppo_bench: locus train failed with exit status "
                         f"{process.returncode}: {shlex.join(command)}\n{stderr.strip()}{hint}")
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the locus process: the only child
    cpu = (children.ru_utime - children0.ru_utime) + (children.ru_stime - children0.ru_stime)
    others = max(0.0, (machine_busy_seconds() - busy0) - cpu)
    result = not_reached(best, max_minutes)
    if row is not None:
        result.update(reached=True, wall_to_target_s=float(row["time_s"]),
                      steps_to_target=int(row["steps"]), update=int(row["update"]),
                      success_100=float(row["success_100"]))
    speed = training_speed(out / "metrics.csv")
    if speed is not None and speed[1] > 0:
        result.update(steps_run=speed[0], train_wall_s=speed[1], steps_per_s=speed[0] / speed[1])
    result.update(process_wall_s=wall, process_cpu_s=cpu,
                  load={"uptime_before": uptime, "uptime_after": load_now(),
                        "before_cores": round(load_before, 3),
                        "during_cores": round(others / wall, 3)})
    return result


# ---- report ----

def cell(result: dict | None) -> str:
    if result is None:
        return "-"
    if result["reached"]:
        return f"{result['wall_to_target_s']:.1f} s / {result['steps_to_target']:,} steps"
    best = result["best_success_100"]
    return (f"not reached in {result['cap_minutes']:g} min, best "
            f"{'-' if best is None else format(best, '.2f')}")


def speedup(peer: dict | None, ours: dict | None) -> float | None:
    """How many times less wall time locus took to the target (peer / locus)."""
    if not peer or not ours or not peer["reached"] or not ours["reached"]:
        return None
    return peer["wall_to_target_s"] / ours["wall_to_target_s"]


def throughput_ratio(peer: dict | None, ours: dict | None) -> float | None:
    """locus's training steps per second over the peer's, whatever the runs reached."""
    if not peer or not ours or not peer.get("steps_per_s") or not ours.get("steps_per_s"):
        return None
    return ours["steps_per_s"] / peer["steps_per_s"]


def rate(result: dict | None) -> str:
    return "-" if not result or not result.get("steps_per_s") else f"{result['steps_per_s']:,.0f}"


def times(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}x"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locus", default=str(REPO / "build" / "bin" / "locus"))
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for each learner (torch.set_num_threads, locus --threads)")
    parser.add_argument("--max-minutes", type=float, default=20.0,
                        help="wall-clock cap per run (minutes)")
    parser.add_argument("--sb3-critic", choices=("shared", "separate"), default="shared",
                        help="RecurrentPPO's value head: on the one LSTM (matched sizes) or on a "
                             "second LSTM (sb3-contrib's default)")
    parser.add_argument("--wait-quiet", type=float, default=30.0,
                        help="seconds to wait for a quiet machine before each run")
    parser.add_argument("--out", default=str(HERE / "results" / "recurrent_ppo_gonogo.json"))
    parser.add_argument("--skip-sb3", action="store_true", help="measure locus only")
    parser.add_argument("--skip-locus", action="store_true", help="measure sb3-contrib only")
    parser.add_argument("--normalize-advantages", choices=("on", "off"), default="on",
                        help="per-minibatch advantage normalization in both learners (SB3's "
                             "default is on)")
    args = parser.parse_args()
    HYPERPARAMETERS["normalize_advantages"] = args.normalize_advantages == "on"

    # Before torch (and its BLAS) is imported; the locus subprocesses inherit it.
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    seeds = [int(s) for s in args.seeds.split(",") if s]
    if not args.skip_locus and not Path(args.locus).is_file():
        raise SystemExit(f"run_recurrent_ppo_bench: no locus binary at {args.locus} "
                         f"(build target 'locus', or --skip-locus)")
    versions = {"python": platform.python_version()}
    if not args.skip_sb3:
        try:
            import gymnasium
            import locus
            import sb3_contrib
            import stable_baselines3
            import torch
        except ImportError as error:
            raise SystemExit(f"run_recurrent_ppo_bench: {error}; run with .venv's Python, "
                             f"sb3-contrib installed (bench/perf/requirements.txt) and "
                             f"PYTHONPATH=build/python") from error
        versions.update(torch=torch.__version__, sb3_contrib=sb3_contrib.__version__,
                        stable_baselines3=stable_baselines3.__version__,
                        gymnasium=gymnasium.__version__, locus_python=locus.__version__)

    rows = []
    with tempfile.TemporaryDirectory(prefix="locus_recurrent_ppo_bench_") as tmp:
        for seed in seeds:
            row: dict = {"seed": seed}
            # locus first: a locus that cannot run this config fails before any long SB3 run.
            if not args.skip_locus:
                row["locus"] = locus_seed(args.locus, seed, args.threads, args.max_minutes,
                                          Path(tmp), args.wait_quiet)
            if not args.skip_sb3:
                row["sb3"] = sb3_seed(seed, args.threads, args.max_minutes, args.sb3_critic,
                                      args.wait_quiet)
            row["speedup"] = speedup(row.get("sb3"), row.get("locus"))
            row["throughput_ratio"] = throughput_ratio(row.get("sb3"), row.get("locus"))
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)

    print(f"\nRecurrent PPO on {GYM_ID} (endless), LSTM 128, {HYPERPARAMETERS['num_envs']} envs x "
          f"{HYPERPARAMETERS['rollout_steps']} steps per update, {args.threads} thread(s) each; "
          f"target: {TARGET:.0%} of the last {WINDOW} trials correct; cap {args.max_minutes:g} "
          f"min per run")
    print(f"| seed | sb3-contrib RecurrentPPO: wall / steps to {TARGET:.0%} | locus: wall / steps "
          f"to {TARGET:.0%} | ratio (SB3 / locus wall) | SB3 steps/s | locus steps/s | "
          f"ratio (locus / SB3 steps/s) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['seed']} | {cell(row.get('sb3'))} | {cell(row.get('locus'))} | "
              f"{times(row['speedup'])} | {rate(row.get('sb3'))} | {rate(row.get('locus'))} | "
              f"{times(row['throughput_ratio'])} |")
    ratios = [r["speedup"] for r in rows if r["speedup"] is not None]
    speeds = [r["throughput_ratio"] for r in rows if r["throughput_ratio"] is not None]
    summary = {"median_speedup": statistics.median(ratios) if ratios else None,
               "seeds_with_both_reached": len(ratios),
               "median_throughput_ratio": statistics.median(speeds) if speeds else None}
    if ratios:
        print(f"median: locus reaches {TARGET:.0%} in {summary['median_speedup']:.1f}x less wall "
              f"time (goal >= 10x); {len(ratios)} of {len(rows)} seeds reached by both")
    if speeds:
        print(f"median training throughput: locus {summary['median_throughput_ratio']:.1f}x "
              f"SB3's steps per second")

    document = {
        "benchmark": "recurrent_ppo_gonogo_vs_sb3_contrib",
        "date": datetime.date.today().isoformat(),
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "platform": platform.platform()},
        "versions": versions,
        "locus_openblas_coretype": locus_environment(args.locus).get("OPENBLAS_CORETYPE"),
        "command": shlex.join([sys.executable] + sys.argv),
        "hyperparameters": HYPERPARAMETERS,
        "sb3_kwargs": sb3_kwargs(),
        "sb3_policy_kwargs": sb3_policy_kwargs(args.sb3_critic),
        "threads": args.threads, "target": TARGET, "window_trials": WINDOW,
        "max_minutes": args.max_minutes, "runs": rows, "summary": summary,
    }
    write_atomically(Path(args.out), json.dumps(document, indent=2) + "\n")
    print(f"results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
