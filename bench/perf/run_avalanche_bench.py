#!/usr/bin/env python3
"""Continual-learning baselines: locus (`locus sweep`) against Avalanche 0.6 on the same stream
(issue #19, "Peer, same run").

Every method that both have runs in both, 5 seeds each by default, on the same stream, network,
hyperparameters and schedule; the table gives each one's mean final average accuracy (ACC: the
mean over the 5 tasks of the accuracy after the last task), their difference and the wall time
per run.

The stream (locus's split Fashion-MNIST, envs/data/streams.cpp): Debian's Fashion-MNIST files
(/usr/share/datasets/fashion-mnist), 5 tasks of 2 classes ({0,1}, {2,3}, ...), per task a fixed
subset of 2000 training images and 200 held-out test images, pixels / 255. The subsets are locus's
own: seed s takes the first n of numpy's Generator(PCG64(SeedSequence([s], spawn_key=(key, t))))
.permutation of the task's images (key 4 training, 2 evaluation), which is what locus's
numpy-exact Rng draws (envs/rng.hpp), so both learners see the same images for a seed. They go
into Avalanche as tensors (_make_taskaware_tensor_classification_dataset, benchmark_from_datasets,
with_task_labels).

Scenarios, as in bench/configs/ewc_baselines.yaml and replay_baselines.yaml:
  task-incremental   naive-ti, ewc, online-ewc, si, mas, lwf, agem: one 2-unit head shared by
                     every task, targets 0/1 within the task; Avalanche gets the labels remapped
                     to 0/1 and task label t (its plain MLP ignores it);
  class-incremental  naive-ci, cumulative (locus `joint: true`), joint (`joint_offline: true`,
                     Avalanche's JointTraining), replay (reservoir), replay-balanced, der, der++:
                     one 10-unit head, targets = the class, task label 0.
Methods whose settings `locus sweep --help` does not list are skipped with a note.

The network: 784 -> 400 -> 400 -> outputs, ReLU, no biases, every weight N(0, s^2 / fan_in) with
s = sqrt(2) in the hidden layers and 1 in the readout (neuromod/spec.cpp baseline_mlp); plain SGD,
lr 0.01, cross-entropy averaged over the minibatch, minibatches of 64 (drop_last, as locus).

The schedule: 100 optimizer steps per task (locus's iterations_per_task). Avalanche counts epochs,
so it gets train_epochs = ceil(100 / 31) + 1 and a plugin that stops each experience after its
100th step (31 full minibatches of 64 per epoch of 2000; JointTraining: 500 steps of its single
experience). Evaluation as locus's (bench/harness/continual.cpp): every task before training, the
tasks seen so far every 20 steps, every task after each task's last step: 26 evaluations per run
in both. Avalanche's own periodic evaluation (eval_every) would add one before each experience and
a second one after its last step, so it is off (eval_every=-1) and the same plugin calls
strategy.eval() at locus's points, with accuracy_metrics(experience=True) and no logger (the
cheapest evaluator Avalanche offers). The script checks that both took 500 steps and 26
evaluations per run.

Hyperparameters, the same in both (METHODS below; the values of locus's `method` presets): EWC
lambda 1e4 (online: gamma 0.9), SI c 5 and xi 1e-3, MAS lambda 1 and alpha 0.5, LwF alpha 1 and
temperature 2, replay memories of 500 with 64 replayed examples beside each minibatch of 64, DER
alpha 0.3, DER++ alpha 0.1 and beta 0.5, A-GEM a memory of 500 and reference batches of 256. Two
conventions differ and are translated (--penalty-convention number passes the numbers unchanged):
Avalanche's EWC penalty is lambda * sum F d^2 and its SI penalty lambda/2 * sum Omega d^2, locus's
lambda/2 * sum F d^2 and c * sum Omega d^2, so Avalanche gets ewc_lambda = lambda / 2 and
si_lambda = 2c. A-GEM: Avalanche keeps patterns_per_exp random examples of each finished
experience, here 500 / 4, so that it holds 500 while the last task trains (locus: one reservoir).

What Avalanche does differently by design (not translated): its replay and DER memories are filled
after each experience from the experience's dataset (locus offers every minibatch to its
reservoir as it trains, and replays from the first task on); its DER memory is class-balanced,
stores the logits of the model at the end of the experience (locus: when the example was seen, as
Buzzega et al.) and uses one memory minibatch for both terms (locus draws one for each); its EWC
Fisher is one pass over the whole dataset in order, the last minibatch short (locus: the first
epoch's 31 shuffled full minibatches). Its SI (0.6) does nothing on the CPU: its weight snapshots
are views of the live weights (`param.detach().cpu().flatten()`), so the path integral and the
penalty are 0 and SI trains exactly as Naive (ContinualAI/avalanche#734,
ContinualAI/continual-learning-baselines#74); it also clips the importance at 0.001 and
integrates the gradient with the penalty's in it.

--diagnose reruns Avalanche changed towards locus, to show where a difference comes from (not in
the main table): replay, DER and DER++ with locus's online reservoir (a plugin of this script, on
Avalanche's Naive); SI with its snapshots copied, then without the clip, then with the task loss's
gradient in the path integral. --torch-reference times naive fine-tuning as a plain PyTorch loop
(the same model, data, steps and evaluations): what torch costs without Avalanche.

Timing: each method is one `locus sweep` of its seeds (--jobs 1) on a config written to a
temporary folder. "locus s/run" is that process's wall time over its runs: process start, reading
the data, every run and its files (a bound from above; the runs' own train + evaluation time,
which leaves out EWC's and MAS's consolidation between tasks, is locus_harness_s_per_run in the
JSON). "Avalanche s/run" is the wall time of one run's loop in this process: the first evaluation
to the end of the last experience (training, every evaluation, memory updates, importance
estimates), without building the model and the datasets. Threads: --threads (default 1:
`locus sweep --jobs 1` uses one core) sets torch.set_num_threads, and OPENBLAS_NUM_THREADS /
OMP_NUM_THREADS for both. Each timed phase starts on a quiet machine (up to --max-wait seconds)
and records the other processes' CPU use; a row where they used more than 0.25 cores is marked
"(busy)".

Install (Debian 12; Debian's CPU-only PyTorch, since PyPI's torch wheels pull gigabytes of CUDA
libraries). avalanche-lib 0.6.0 imports and runs on Debian's torch 1.13; everything from PyPI goes
in with --no-deps so that pip leaves Debian's torch and numpy alone, and only what `import
avalanche` needs is added (wandb 0.16.6 with protobuf 4.25, tensorboard 2.16 and torchmetrics 1.4:
newer ones need a newer protobuf or torch):

    apt-get install python3-torch python3-torchvision
    /usr/bin/python3 -m venv --system-site-packages /tmp/avl
    /tmp/avl/bin/pip install --no-deps avalanche-lib==0.6.0 dill==0.4.1 gdown==6.5.1 \
        filelock==4.3.2 beautifulsoup4==4.15.0 tqdm==4.70.1 pytorchcv==0.0.74 wandb==0.16.6 \
        click==8.5.1 protobuf==4.25.5 docker-pycreds==0.4.0 sentry-sdk==2.76.0 GPUtil==1.4.0 \
        torchmetrics==1.4.3 lightning-utilities==0.11.9 tensorboard==2.16.2 absl-py==2.5.1 \
        qpsolvers==4.13.0

Run (about 10 minutes on a quiet 2-core machine with 5 seeds and the diagnostics):

    /tmp/avl/bin/python bench/perf/run_avalanche_bench.py --locus build/bin/locus \
        --diagnose --torch-reference

--methods naive-ti,ewc,... picks methods (the names in METHODS), --seeds 0,1 fewer seeds.
Results: bench/perf/results/avalanche_peer.json (--out): the table, every run of both (final
accuracies per task, wall and CPU time, background load), the locus binary's hash and version.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import math
import os
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
from bench_common import document_start, wait_quiet, write_atomically  # noqa: E402
from peer_timing import machine_busy_seconds, own_cpu_seconds  # noqa: E402

DATA_DIR = "/usr/share/datasets/fashion-mnist"
BUSY_CORES = 0.25  # other processes' use above which a timing is marked

# locus's settings for every method (bench/configs/ewc_baselines.yaml, replay_baselines.yaml).
COMMON = {
    "stream": "split",
    "train_per_task": 2000,
    "eval_per_task": 200,
    "iterations_per_task": 100,
    "eval_every": 20,
    "batch_size": 64,
    "network": "mlp",
    "hidden": [400, 400],
    "optimizer": "sgd",
    "lr": 0.01,
}
NUM_TASKS = 5
CLASSES_PER_TASK = 2
TI = "task-incremental"
CI = "class-incremental"


@dataclass
class Method:
    name: str  # unique: the table's row
    scenario: str
    locus: dict  # locus's run settings beside COMMON
    avalanche: str  # the kind make_strategy builds
    note: str = ""
    requires: list[str] = field(default_factory=list)  # locus settings it needs

    def __post_init__(self):
        if not self.requires:
            self.requires = sorted(self.locus)


METHODS = [
    Method("naive-ti", TI, {}, "naive"),
    Method("ewc", TI, {"ewc_lambda": 10000}, "ewc"),
    Method("online-ewc", TI, {"ewc_lambda": 10000, "ewc_online": True, "ewc_gamma": 0.9},
           "online-ewc"),
    # The values of locus's `method` presets (`locus sweep --help`). Avalanche's conventions:
    #   SI   SynapticIntelligence(si_lambda, eps): loss += si_lambda / 2 * sum Omega d^2 (locus:
    #        c * sum Omega d^2, so si_lambda = 2c for the same objective), eps = xi; Avalanche
    #        clips Omega at 0.001 (hard-coded) and its path integral uses the gradient with the
    #        penalty's in it (locus: the task loss's alone); and on the CPU its weight snapshots
    #        are views of the live weights, so it trains as Naive (si_snapshots_copied).
    #   MAS  MAS(lambda_reg, alpha): loss += lambda_reg * sum Omega d^2, Omega <- alpha Omega_old +
    #        (1 - alpha) Omega_new, as locus.
    #   LwF  LwF(alpha, temperature): alpha * KL(batchmean) over the earlier classes' units, no
    #        T^2 factor, as locus.
    #   A-GEM AGEM(patterns_per_exp, sample_size): a random patterns_per_exp examples of each
    #        finished experience (locus: one reservoir of replay_memory over the stream), here
    #        replay_memory / (tasks - 1) per experience, so that it holds replay_memory examples
    #        while the last task trains; sample_size = replay_batch.
    Method("si", TI, {"si_lambda": 5.0, "si_xi": 0.001}, "si"),
    Method("mas", TI, {"mas_lambda": 1.0, "mas_alpha": 0.5}, "mas"),
    Method("lwf", TI, {"lwf_alpha": 1.0, "lwf_temperature": 2.0}, "lwf"),
    Method("agem", TI, {"agem": True, "replay_memory": 500, "replay_batch": 256}, "agem"),
    Method("naive-ci", CI, {}, "naive"),
    Method("cumulative", CI, {"joint": True}, "cumulative"),
    Method("joint", CI, {"joint_offline": True}, "joint"),
    Method("replay", CI, {"replay_memory": 500}, "replay"),
    Method("replay-balanced", CI, {"replay_memory": 500, "replay_balanced": True},
           "replay-balanced"),
    Method("der", CI, {"replay_memory": 500, "der_alpha": 0.3}, "der"),
    Method("der++", CI, {"replay_memory": 500, "der_alpha": 0.1, "der_beta": 0.5}, "der"),
]


# ---- locus ---------------------------------------------------------------------------------------


def locus_settings(locus: Path, library_env: dict) -> set[str]:
    """The run settings this locus accepts: the keys its `locus sweep --help` lists under "Run
    settings" (bench/harness/run_settings.cpp run_settings_help)."""
    text = subprocess.run([str(locus), "sweep", "--help"], capture_output=True, text=True,
                          check=True, env={**os.environ, **library_env}).stdout
    keys: set[str] = set()
    inside = False
    for line in text.splitlines():
        if line.startswith("Run settings"):
            inside = True
            continue
        if inside:
            match = re.match(r"^  ([a-z_0-9]+)\s", line)
            if not match:
                break  # a blank line or the RL settings' heading ends the list
            keys.add(match.group(1))
    if not keys:
        raise SystemExit(f"cannot read the run settings from `{locus} sweep --help`")
    return keys


def snapshot_locus(locus: Path, into: Path) -> tuple[Path, dict]:
    """A private copy of the locus binary and of the build tree's libraries it loads (ldd), run
    with LD_LIBRARY_PATH (which the binary's RUNPATH yields to): a rebuild of the tree during the
    benchmark would otherwise swap the program under a running sweep (which then crashes) or
    mix versions between methods."""
    (into / "bin").mkdir(parents=True)
    (into / "lib").mkdir()
    copy = into / "bin" / locus.name
    shutil.copy2(locus, copy)
    build = locus.resolve().parent.parent
    listing = subprocess.run(["ldd", str(locus)], capture_output=True, text=True,
                             check=False).stdout
    for match in re.finditer(r"=> (\S+) \(", listing):
        library = Path(match.group(1))
        if build in library.resolve().parents:
            shutil.copy2(library, into / "lib" / library.name)
    path = os.environ.get("LD_LIBRARY_PATH", "")
    return copy, {"LD_LIBRARY_PATH": str(into / "lib") + (":" + path if path else "")}


def yaml_value(value) -> str:
    return json.dumps(value)  # JSON scalars and lists are YAML flow values


def locus_config(method: Method, seeds: list[int]) -> str:
    lines = [f"name: avalanche-peer-{method.name.replace('+', 'p')}",
             f"seeds: {yaml_value(seeds)}", "defaults:"]
    for key, value in {**COMMON, "scenario": method.scenario}.items():
        lines.append(f"  {key}: {yaml_value(value)}")
    settings = ", ".join(f"{k}: {yaml_value(v)}" for k, v in method.locus.items())
    lines.append("methods:")
    lines.append(f"  - {{name: {yaml_value(method.name)}"
                 + (f", {settings}" if settings else "") + "}")
    return "\n".join(lines) + "\n"


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_locus(locus: Path, method: Method, seeds: list[int], env: dict, max_wait: float,
              keep: Path | None) -> dict:
    """`locus sweep` of the method's seeds, timed. A run that fails (a diverging penalty) stops a
    sweep; it is recorded in `failed` and the sweep goes on with the seeds not run yet."""
    load_before = wait_quiet(max_wait)
    finished: dict[int, dict] = {}
    failed: dict[int, str] = {}
    configs = []
    wall = cpu = busy = 0.0
    while True:
        remaining = [s for s in seeds if s not in finished and s not in failed]
        if not remaining:
            break
        with tempfile.TemporaryDirectory(prefix="locus-avalanche-peer-") as tmp:
            config = Path(tmp) / "config.yaml"
            config.write_text(locus_config(method, remaining), encoding="utf-8")
            configs.append(config.read_text(encoding="utf-8"))
            out = Path(tmp) / "out"
            command = [str(locus), "sweep", str(config), "--jobs", "1", "--out", str(out),
                       "--quiet"]
            print(f"$ {shlex.join(command)}", file=sys.stderr, flush=True)
            busy0, cpu0, wall0 = machine_busy_seconds(), children_cpu_seconds(), time.monotonic()
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            wall += time.monotonic() - wall0
            cpu_now = children_cpu_seconds() - cpu0
            cpu += cpu_now
            busy += max(0.0, machine_busy_seconds() - busy0 - cpu_now)
            for seed in remaining:
                found = list((out / "runs").glob(f"*_seed={seed}.json"))
                if len(found) != 1:
                    continue
                run = json.loads(found[0].read_text(encoding="utf-8"))
                record = run["record"]
                finished[seed] = {"seed": seed, "acc": run["metrics"]["acc"],
                                  "final_row": record["matrix"][-1],
                                  "wall_seconds": run["metrics"]["wall_seconds"],
                                  "train_seconds": record["train_seconds"],
                                  "eval_seconds": record["eval_seconds"],
                                  "train_steps": record["train_steps"],
                                  "evaluations": len(record["iterations"])}
                if keep is not None:
                    target = keep / method.name
                    target.mkdir(parents=True, exist_ok=True)
                    (target / found[0].name).write_text(found[0].read_text(encoding="utf-8"))
            if done.returncode != 0:
                match = re.search(r"run '[^']*_seed=(\d+)' failed: (.*)", done.stderr)
                if not match or int(match.group(1)) not in remaining:
                    raise SystemExit(f"locus sweep failed for {method.name} "
                                     f"({done.returncode}):\n{done.stdout}\n{done.stderr}")
                failed[int(match.group(1))] = match.group(2).strip()
                print(f"locus: {method.name} seed {match.group(1)} failed: {match.group(2)}",
                      file=sys.stderr, flush=True)
    attempts = len(finished) + len(failed)
    return {"configs": configs, "runs": [finished[s] for s in seeds if s in finished],
            "failed": [{"seed": s, "error": e} for s, e in failed.items()],
            "process_wall_seconds": wall, "process_cpu_seconds": cpu, "attempts": attempts,
            "load": {"before_cores": round(load_before, 3),
                     "during_cores": round(busy / wall, 3) if wall > 0 else 0.0}}


# ---- the stream, as locus builds it --------------------------------------------------------------


def read_idx(path: Path):
    import numpy as np
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise SystemExit(f"{path}: not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def keyed_rng(seed: int, *key: int):
    """locus's keyed_rng (envs/data/streams.cpp): numpy's SeedSequence of the seed's 32-bit words
    with a spawn key."""
    import numpy as np
    words = [seed & 0xFFFFFFFF] + ([seed >> 32] if seed >> 32 else [])
    return np.random.Generator(np.random.PCG64(
        np.random.SeedSequence(np.array(words, dtype=np.uint32), spawn_key=key)))


def seeded_subset(pool, count: int, rng):
    """The first `count` of a seeded permutation of `pool`, ascending (streams.cpp)."""
    import numpy as np
    if count <= 0 or count >= len(pool):
        return pool
    return np.sort(pool[rng.permutation(len(pool))[:count]])


class Stream:
    """The images and labels of split Fashion-MNIST, and each seed's task subsets."""

    TRAIN_KEY, EVAL_KEY = 4, 2

    def __init__(self, data_dir: Path):
        import numpy as np
        self.train_x = read_idx(data_dir / "train-images-idx3-ubyte.gz")
        self.train_y = read_idx(data_dir / "train-labels-idx1-ubyte.gz")
        self.test_x = read_idx(data_dir / "t10k-images-idx3-ubyte.gz")
        self.test_y = read_idx(data_dir / "t10k-labels-idx1-ubyte.gz")
        self.pixels = int(np.prod(self.train_x.shape[1:]))

    def task_indices(self, seed: int) -> list[tuple]:
        import numpy as np
        out = []
        for t in range(NUM_TASKS):
            train = np.flatnonzero(self.train_y // CLASSES_PER_TASK == t)
            test = np.flatnonzero(self.test_y // CLASSES_PER_TASK == t)
            out.append((seeded_subset(train, COMMON["train_per_task"],
                                      keyed_rng(seed, self.TRAIN_KEY, t)),
                        seeded_subset(test, COMMON["eval_per_task"],
                                      keyed_rng(seed, self.EVAL_KEY, t))))
        return out


# ---- Avalanche -----------------------------------------------------------------------------------


def avalanche_benchmark(stream: Stream, seed: int, scenario: str):
    import numpy as np
    import torch
    from avalanche.benchmarks.scenarios.dataset_scenario import benchmark_from_datasets
    from avalanche.benchmarks.scenarios.task_aware import with_task_labels
    from avalanche.benchmarks.utils import _make_taskaware_tensor_classification_dataset

    def dataset(images, labels, indices, task):
        x = torch.from_numpy(images[indices].reshape(len(indices), -1).astype(np.float32)
                             / np.float32(255.0))
        y = labels[indices].astype(np.int64)
        if scenario == TI:
            y = y - task * CLASSES_PER_TASK  # the position in the task: 0 or 1
        y = torch.from_numpy(y)
        return _make_taskaware_tensor_classification_dataset(
            x, y, targets=y.tolist(), task_labels=task if scenario == TI else 0)

    train, test = [], []
    for t, (train_idx, eval_idx) in enumerate(stream.task_indices(seed)):
        train.append(dataset(stream.train_x, stream.train_y, train_idx, t))
        test.append(dataset(stream.test_x, stream.test_y, eval_idx, t))
    return with_task_labels(benchmark_from_datasets(train=train, test=test))


def locus_mlp(outputs: int, pixels: int):
    """baseline_mlp without biases: N(0, 2 / fan_in) hidden weights, N(0, 1 / fan_in) readout."""
    import torch
    widths = [pixels, *COMMON["hidden"], outputs]
    layers = []
    for i in range(len(widths) - 1):
        linear = torch.nn.Linear(widths[i], widths[i + 1], bias=False)
        scale = 1.0 if i == len(widths) - 2 else 2.0
        with torch.no_grad():
            linear.weight.normal_(0.0, math.sqrt(scale / widths[i]))
        layers.append(linear)
        if i < len(widths) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def schedule_plugin_class():
    from avalanche.core import SupervisedPlugin

    class LocusSchedule(SupervisedPlugin):
        """locus's schedule in Avalanche (bench/harness/continual.cpp run_continual): `iterations`
        optimizer steps per task, then stop; evaluation of the tasks seen so far every `every`
        steps and of every task after each task's last step. `blocks` tasks per Avalanche
        experience: 1, or all of them for JointTraining's single experience."""

        def __init__(self, iterations: int, every: int, test_stream, blocks: int = 1):
            super().__init__()
            self.iterations, self.every, self.test_stream = iterations, every, test_stream
            self.blocks = blocks
            self.steps_per_experience: list[int] = []
            self.evaluations = 0
            self.eval_seconds = 0.0
            self.final: dict = {}
            self.steps = 0

        def evaluate(self, strategy, experiences):
            start = time.perf_counter()
            metrics = strategy.eval(experiences)
            self.eval_seconds += time.perf_counter() - start
            self.evaluations += 1
            return metrics

        def before_training_exp(self, strategy, **kwargs):
            self.steps = 0
            strategy._stop_training = False  # a stop left over from the last experience

        def after_training_iteration(self, strategy, **kwargs):
            # Counted here: Avalanche's clock is the last plugin and has not counted this step.
            self.steps += 1
            task = (strategy.experience.current_experience * self.blocks
                    + (self.steps - 1) // self.iterations)
            if self.steps % self.iterations == 0:
                self.final = self.evaluate(strategy, self.test_stream)
                if self.steps >= self.iterations * self.blocks:
                    strategy.stop_training()
            elif self.steps % self.every == 0:
                self.evaluate(strategy, self.test_stream[:task + 1])

        def after_training_exp(self, strategy, **kwargs):
            self.steps_per_experience.append(self.steps)

    return LocusSchedule


def online_memory_plugin_class():
    """A diagnostic (--diagnose), not Avalanche's method: locus's replay memory in an Avalanche
    plugin, to tell whether a difference in replay or DER comes from when the memory is filled.
    Like bench/harness/methods/replay_memory.cpp and supervised.cpp: a reservoir (Vitter's R)
    offered every current row after each step, with the logits the step's forward gave it;
    replayed rows drawn from it (uniformly, without replacement) before each forward from the
    first task on; plain replay: cross-entropy over current and replayed rows together; DER: one
    draw for the logit term and another for the label term, each block's loss its own mean."""
    import torch
    import torch.nn.functional as F
    from avalanche.core import SupervisedPlugin

    class OnlineMemory(SupervisedPlugin):
        def __init__(self, capacity: int, draw: int, alpha: float, beta: float, seed: int):
            super().__init__()
            self.capacity, self.draw, self.alpha, self.beta = capacity, draw, alpha, beta
            self.dark = alpha > 0 or beta > 0
            self.generator = torch.Generator().manual_seed(seed ^ 0x7265706C6179)
            self.x = self.y = self.t = self.logits = None
            self.size = 0
            self.offered = 0

        def _sample(self, count: int):
            take = min(count, self.size)
            return torch.randperm(self.size, generator=self.generator)[:take]

        def before_forward(self, strategy, **kwargs):
            self.current = len(strategy.mbatch[0])
            self.matched = self.labelled = None
            if self.size == 0:
                return
            blocks = []
            if not self.dark:
                self.labelled = self._sample(self.draw)
                blocks = [self.labelled]
            else:
                if self.alpha > 0:
                    self.matched = self._sample(self.draw)
                    blocks.append(self.matched)
                if self.beta > 0:
                    self.labelled = self._sample(self.draw)
                    blocks.append(self.labelled)
            rows = torch.cat(blocks)
            strategy.mbatch[0] = torch.cat((strategy.mbatch[0], self.x[rows]))
            strategy.mbatch[1] = torch.cat((strategy.mbatch[1], self.y[rows]))
            strategy.mbatch[2] = torch.cat((strategy.mbatch[2], self.t[rows]))

        def before_backward(self, strategy, **kwargs):
            if not self.dark or self.size == 0:
                return  # plain replay: the criterion's mean over every row, as locus
            out, y, n = strategy.mb_output, strategy.mb_y, self.current
            loss = F.cross_entropy(out[:n], y[:n])
            first = n
            if self.matched is not None:
                m = len(self.matched)
                loss = loss + self.alpha * F.mse_loss(out[first:first + m],
                                                      self.logits[self.matched])
                first += m
            if self.labelled is not None:
                loss = loss + self.beta * F.cross_entropy(out[first:], y[first:])
            strategy.loss = loss

        @torch.no_grad()
        def after_training_iteration(self, strategy, **kwargs):
            n = self.current
            x, y, t = strategy.mbatch[0][:n], strategy.mbatch[1][:n], strategy.mbatch[2][:n]
            logits = strategy.mb_output[:n].detach()
            if self.x is None:
                self.x = torch.empty((self.capacity, *x.shape[1:]), dtype=x.dtype)
                self.y = torch.empty(self.capacity, dtype=y.dtype)
                self.t = torch.empty(self.capacity, dtype=t.dtype)
                self.logits = torch.empty((self.capacity, logits.shape[1]))
            for r in range(n):
                self.offered += 1
                if self.size < self.capacity:
                    place = self.size
                    self.size += 1
                else:
                    place = int(torch.randint(self.offered, (1,), generator=self.generator))
                    if place >= self.capacity:
                        continue
                self.x[place], self.y[place], self.t[place] = x[r], y[r], t[r]
                self.logits[place] = logits[r]

    return OnlineMemory


@contextlib.contextmanager
def si_snapshots_copied():
    """A diagnostic (--diagnose): Avalanche 0.6's SynapticIntelligencePlugin.extract_weights
    keeps `param.detach().cpu().flatten()`, which on the CPU is a view of the live weight, not a
    copy: the snapshot before a step moves with the step, so the path integral is 0, the anchor
    is the current weight, and SI trains exactly as Naive (ContinualAI/avalanche#734,
    ContinualAI/continual-learning-baselines#74). Within this context the snapshots are copies."""
    import torch
    from avalanche.training.plugins import SynapticIntelligencePlugin as SI

    original = SI.__dict__["extract_weights"]

    @torch.no_grad()
    def extract_weights(model, target, excluded_parameters):
        for name, param in SI.allowed_parameters(model, excluded_parameters):
            target[name].data = param.detach().cpu().flatten().clone()

    SI.extract_weights = staticmethod(extract_weights)
    try:
        yield
    finally:
        SI.extract_weights = original


def make_strategy(method: Method, model, evaluator, plugins, conventions: str,
                  diagnostic: str = ""):
    import torch
    from avalanche.training import (AGEM, DER, EWC, MAS, Cumulative, JointTraining, LwF, Naive,
                                    SynapticIntelligence)
    from avalanche.training.plugins import ReplayPlugin
    from avalanche.training.storage_policy import ClassBalancedBuffer, ReservoirSamplingBuffer

    settings = {**COMMON, **method.locus}
    batch = settings["batch_size"]
    iterations = settings["iterations_per_task"]
    # Enough epochs for the steps and one more, in which the schedule plugin's stop takes effect
    # before any step (31 full minibatches an epoch of one task's 2000 examples).
    per_epoch = settings["train_per_task"] // batch
    if method.avalanche == "joint":
        per_epoch *= NUM_TASKS
        iterations *= NUM_TASKS
    epochs = math.ceil(iterations / per_epoch) + 1
    common = dict(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=settings["lr"]),
                  criterion=torch.nn.CrossEntropyLoss(), train_mb_size=batch,
                  train_epochs=epochs, eval_mb_size=settings["eval_per_task"], device="cpu",
                  evaluator=evaluator, eval_every=-1)
    same_penalty = conventions == "penalty"
    kind = method.avalanche
    memory = settings.get("replay_memory", 0)
    replayed = settings.get("replay_batch", 0) or batch
    if diagnostic.startswith("si-copied-unclipped"):
        from avalanche.training.plugins import SynapticIntelligencePlugin as SI

        task_gradient = diagnostic.endswith("task-gradient")

        class ChangedSI(SI):
            """Avalanche's SI without its hard-coded clip of the importance at 0.001 and, with
            task_gradient, with the path integral of the task loss's gradient (locus's, and
            Zenke et al.'s code's), not of the gradient with the penalty's in it."""

            def after_training_iteration(self, strategy, **kwargs):
                if not task_gradient:
                    return super().after_training_iteration(strategy, **kwargs)
                data, anchor, omega = self.syn_data, self.ewc_data[0], self.ewc_data[1]
                SI.extract_weights(strategy.model, data["new_theta"], self.excluded_parameters)
                SI.extract_grad(strategy.model, data["grad"], self.excluded_parameters)
                # The penalty lambda/2 sum Omega (theta - theta*)^2 added lambda Omega
                # (theta - theta*) at the weights before the step.
                lam = self.si_lambda[-1]
                for name, trajectory in data["trajectory"].items():
                    before = data["old_theta"][name].data
                    g = data["grad"][name].data - lam * omega[name].data * (
                        before - anchor[name].data)
                    trajectory.data += g * (data["new_theta"][name].data - before)

            def after_training_exp(self, strategy, **kwargs):
                SI.update_ewc_data(strategy.model, self.ewc_data, self.syn_data, math.inf,
                                   self.excluded_parameters, 1, eps=self.eps)

        c = settings["si_lambda"] * (2.0 if same_penalty else 1.0)
        return Naive(plugins=[*plugins, ChangedSI(si_lambda=c, eps=settings["si_xi"])],
                     **common)
    if diagnostic == "online-memory":
        online = online_memory_plugin_class()(memory, replayed, settings.get("der_alpha", 0.0),
                                              settings.get("der_beta", 0.0), settings["seed"])
        return Naive(plugins=[*plugins, online], **common)
    if kind == "naive":
        return Naive(plugins=plugins, **common)
    if kind in ("ewc", "online-ewc"):
        # Avalanche: lambda * sum F d^2; locus: lambda / 2 * sum F d^2.
        lam = settings["ewc_lambda"] / (2.0 if same_penalty else 1.0)
        if kind == "ewc":
            return EWC(ewc_lambda=lam, mode="separate", plugins=plugins, **common)
        return EWC(ewc_lambda=lam, mode="online", decay_factor=settings["ewc_gamma"],
                   plugins=plugins, **common)
    if kind == "cumulative":
        return Cumulative(plugins=plugins, **common)
    if kind == "joint":
        return JointTraining(plugins=plugins, **common)
    if kind in ("replay", "replay-balanced"):
        policy = (ReservoirSamplingBuffer(memory) if kind == "replay"
                  else ClassBalancedBuffer(memory, adaptive_size=True))
        replay = ReplayPlugin(mem_size=memory, batch_size=batch, batch_size_mem=replayed,
                              storage_policy=policy)
        return Naive(plugins=[*plugins, replay], **common)
    if kind == "der":
        return DER(mem_size=memory, batch_size_mem=replayed, alpha=settings.get("der_alpha", 0.0),
                   beta=settings.get("der_beta", 0.0), plugins=plugins, **common)
    if kind == "si":
        # Avalanche: si_lambda / 2 * sum Omega d^2; locus: c * sum Omega d^2.
        c = settings["si_lambda"] * (2.0 if same_penalty else 1.0)
        return SynapticIntelligence(si_lambda=c, eps=settings["si_xi"], plugins=plugins, **common)
    if kind == "mas":
        return MAS(lambda_reg=settings["mas_lambda"], alpha=settings["mas_alpha"],
                   plugins=plugins, **common)
    if kind == "lwf":
        return LwF(alpha=settings["lwf_alpha"], temperature=settings["lwf_temperature"],
                   plugins=plugins, **common)
    if kind == "agem":
        return AGEM(patterns_per_exp=memory // (NUM_TASKS - 1), sample_size=replayed,
                    plugins=plugins, **common)
    raise ValueError(f"no Avalanche strategy for {kind}")


def accuracy_row(metrics: dict) -> list[float]:
    """The per-experience accuracies of one evaluation, in experience order."""
    row = {}
    for key, value in metrics.items():
        match = re.match(r"Top1_Acc_Exp/eval_phase/[^/]+/Task\d+/Exp(\d+)$", key)
        if match:
            row[int(match.group(1))] = float(value)
    if sorted(row) != list(range(NUM_TASKS)):
        raise RuntimeError(f"the final evaluation covers experiences {sorted(row)}")
    return [row[t] for t in range(NUM_TASKS)]


def run_avalanche(method: Method, seed: int, benchmark, pixels: int, conventions: str,
                  diagnostic: str = "") -> dict:
    from avalanche.evaluation.metrics import accuracy_metrics
    from avalanche.training.determinism.rng_manager import RNGManager
    from avalanche.training.plugins import EvaluationPlugin

    if diagnostic.startswith("si-copy"):
        with si_snapshots_copied():
            return run_avalanche(method, seed, benchmark, pixels, conventions,
                                 diagnostic.replace("si-copy", "si-copied"))
    RNGManager.set_random_seeds(seed)  # python, numpy and torch
    outputs = CLASSES_PER_TASK if method.scenario == TI else CLASSES_PER_TASK * NUM_TASKS
    model = locus_mlp(outputs, pixels)
    evaluator = EvaluationPlugin(accuracy_metrics(experience=True), loggers=[])
    joint = method.avalanche == "joint" and not diagnostic
    schedule = schedule_plugin_class()(COMMON["iterations_per_task"], COMMON["eval_every"],
                                       benchmark.test_stream, NUM_TASKS if joint else 1)
    method_with_seed = Method(method.name, method.scenario, {**method.locus, "seed": seed},
                              method.avalanche)
    strategy = make_strategy(method_with_seed, model, evaluator, [schedule], conventions,
                             diagnostic)
    # The schedule's evaluation clears the strategy's minibatch: its callbacks go after every
    # other plugin's (the method's own, which a strategy appends after the caller's), before
    # the evaluator's and the clock's.
    strategy.plugins.remove(schedule)
    strategy.plugins.insert(strategy.plugins.index(evaluator), schedule)
    busy0, cpu0 = machine_busy_seconds(), own_cpu_seconds()
    wall0 = time.perf_counter()
    schedule.evaluate(strategy, benchmark.test_stream)  # every task before training, as locus
    if joint:
        strategy.train(benchmark.train_stream, eval_streams=[], drop_last=True)
    else:
        for experience in benchmark.train_stream:
            strategy.train(experience, eval_streams=[], drop_last=True)
    wall = time.perf_counter() - wall0
    cpu = own_cpu_seconds() - cpu0
    others = max(0.0, machine_busy_seconds() - busy0 - cpu) / wall
    steps = schedule.steps_per_experience
    expected = ([COMMON["iterations_per_task"] * NUM_TASKS] if joint
                else [COMMON["iterations_per_task"]] * NUM_TASKS)
    if steps != expected:
        raise RuntimeError(f"{method.name}: Avalanche took {steps} steps per experience")
    row = accuracy_row(schedule.final)
    return {"seed": seed, "acc": sum(row) / len(row), "final_row": row, "wall_seconds": wall,
            "cpu_seconds": cpu, "eval_seconds": schedule.eval_seconds,
            "evaluations": schedule.evaluations, "steps_per_experience": steps,
            "background_cores": round(others, 3)}


def torch_reference(stream: Stream, scenario: str, seed: int) -> dict:
    """Naive fine-tuning as a plain PyTorch loop: the model, data, 100 steps of 64 per task
    (shuffled epochs, drop_last) and locus's 26 evaluations, without Avalanche."""
    import numpy as np
    import torch
    torch.manual_seed(seed)
    outputs = CLASSES_PER_TASK if scenario == TI else CLASSES_PER_TASK * NUM_TASKS
    model = locus_mlp(outputs, stream.pixels)
    optimizer = torch.optim.SGD(model.parameters(), lr=COMMON["lr"])
    tasks = []
    for t, (train_idx, eval_idx) in enumerate(stream.task_indices(seed)):
        offset = t * CLASSES_PER_TASK if scenario == TI else 0
        tasks.append(tuple(
            (torch.from_numpy(x[i].reshape(len(i), -1).astype(np.float32) / np.float32(255.0)),
             torch.from_numpy(y[i].astype(np.int64) - offset))
            for x, y, i in ((stream.train_x, stream.train_y, train_idx),
                            (stream.test_x, stream.test_y, eval_idx))))
    batch, iterations, every = COMMON["batch_size"], COMMON["iterations_per_task"], \
        COMMON["eval_every"]

    @torch.no_grad()
    def evaluate(seen: int) -> list[float]:
        return [(model(x).argmax(1) == y).float().mean().item() for _, (x, y) in tasks[:seen]]

    start = time.perf_counter()
    evaluate(NUM_TASKS)
    final: list[float] = []
    for t, ((x, y), _) in enumerate(tasks):
        order, position = torch.randperm(len(x)), 0
        for step in range(1, iterations + 1):
            if position + batch > len(x):
                order, position = torch.randperm(len(x)), 0
            rows = order[position:position + batch]
            position += batch
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x[rows]), y[rows]).backward()
            optimizer.step()
            if step == iterations:
                final = evaluate(NUM_TASKS)
            elif step % every == 0:
                evaluate(t + 1)
    return {"seed": seed, "acc": sum(final) / len(final),
            "wall_seconds": time.perf_counter() - start}


# ---- the table -----------------------------------------------------------------------------------


def mean_sd(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def summarize(method: Method, locus: dict, avalanche: list[dict]) -> dict:
    if not locus["runs"]:
        raise RuntimeError(f"{method.name}: every locus run failed: {locus['failed']}")
    n = len(locus["runs"])
    l_mean, l_sd = mean_sd([r["acc"] for r in locus["runs"]])
    a_mean, a_sd = mean_sd([r["acc"] for r in avalanche])
    diff = 100.0 * (l_mean - a_mean)
    se = 100.0 * math.sqrt(l_sd ** 2 / n + a_sd ** 2 / len(avalanche)) if n > 1 else 0.0
    locus_s = locus["process_wall_seconds"] / locus["attempts"]
    avalanche_s = statistics.fmean(r["wall_seconds"] for r in avalanche)
    busy = (locus["load"]["during_cores"] > BUSY_CORES
            or any(r["background_cores"] > BUSY_CORES for r in avalanche))
    evaluations = {r["evaluations"] for r in locus["runs"]} | {r["evaluations"] for r in avalanche}
    steps = {r["train_steps"] for r in locus["runs"]} | {
        sum(r["steps_per_experience"]) for r in avalanche}
    if len(evaluations) != 1 or len(steps) != 1:
        raise RuntimeError(f"{method.name}: the schedules differ: evaluations {evaluations}, "
                           f"steps {steps}")
    return {"method": method.name, "scenario": method.scenario, "locus_settings": method.locus,
            "seeds": len(avalanche), "locus_seeds_finished": n,
            "locus_failed": locus["failed"], "evaluations_per_run": evaluations.pop(),
            "steps_per_run": steps.pop(),
            "locus_acc_mean": l_mean, "locus_acc_sd": l_sd,
            "avalanche_acc_mean": a_mean, "avalanche_acc_sd": a_sd,
            "difference_points": diff, "difference_se_points": se,
            "within_1_point": abs(diff) <= 1.0,
            "locus_s_per_run": locus_s,
            "locus_harness_s_per_run": statistics.fmean(r["wall_seconds"]
                                                        for r in locus["runs"]),
            "locus_cpu_s_per_run": locus["process_cpu_seconds"] / locus["attempts"],
            "avalanche_s_per_run": avalanche_s,
            "avalanche_eval_s_per_run": statistics.fmean(r["eval_seconds"] for r in avalanche),
            "avalanche_cpu_s_per_run": statistics.fmean(r["cpu_seconds"] for r in avalanche),
            "ratio": avalanche_s / locus_s, "goal_ratio": 10.0,
            "goal_met": avalanche_s / locus_s >= 10.0, "machine_busy": busy}


def failed_note(row: dict) -> str:
    if not row["locus_failed"]:
        return ""
    seeds = ", ".join(str(f["seed"]) for f in row["locus_failed"])
    return f" ({row['locus_seeds_finished']}/{row['seeds']} seeds: seed {seeds} failed)"


def table(rows: list[dict]) -> str:
    lines = ["| method | scenario | locus ACC | Avalanche ACC | diff (points) | locus s/run | "
             "Avalanche s/run | ratio |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['method']} | {r['scenario']} | {r['locus_acc_mean']:.3f} ± "
            f"{r['locus_acc_sd']:.3f}{failed_note(r)} | {r['avalanche_acc_mean']:.3f} ± "
            f"{r['avalanche_acc_sd']:.3f}"
            f" | {r['difference_points']:+.1f} ± {r['difference_se_points']:.1f} | "
            f"{r['locus_s_per_run']:.2f} | {r['avalanche_s_per_run']:.2f} | "
            f"{r['ratio']:.1f}x{' (busy)' if r['machine_busy'] else ''} |")
    return "\n".join(lines)


# What --diagnose reruns in Avalanche, changed towards locus, to find where a difference comes
# from: the kind, the change, and its description.
DIAGNOSTICS = {
    "replay": ("online-memory",
               "Avalanche Naive + locus's online reservoir (this script's plugin)"),
    "der": ("online-memory", "Avalanche Naive + locus's online reservoir with the logits at "
                             "insertion and two draws (this script's plugin)"),
    "si": ("si-copy", "Avalanche's SI with its weight snapshots copied (on the CPU they are "
                      "views of the live weights, so its importance and penalty are 0: SI = "
                      "Naive)"),
    "si-unclipped": ("si-copy-unclipped", "as si-copy, and without Avalanche's clip of the "
                                          "importance at 0.001"),
    "si-locus": ("si-copy-unclipped-task-gradient",
                 "as si-copy, without the clip, and the path integral of the task loss's "
                 "gradient (without the penalty's): locus's SI"),
}


def diagnostic_row(method: Method, variant: str, locus: dict, runs: list[dict]) -> dict:
    n, m = len(locus["runs"]), len(runs)
    l_mean, l_sd = mean_sd([r["acc"] for r in locus["runs"]])
    a_mean, a_sd = mean_sd([r["acc"] for r in runs])
    return {"method": method.name, "variant": variant,
            "avalanche_acc_mean": a_mean, "avalanche_acc_sd": a_sd,
            "difference_points": 100.0 * (l_mean - a_mean),
            "difference_se_points": 100.0 * math.sqrt(l_sd ** 2 / n + a_sd ** 2 / m)
            if n > 1 and m > 1 else 0.0,
            "runs": runs}


def file_sha256(path: Path) -> str:
    import hashlib
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--locus", default="build/bin/locus")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--methods", default="",
                        help="comma-separated names from METHODS (default: all that locus has)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads, OPENBLAS_NUM_THREADS and OMP_NUM_THREADS")
    parser.add_argument("--data-dir", default=DATA_DIR)
    parser.add_argument("--penalty-convention", choices=["penalty", "number"], default="penalty",
                        help="penalty: translate EWC's and SI's lambda so that Avalanche "
                             "minimizes the same objective as locus (EWC lambda / 2, SI 2c); "
                             "number: pass locus's numbers unchanged")
    parser.add_argument("--diagnose", action="store_true",
                        help="also rerun replay, DER and DER++ in Avalanche with locus's online "
                             "reservoir memory (a plugin of this script): where a difference "
                             "comes from")
    parser.add_argument("--torch-reference", action="store_true",
                        help="also time the naive runs as a plain PyTorch loop (the same model, "
                             "data, steps and evaluations, no Avalanche): the floor of torch")
    parser.add_argument("--max-wait", type=float, default=60.0,
                        help="seconds to wait for a quiet machine before each timed phase")
    parser.add_argument("--keep-locus-runs", default="",
                        help="copy locus's configs and run files into this folder")
    parser.add_argument("--out", default=str(HERE / "results" / "avalanche_peer.json"))
    args = parser.parse_args()

    threads = str(args.threads)
    os.environ["OPENBLAS_NUM_THREADS"] = threads  # before torch is imported
    os.environ["OMP_NUM_THREADS"] = threads
    locus = Path(args.locus)
    if not locus.is_absolute() and not locus.exists():
        locus = REPO / locus
    if not locus.exists():
        raise SystemExit(f"{args.locus} not found; build it first: cmake --build build")
    snapshot_dir = tempfile.TemporaryDirectory(prefix="locus-snapshot-")
    modified = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(locus.stat().st_mtime))
    source = locus
    locus, library_env = snapshot_locus(source, Path(snapshot_dir.name))
    locus_identity = {"path": str(source), "sha256": file_sha256(locus), "modified": modified,
                      "version": subprocess.run([str(locus), "--version"], capture_output=True,
                                                text=True, check=False,
                                                env={**os.environ, **library_env}
                                                ).stdout.strip()}
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    known = locus_settings(locus, library_env)
    wanted = [m.strip() for m in args.methods.split(",") if m.strip()]
    names = {m.name for m in METHODS}
    unknown = [w for w in wanted if w not in names]
    if unknown:
        raise SystemExit(f"unknown methods {unknown}; methods: {', '.join(sorted(names))}")
    skipped = []
    methods = []
    for m in METHODS:
        if wanted and m.name not in wanted:
            continue
        missing = [k for k in m.requires if k not in known]
        if missing:
            skipped.append({"method": m.name, "missing_locus_settings": missing})
            print(f"skipping {m.name}: locus has no setting {', '.join(missing)} yet",
                  file=sys.stderr)
            continue
        methods.append(m)

    # Avalanche re-enables its deprecation warnings on every call, and warns at import that no
    # QP solver (for GEM, not run here) is installed; they say nothing about a run.
    warnings.showwarning = lambda *a, **k: None
    import torch
    torch.set_num_threads(args.threads)
    import avalanche

    start = time.perf_counter()
    stream = Stream(Path(args.data_dir))
    data_seconds = time.perf_counter() - start
    benchmarks: dict[tuple[str, int], object] = {}

    def benchmark(scenario: str, seed: int):
        if (scenario, seed) not in benchmarks:
            benchmarks[(scenario, seed)] = avalanche_benchmark(stream, seed, scenario)
        return benchmarks[(scenario, seed)]

    env = {**os.environ, **library_env, "OPENBLAS_NUM_THREADS": threads,
           "OMP_NUM_THREADS": threads}
    keep = Path(args.keep_locus_runs) if args.keep_locus_runs else None
    rows, details, diagnostics, references = [], [], [], []
    for method in methods:
        locus_result = run_locus(locus, method, seeds, env, args.max_wait, keep)
        wait_quiet(args.max_wait)
        avalanche_runs = []
        for seed in seeds:
            run = run_avalanche(method, seed, benchmark(method.scenario, seed), stream.pixels,
                                args.penalty_convention)
            avalanche_runs.append(run)
            mine = next((f"{r['acc']:.3f}" for r in locus_result["runs"] if r["seed"] == seed),
                        "failed")
            print(f"  {method.name} seed {seed}: locus {mine}, Avalanche {run['acc']:.3f} "
                  f"({run['wall_seconds']:.2f} s)", file=sys.stderr, flush=True)
        row = summarize(method, locus_result, avalanche_runs)
        rows.append(row)
        details.append({"method": method.name, "locus": locus_result,
                        "avalanche": avalanche_runs})
        print(f"{method.name}: locus {row['locus_acc_mean']:.3f}, Avalanche "
              f"{row['avalanche_acc_mean']:.3f}, {row['difference_points']:+.1f} points; "
              f"{row['locus_s_per_run']:.2f} s vs {row['avalanche_s_per_run']:.2f} s per run",
              file=sys.stderr, flush=True)
        for kind, (change, variant) in DIAGNOSTICS.items():
            if not args.diagnose or kind.split("-")[0] != method.avalanche:
                continue
            runs = [run_avalanche(method, seed, benchmark(method.scenario, seed), stream.pixels,
                                  args.penalty_convention, diagnostic=change)
                    for seed in seeds]
            diagnostics.append(diagnostic_row(method, variant, locus_result, runs))
            d = diagnostics[-1]
            print(f"  {method.name}, {change}: {d['avalanche_acc_mean']:.3f}, "
                  f"{d['difference_points']:+.1f} points", file=sys.stderr, flush=True)
        if args.torch_reference and method.avalanche == "naive":
            runs = [torch_reference(stream, method.scenario, seed) for seed in seeds]
            references.append({"method": method.name, "scenario": method.scenario,
                               "acc_mean": mean_sd([r["acc"] for r in runs])[0],
                               "s_per_run": statistics.fmean(r["wall_seconds"] for r in runs),
                               "runs": runs})
            print(f"  {method.name}, plain PyTorch: {references[-1]['acc_mean']:.3f}, "
                  f"{references[-1]['s_per_run']:.2f} s per run", file=sys.stderr, flush=True)

    text = table(rows)
    print(text)
    if diagnostics:
        print("\nDiagnostics: Avalanche changed towards locus (--diagnose):")
        print("| method | variant | locus ACC | variant ACC | diff (points) |")
        print("|---|---|---|---|---|")
        by_name = {r["method"]: r for r in rows}
        for d in diagnostics:
            r = by_name[d["method"]]
            print(f"| {d['method']} | {d['variant']} | {r['locus_acc_mean']:.3f} ± "
                  f"{r['locus_acc_sd']:.3f} | {d['avalanche_acc_mean']:.3f} ± "
                  f"{d['avalanche_acc_sd']:.3f} | {d['difference_points']:+.1f} ± "
                  f"{d['difference_se_points']:.1f} |")
    for ref in references:
        print(f"plain PyTorch, {ref['method']} ({ref['scenario']}), the same steps and "
              f"evaluations without Avalanche: ACC {ref['acc_mean']:.3f}, "
              f"{ref['s_per_run']:.2f} s per run")
    for s in skipped:
        print(f"not run: {s['method']} (locus lacks {', '.join(s['missing_locus_settings'])})")
    document = document_start("avalanche_peer", args.threads, python=True)
    document.update({
        "locus": locus_identity,
        "avalanche_version": avalanche.__version__,
        "torch_version": torch.__version__,
        "threads": args.threads,
        "seeds": seeds,
        "common_settings": COMMON,
        "penalty_convention": args.penalty_convention,
        "method": ("final average accuracy (mean over the 5 tasks after the last one) over "
                   "seeds, mean ± sd; diff = locus - Avalanche in points ± its standard error; "
                   "locus s/run = the `locus sweep` process's wall time / runs (one sweep per "
                   "method, --jobs 1); Avalanche s/run = the run's loop (first evaluation to the "
                   "end of the last experience) in this process; ratio = Avalanche / locus, "
                   "goal >= 10"),
        "data_load_seconds": data_seconds,
        "rows": rows,
        "diagnostics": diagnostics,
        "torch_reference": references,
        "skipped": skipped,
        "table": text,
        "runs": details,
    })
    write_atomically(Path(args.out), json.dumps(document, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
