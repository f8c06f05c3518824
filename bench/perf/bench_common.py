"""What the bench/perf drivers (run_*_bench.py) share: the quiet-machine wait, running a benchmark
that writes JSON, the atomic write of the results, and the parts of the result document and of the
ratio table that every driver writes the same way.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_timing import machine_busy_seconds  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
# Messages name the driver that was run (run_env_bench, run_cognitive_bench, ...).
PROGRAM = Path(sys.argv[0]).stem or "bench"

BUSY_MARK = "  (machine busy: not trustworthy)"
BUSY_WARNING = ("WARNING: other processes kept taking the cores some benchmarks needed (marked "
                "above); those figures are low. Rerun on a quiet machine.")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def children_seconds() -> float:
    times = os.times()
    return times.children_user + times.children_system


def wait_quiet(max_wait: float, threshold: float = 0.15) -> float:
    """Waits (up to max_wait seconds) until other processes use under `threshold` cores.

    The machine is shared: another process on one of two cores halves a multi-threaded figure.
    Returns the last background load measured, in cores.
    """
    start = time.monotonic()
    next_message = start
    while True:
        before = machine_busy_seconds()
        time.sleep(0.5)
        load = (machine_busy_seconds() - before) / 0.5
        now = time.monotonic()
        if load < threshold or now - start >= max_wait:
            return load
        if now >= next_message:
            print(f"{PROGRAM}: waiting for a quiet machine (other processes use {load:.2f} "
                  f"cores; giving up after {max_wait:.0f} s)", file=sys.stderr, flush=True)
            next_message = now + 15.0
        time.sleep(1.0)


def run_json(command: list[str], what: str, max_wait: float) -> tuple[dict, dict]:
    """Runs a benchmark that writes JSON to the file named by its --json flag.

    Returns its JSON and the background load: other processes' CPU use (in cores) before and during
    the run, so that a figure taken on a busy machine is flagged.
    """
    load_before = wait_quiet(max_wait)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "out.json"
        print(f"$ {shlex.join(command + ['--json', str(path)])}", file=sys.stderr, flush=True)
        busy0, mine0, wall0 = machine_busy_seconds(), children_seconds(), time.monotonic()
        completed = subprocess.run(command + ["--json", str(path)], check=False)
        wall = time.monotonic() - wall0
        others = (machine_busy_seconds() - busy0) - (children_seconds() - mine0)
        if completed.returncode != 0:
            raise SystemExit(f"{PROGRAM}: {what} failed with exit status "
                             f"{completed.returncode}")
        load = {"before_cores": round(load_before, 3),
                "during_cores": round(max(0.0, others) / wall, 3), "wall_seconds": round(wall, 2)}
        return json.loads(path.read_text(encoding="utf-8")), load


def write_atomically(path: Path, text: str) -> None:
    # A reader (or a crash mid-write) never sees a half-written file: write beside it, then rename.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)  # mkstemp's 0600 would make the results private
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def locus_binary(arg: str, target: str, program: str = "") -> Path:
    """The benchmark program `arg` (relative: from the current directory, else from the repository
    root); exits naming the target to build when it is missing."""
    locus = Path(arg)
    if not locus.is_absolute() and not locus.exists():
        locus = REPO / locus
    if not locus.exists():
        raise SystemExit(f"{program or PROGRAM}: {arg} not found; build it first: cmake --build "
                         f"build --target {target}")
    return locus


def torch_version(python: str) -> str:
    """torch's version as `python` imports it."""
    return subprocess.run([python, "-c", "import torch; print(torch.__version__)"],
                          capture_output=True, text=True, check=False).stdout.strip()


def document_start(benchmark: str, cores: int, python: bool = False) -> dict:
    """The fields every results document starts with: what, when, the command, the machine."""
    machine = {"cpu": cpu_model(), "cores": cores, "platform": platform.platform()}
    if python:
        machine["python"] = platform.python_version()
    return {"benchmark": benchmark,
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "command": shlex.join(["python3", *sys.argv]),
            "machine": machine}


def goal_text(row: dict) -> str:
    """A comparison row's goal column: '-' (for information), or the goal and whether it is met."""
    if row["goal_ratio"] is None:
        return "-"
    return f">= {row['goal_ratio']:g}x {'met' if row['goal_met'] else 'MISSED'}"


def finish(document: dict, out: str, rows: list[dict], check: bool) -> int:
    """Writes the document to `out`; the exit status: 1 when `check` and a row missed its goal."""
    write_atomically(Path(out), json.dumps(document, indent=2) + "\n")
    print(f"wrote {out}")
    missed = [r for r in rows if r.get("goal_met") is False]
    return 1 if check and missed else 0


def steps_comparisons(comparisons: list[dict], results: list[dict]) -> list[dict]:
    """The comparison rows (benchmark, locus, peer, goal_ratio) whose two figures are both in
    `results`, with their env-steps per second, ratio, whether the goal is met and whether other
    processes took the cores either figure needed on every retry."""
    figures = {r["name"]: r for r in results}
    rows = []
    for row in comparisons:
        mine, theirs = figures.get(row["locus"]), figures.get(row["peer"])
        if mine is None or theirs is None:
            continue  # e.g. an optional peer not installed
        ratio = mine["median_steps_per_second"] / theirs["median_steps_per_second"]
        goal = row["goal_ratio"]
        rows.append({**row,
                     "locus_steps_per_second": mine["median_steps_per_second"],
                     "peer_steps_per_second": theirs["median_steps_per_second"],
                     "ratio": ratio,
                     "goal_met": None if goal is None else ratio >= goal,
                     "machine_busy": bool(mine.get("contaminated") or theirs.get("contaminated"))})
    return rows


def env_thread_options(quick: bool, repeats: int) -> tuple[int, str, int]:
    """(cores, the --threads list "1,<cores>" (just "1" on one core), repeats: 3 when quick)."""
    cores = len(os.sched_getaffinity(0))
    return cores, "1" if cores == 1 else f"1,{cores}", 3 if quick else repeats


ENV_METHOD = ("actions pre-drawn; one untimed warm-up run, then timed runs of a fixed step count "
              "until `repeats` ran with no other process on the cores they need (at most 3 x "
              "repeats tries); median env-steps/s (vector: num_envs x vector steps)")


def sb3_ppo_kwargs(hyperparameters: dict) -> dict:
    """SB3's (and sb3-contrib's) PPO keyword arguments for locus's PPO config keys, so that both
    learners run the same settings."""
    h = hyperparameters
    return {
        "n_steps": h["rollout_steps"],
        "batch_size": h["num_envs"] * h["rollout_steps"] // h["minibatches"],
        "n_epochs": h["ppo_epochs"],
        "learning_rate": h["learning_rate"],
        "gamma": h["gamma"],
        "gae_lambda": h["gae_lambda"],
        "clip_range": h["clip_epsilon"],
        "clip_range_vf": h["value_clip"] or None,  # locus's 0 is "no value clipping"
        "ent_coef": h["entropy_coef"],
        "vf_coef": h["value_coef"],
        "max_grad_norm": h["max_grad_norm"],
        "normalize_advantage": h["normalize_advantages"],
    }


def add_run_options(parser, out: Path, repeats: int, quick: bool = False) -> None:
    """The options every throughput benchmark takes: --out, --repeats, --wait-quiet, --check, and
    --quick where the benchmark has a quick mode."""
    parser.add_argument("--out", default=str(out))
    parser.add_argument("--repeats", type=int, default=repeats)
    if quick:
        parser.add_argument("--quick", action="store_true",
                            help="a few seconds in all, to check that everything runs (noisy "
                                 "figures)")
    parser.add_argument("--wait-quiet", type=float, default=60.0, metavar="SECONDS",
                        help="before each run, wait up to this long for other processes to "
                             "leave the CPUs idle (default 60; 0: do not wait)")
    parser.add_argument("--check", action="store_true",
                        help="exit with status 1 when a goal is missed")
