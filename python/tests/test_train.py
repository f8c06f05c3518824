"""Python gymnasium.Envs trained by locus's C++ agents: locus.train, locus.evaluate, locus.resume,
and `locus train --env module:Name` / `locus eval` through the command line.

The envs are defined here; the command-line tests import this file as the module `test_train`
(PYTHONPATH is set to this folder).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

import locus
from locus import errors

HERE = Path(__file__).resolve().parent
# Keys of summary.json that measure time or name the directory; everything else is determined by
# the seed.
UNTIMED = ("wall_seconds", "steps_per_second", "checkpoint")


class CueRecall(gym.Env):
    """Recall a cue: one of two cues is shown at the first step, then `delay` blank steps, then
    the action must name the cue (+1, else 0; the episode ends). Actions before are ignored. Only
    a policy with memory does better than chance (0.5)."""

    def __init__(self, delay=3):
        self.delay = delay
        self.observation_space = spaces.Box(0.0, 1.0, shape=(3,), dtype=np.float32)
        self.action_space = spaces.Discrete(2)
        self.cue = self.elapsed = 0

    def _obs(self):
        obs = np.zeros(3, dtype=np.float32)
        if self.elapsed == 0:
            obs[self.cue] = 1.0
        elif self.elapsed == self.delay + 1:
            obs[2] = 1.0  # answer now
        return obs

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.cue, self.elapsed = int(self.np_random.integers(2)), 0
        return self._obs(), {}

    def step(self, action):
        self.elapsed += 1
        if self.elapsed <= self.delay + 1:
            return self._obs(), 0.0, False, False, {}
        return self._obs(), float(int(action) == self.cue), True, False, {}


class GoToTarget(gym.Env):
    """A 1-D corridor: walk (0 left, 1 right) from a random cell to a random target cell.

    Observation [position, target] / (length - 1); +1 on reaching the target (terminated),
    -0.05 for every other step, truncated after 20 steps. A random walk rarely gets there in time.
    """

    def __init__(self, length=10, limit=20):
        self.length, self.limit = length, limit
        self.observation_space = spaces.Box(0.0, 1.0, shape=(2,), dtype=np.float32)
        self.action_space = spaces.Discrete(2)
        self.position = self.target = self.elapsed = 0

    def _obs(self):
        return np.array([self.position, self.target], dtype=np.float32) / (self.length - 1)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.position, self.target = (int(x) for x in
                                      self.np_random.choice(self.length, 2, replace=False))
        self.elapsed = 0
        return self._obs(), {}

    def step(self, action):
        self.position = int(np.clip(self.position + (1 if action == 1 else -1), 0,
                                    self.length - 1))
        self.elapsed += 1
        terminated = self.position == self.target
        reward = 1.0 if terminated else -0.05
        return self._obs(), reward, terminated, self.elapsed >= self.limit and not terminated, {}


class GoToTargetContinuous(gym.Env):
    """The same task with a Box action: the move is the action (clipped to [-1, 1]) times 0.25."""

    def __init__(self):
        self.observation_space = spaces.Box(0.0, 1.0, shape=(2,), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self.position = self.target = 0.0
        self.elapsed = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.position, self.target = (float(x) for x in self.np_random.uniform(0, 1, 2))
        self.elapsed = 0
        return np.array([self.position, self.target], dtype=np.float32), {}

    def step(self, action):
        self.position = float(np.clip(self.position + 0.25 * float(action[0]), 0.0, 1.0))
        self.elapsed += 1
        terminated = abs(self.position - self.target) < 0.1
        reward = 1.0 if terminated else -0.05
        obs = np.array([self.position, self.target], dtype=np.float32)
        return obs, reward, terminated, self.elapsed >= 20 and not terminated, {}


class DictObservation(GoToTarget):
    def __init__(self):
        super().__init__()
        self.observation_space = spaces.Dict({"position": spaces.Discrete(10),
                                              "target": spaces.Discrete(10)})

    def _obs(self):
        return {"position": self.position, "target": self.target}


class Float64Actions(GoToTargetContinuous):
    def __init__(self):
        super().__init__()
        self.action_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float64)


class ExplodesAfterAWhile(GoToTarget):
    steps_taken = 0

    def step(self, action):
        ExplodesAfterAWhile.steps_taken += 1
        if ExplodesAfterAWhile.steps_taken > 300:
            raise ZeroDivisionError("boom in step")
        return super().step(action)


def make_go_to_target():
    """A factory: any callable returning a gymnasium.Env."""
    return GoToTarget(length=8)


gym.register(id="TestGoToTarget-v0", entry_point=GoToTarget)

FAST = {"rollout_steps": 16, "eval_episodes": 8, "checkpoint_every": 1000, "threads": 1}


def random_policy_return(episodes=400, seed=0):
    env = GoToTarget()
    rng = np.random.default_rng(seed)
    returns = []
    for episode in range(episodes):
        env.reset(seed=seed + episode)
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = env.step(int(rng.integers(2)))
            total += reward
            done = terminated or truncated
        returns.append(total)
    return float(np.mean(returns))


def untimed(summary):
    return {k: v for k, v in summary.items() if k not in UNTIMED}


def metric_rows(path):
    with open(path) as f:
        return [{k: v for k, v in row.items() if k != "time_s"} for row in csv.DictReader(f)]


def test_ppo_learns_a_python_env(tmp_path):
    random_return = random_policy_return()
    summary = locus.train(env=GoToTarget, agent="ppo", steps=24576, seed=0, num_envs=8,
                          modulation="da", out=str(tmp_path / "run"),
                          **{**FAST, "eval_episodes": 50, "learning_rate": 3e-3})
    trained = summary["eval"]["return_mean"]
    # Random walking: about -0.2; walking straight to the target: about 0.88 (measured with seeds
    # 0, 1, 2: 0.879, 0.888, 0.891).
    assert random_return < 0.0
    assert trained > random_return + 0.8 and trained > 0.8, (trained, random_return)
    assert summary["env"] == "test_train:GoToTarget"
    assert summary["agent"] == "ppo" and summary["steps"] == 24576
    for name in ["config.json", "metrics.csv", "metrics.jsonl", "dopamine_trace.csv",
                 "checkpoint.bin", "summary.json"]:
        assert (tmp_path / "run" / name).exists(), name
    assert json.loads((tmp_path / "run" / "summary.json").read_text()) == summary


def test_recurrent_policies_remember_in_python_envs(tmp_path):
    settings = {**FAST, "eval_episodes": 100, "hidden": 32, "learning_rate": 3e-3,
                "rollout_steps": 20, "minibatches": 2}
    returns = {}
    for policy in ("gru", "mlp"):
        summary = locus.train(env=CueRecall, agent="ppo", policy=policy, steps=20000, seed=0,
                              num_envs=8, out=str(tmp_path / policy), **settings)
        returns[policy] = summary["eval"]["return_mean"]
    config = json.loads((tmp_path / "gru" / "config.json").read_text())
    assert config["policy"] == "gru" and config["hidden"] == [32]
    assert returns["gru"] > 0.95 and returns["mlp"] < 0.75, returns


def test_a2c_learns_from_an_env_instance_copied_per_env(tmp_path):
    env = GoToTarget()
    summary = locus.train(env=env, agent="a2c", steps=16384, seed=1, num_envs=4,
                          out=str(tmp_path / "run"), **{**FAST, "eval_episodes": 50,
                                                        "learning_rate": 3e-3})
    assert summary["eval"]["return_mean"] > random_policy_return() + 0.5
    assert summary["env"] == "test_train:GoToTarget"
    assert env.elapsed > 0  # the instance itself was the first env


def test_same_seed_same_run(tmp_path):
    runs = []
    for name in ("a", "b"):
        runs.append(locus.train(env=GoToTargetContinuous, agent="ppo", steps=2048, seed=7,
                                num_envs=4, modulation="da+na", out=str(tmp_path / name), **FAST))
    assert untimed(runs[0]) == untimed(runs[1])
    assert metric_rows(tmp_path / "a" / "metrics.csv") == metric_rows(tmp_path / "b" / "metrics.csv")
    other = locus.train(env=GoToTargetContinuous, agent="ppo", steps=2048, seed=8, num_envs=4,
                        modulation="da+na", out=str(tmp_path / "c"), **FAST)
    assert metric_rows(tmp_path / "c" / "metrics.csv") != metric_rows(tmp_path / "a" / "metrics.csv")
    assert other["env"] == "test_train:GoToTargetContinuous"


def test_agents_in_tbb_workers_take_turns_at_the_gil(tmp_path):
    """Two seeds trained side by side in two TBB workers, each stepping its Python envs under the
    GIL, give the runs each seed gives alone; a Python thread keeps running meanwhile."""
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(1)
            stop.wait(0.001)

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        both = locus.train(env=make_go_to_target, agent="a2c", steps=2048, num_envs=4,
                           out=str(tmp_path / "both"), **{**FAST, "seeds": [3, 4], "threads": 2})
    finally:
        stop.set()
        ticker.join()
    assert len(ticks) > 5
    assert both["env"] == "test_train:make_go_to_target" and len(both["runs"]) == 2
    for seed in (3, 4):
        alone = locus.train(env=make_go_to_target, agent="a2c", steps=2048, seed=seed, num_envs=4,
                            out=str(tmp_path / f"alone_{seed}"), **FAST)
        assert metric_rows(tmp_path / "both" / f"seed_{seed}" / "metrics.csv") == metric_rows(
            tmp_path / f"alone_{seed}" / "metrics.csv")
        in_both = next(r for r in both["runs"] if r["seed"] == seed)
        assert untimed(in_both) == untimed(alone)


def test_gymnasium_ids_and_module_ids(tmp_path):
    registered = locus.train(env="TestGoToTarget-v0", steps=512, num_envs=2,
                             out=str(tmp_path / "registered"), **FAST)
    assert registered["env"] == "test_train:TestGoToTarget-v0"
    named = locus.train(env="test_train:GoToTarget", steps=512, num_envs=2,
                        env_kwargs={"length": 6}, max_episode_steps=5,
                        out=str(tmp_path / "named"), **FAST)
    assert named["env"] == "test_train:GoToTarget"
    config = json.loads((tmp_path / "named" / "config.json").read_text())
    assert config["env_kwargs"] == {"length": 6, "max_episode_steps": 5}
    assert named["eval"]["length_mean"] <= 5  # the time limit applied
    cartpole = locus.train(env="gymnasium:CartPole-v1", steps=512, num_envs=2,
                           out=str(tmp_path / "cartpole"), **FAST)
    assert cartpole["env"] == "gymnasium:CartPole-v1"
    # Gymnasium's spec gives the reward threshold (475): success is defined.
    assert cartpole["eval"]["success_rate"] is not None


def test_locus_envs_stay_in_cpp_and_progress_is_reported(tmp_path):
    rows = []
    summary = locus.train(env="locus/CartPole-v1", steps=512, num_envs=2, out=str(tmp_path / "r"),
                          progress=rows.append, **FAST)
    assert summary["env"] == "CartPole-v1"
    assert [row["update"] for row in rows] == list(range(1, 512 // (2 * 16) + 1))
    assert rows[-1]["steps"] == 512 and rows[-1]["agent"] == 0


def test_the_command_lines_progress_line_and_summary_text(tmp_path, capfd):
    """locus.cli shows the C++ command's progress line (updated from the workers) and summary."""
    progress = locus._core.TrainProgress(1, 512, True)
    summary = locus.train(env="locus/CartPole-v1", steps=512, num_envs=2, out=str(tmp_path / "r"),
                          progress=progress, **FAST)
    progress.finish()
    line = capfd.readouterr().err.rsplit("\r", 1)[-1]
    assert line.startswith("[########################] 100% 512/512 steps"), line
    assert "steps/s  ETA 0s  return " in line and line.endswith("\n")
    text = locus._core.train_summary_text(summary, "runs/x")
    assert text.startswith("512 steps: eval return ")
    assert text.endswith("summary: runs/x/summary.json")
    several = {"runs": [{}, {}], "eval_return": {"mean": 1.5, "std": 0.25},
               "eval_success_rate": None}
    assert locus._core.train_summary_text(several, "d").splitlines()[0] == \
        "2 agents: eval return 1.500 (std 0.250)"


def test_given_train_settings_merge_the_config_file_flags_and_agents(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("env: CartPole-v1\nseed: 7\nsteps: 100\n")
    given = locus._core.given_train_settings(str(config), {"steps": 200}, 3, 0)
    assert given == {"env": "CartPole-v1", "seed": 7, "steps": 200, "seeds": [7, 8, 9]}
    assert locus._core.given_train_settings("", {}, 2, 5)["seeds"] == [5, 6]
    assert locus._core.given_train_settings("", {"agent": "ppo"}, None, 0) == {"agent": "ppo"}
    with pytest.raises(errors.InvalidArgumentError, match="--agents must be positive, got 0"):
        locus._core.given_train_settings("", {}, 0, 0)
    with pytest.raises(errors.InvalidArgumentError, match="at most 4096, got 4097"):
        locus._core.given_train_settings("", {}, 4097, 0)
    config.write_text("- a list\n")
    with pytest.raises(errors.InvalidArgumentError, match="must hold a mapping of keys"):
        locus._core.given_train_settings(str(config), {}, None, 0)


def test_python_command_line_refuses_negative_whole_numbers(capsys):
    """As the C++ command line does: its whole-number flags are unsigned."""
    from locus import cli

    with pytest.raises(SystemExit) as stopped:
        cli.main(["train", "--env", "x:Y", "--agents", "-1", "--out", "unused"])
    assert stopped.value.code == 2
    assert "--agents: must be a whole number of 0 or more, got '-1'" in capsys.readouterr().err


def test_evaluate_and_resume(tmp_path):
    out = tmp_path / "run"
    args = dict(agent="a2c", num_envs=4, seed=2, **{**FAST, "checkpoint_every": 4})
    locus.train(env=GoToTarget, steps=1024, out=str(out), **args)
    resumed = locus.resume(str(out), steps=2048, precision="float32")
    whole = locus.train(env=GoToTarget, steps=2048, out=str(tmp_path / "whole"), **args)
    assert untimed({**resumed, "resumed": False}) == untimed(whole)
    with pytest.raises(errors.InvalidArgumentError, match="float32, bfloat16, tf32"):
        locus.resume(str(out), steps=2048, precision="half")
    # Settings other than steps, threads and precision must be the saved ones.
    with pytest.raises(errors.InvalidArgumentError, match="learning_rate is .* 0.5 requested"):
        locus.resume(str(out), learning_rate=0.5)
    locus.resume(str(out), steps=2048, agent="a2c", threads=1)  # equal: fine
    evaluation = locus.evaluate(str(out), episodes=5, seed=11)
    assert evaluation["eval"]["episodes"] == 5
    assert json.loads((out / "eval.json").read_text()) == evaluation
    # The agents' runtime errors arrive as locus.errors classes, not as bare RuntimeErrors.
    with pytest.raises(errors.RunDirectoryError, match="holds no run") as no_run:
        locus.resume(str(tmp_path / "nothing"))
    assert isinstance(no_run.value, OSError)
    checkpoint = out / "checkpoint.bin"
    checkpoint.write_bytes(checkpoint.read_bytes()[:100])
    with pytest.raises(errors.CheckpointError, match="checkpoint.bin"):
        locus.evaluate(str(out), episodes=1)


def test_unsupported_spaces_are_refused_clearly(tmp_path):
    with pytest.raises(ValueError, match=r"observation space Dict.*FlattenObservation"):
        locus.train(env=DictObservation, steps=256, out=str(tmp_path / "dict"))
    with pytest.raises(errors.InvalidArgumentError, match=r"action space Box.*float64.*float32"):
        locus.train(env=Float64Actions, steps=256, out=str(tmp_path / "f64"))
    assert not (tmp_path / "dict").exists() and not (tmp_path / "f64").exists()


def test_bad_envs_and_arguments_are_refused_clearly(tmp_path):
    with pytest.raises(TypeError, match="got int"):
        locus.train(env=42, out=str(tmp_path / "a"))
    with pytest.raises(TypeError, match="not a gymnasium.Env"):
        locus.train(env=lambda: "not an env", out=str(tmp_path / "b"))
    with pytest.raises(errors.InvalidArgumentError, match="cannot import module 'no_such_module'"):
        locus.train(env="no_such_module:Env-v0", out=str(tmp_path / "c"))
    with pytest.raises(errors.InvalidArgumentError, match="has no attribute 'Missing-v0'"):
        locus.train(env="test_train:Missing-v0", out=str(tmp_path / "d"))
    with pytest.raises(errors.UnknownEnvError, match="CartPol-v1.*Did you mean"):
        locus.train(env="CartPol-v1", out=str(tmp_path / "e"))
    with pytest.raises(errors.InvalidArgumentError, match="unknown config key 'bogus'"):
        locus.train(env=GoToTarget, steps=256, bogus=1, out=str(tmp_path / "f"))

    class Unpicklable(GoToTarget):
        def __init__(self):
            super().__init__()
            self.lock = threading.Lock()

    with pytest.raises(errors.InvalidArgumentError, match="deepcopy.*pass its class"):
        locus.train(env=Unpicklable(), steps=256, out=str(tmp_path / "g"))


def test_python_exceptions_propagate_and_locus_stays_usable(tmp_path):
    ExplodesAfterAWhile.steps_taken = 0
    with pytest.raises(ZeroDivisionError, match="boom in step"):
        locus.train(env=ExplodesAfterAWhile, steps=4096, num_envs=2, out=str(tmp_path / "boom"),
                    **FAST)
    summary = locus.train(env=GoToTarget, steps=256, num_envs=2, out=str(tmp_path / "ok"), **FAST)
    assert summary["steps"] == 256


# The command line: `locus train --env test_train:GoToTarget` hands over to the package.

@pytest.fixture
def locus_cli(request):
    path = request.config.getoption("--locus-cli") or os.environ.get("LOCUS_CLI")
    if path is None:
        candidate = HERE.parents[1] / "build" / "bin" / "locus"
        path = str(candidate) if candidate.exists() else None
    if path is None:
        pytest.skip("needs the locus executable (--locus-cli PATH or LOCUS_CLI)")
    return path


def cli_env(python=sys.executable):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(HERE), env.get("PYTHONPATH")] if p)
    env["LOCUS_PYTHON"] = python
    return env


def test_cli_trains_and_evaluates_a_python_env(locus_cli, tmp_path):
    out = tmp_path / "run"
    args = ["--env", "test_train:GoToTarget", "--agent", "a2c", "--steps", "2048", "--num-envs",
            "4", "--seed", "3", "--rollout-steps", "16", "--eval-episodes", "8", "--threads", "1",
            "--checkpoint-every", "1000", "--quiet"]
    result = subprocess.run([locus_cli, "train", *args, "--out", str(out)], capture_output=True,
                            text=True, timeout=300, env=cli_env())
    assert result.returncode == 0, result.stderr
    assert "summary:" in result.stdout and "2048 steps: eval return" in result.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["env"] == "test_train:GoToTarget" and summary["steps"] == 2048
    for name in ["config.json", "metrics.csv", "metrics.jsonl", "checkpoint.bin"]:
        assert (out / name).exists(), name
    # The same run in this process gives the same summary.
    here = locus.train(env=GoToTarget, agent="a2c", steps=2048, num_envs=4, seed=3,
                       out=str(tmp_path / "here"), **FAST)
    assert untimed(here) == untimed(summary)

    evaluated = subprocess.run([locus_cli, "eval", str(out), "--episodes", "4"],
                               capture_output=True, text=True, timeout=300, env=cli_env())
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["eval"]["episodes"] == 4

    again = subprocess.run([locus_cli, "train", *args, "--out", str(out)], capture_output=True,
                           text=True, timeout=300, env=cli_env())
    assert again.returncode == 1 and "already holds a run" in again.stderr


def test_cli_reports_a_bad_python_env(locus_cli, tmp_path):
    result = subprocess.run(
        [locus_cli, "train", "--env", "test_train:DictObservation", "--steps", "256", "--out",
         str(tmp_path / "run")], capture_output=True, text=True, timeout=300, env=cli_env())
    assert result.returncode == 2
    assert "locus: error:" in result.stderr and "observation space Dict" in result.stderr


def test_cli_says_how_to_install_the_package(locus_cli, tmp_path):
    bare = "/usr/bin/python3"
    if not os.access(bare, os.X_OK) or subprocess.run(
            [bare, "-c", "import locus"], capture_output=True).returncode == 0:
        pytest.skip("needs a python3 without the locus package")
    env = cli_env(bare)
    env.pop("PYTHONPATH")  # the build tree's package must not be found either
    result = subprocess.run(
        [locus_cli, "train", "--env", "test_train:GoToTarget", "--steps", "256", "--out",
         str(tmp_path / "run")], capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 1
    assert "cannot import it" in result.stderr and "pip install" in result.stderr
    assert "LOCUS_PYTHON" in result.stderr


def test_cli_passes_lists_flags_and_resume_on(locus_cli, tmp_path):
    out = tmp_path / "run"
    result = subprocess.run(
        [locus_cli, "train", "--env", "test_train:GoToTarget", "--seeds", "1,2", "--steps", "256",
         "--num-envs", "2", "--rollout-steps", "16", "--checkpoint-every", "4", "--quiet",
         "--out", str(out)], capture_output=True, text=True, timeout=300, env=cli_env())
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "summary.json").read_text())["seeds"] == [1, 2]
    resumed = subprocess.run([locus_cli, "train", "--resume", str(out), "--steps", "512",
                              "--precision", "float32"],
                             capture_output=True, text=True, timeout=300, env=cli_env())
    assert resumed.returncode == 0, resumed.stderr
    assert "with steps 512 (was 256)" in resumed.stderr
    assert json.loads((out / "config.json").read_text())["precision"] == "float32"
    conflict = subprocess.run([locus_cli, "train", "--resume", str(out), "--num-envs", "3"],
                              capture_output=True, text=True, timeout=300, env=cli_env())
    assert conflict.returncode == 2, conflict.stderr
    assert "num_envs is 2 in the saved run, 3 requested" in conflict.stderr
    for seed in (1, 2):
        assert json.loads((out / f"seed_{seed}" / "summary.json").read_text())["steps"] == 512


def test_both_command_lines_offer_the_same_train_flags(locus_cli):
    """`locus train` (C++) and python -m locus.cli train (Python envs) read one flag table."""
    import re

    from locus import cli

    def flags(help_text):
        return set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", help_text)) - {"--help"}

    native = subprocess.run([locus_cli, "train", "--help"], capture_output=True, text=True)
    assert native.returncode == 0, native.stderr
    parser, _ = cli._parser()
    train_parser = parser._subparsers._group_actions[0].choices["train"]
    python_flags = flags(train_parser.format_help())
    table = {flag["name"] for flag in locus._core.train_flags()}
    assert flags(native.stdout) == table
    assert python_flags == table
    assert {"--policy", "--hidden"} <= table  # the recurrent flags reach Python envs too


def test_cli_checks_and_rolls_out_a_python_env(locus_cli):
    # `locus check` and `locus rollout` hand a module:Name env over to the package, which runs the
    # C++ commands' own code on it: the lines are those of a C++ env.
    check = subprocess.run([locus_cli, "check", "test_train:GoToTarget", "--steps", "100"],
                           capture_output=True, text=True, timeout=300, env=cli_env())
    assert check.returncode == 0, check.stderr
    assert check.stdout.splitlines()[-1] == "test_train:GoToTarget: all checks passed (0 warnings)"
    assert "  ok    " in check.stdout
    args = ["rollout", "--env", "test_train:GoToTarget", "--episodes", "3", "--seed", "5"]
    rollout = subprocess.run([locus_cli, *args], capture_output=True, text=True, timeout=300,
                             env=cli_env())
    assert rollout.returncode == 0, rollout.stderr
    lines = rollout.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:3]] == ["episode   1", "episode   2",
                                                          "episode   3"]
    assert "steps/s (single env, random policy)" in lines[-1]
    again = subprocess.run([locus_cli, *args], capture_output=True, text=True, timeout=300,
                           env=cli_env())
    assert again.stdout.splitlines()[:3] == lines[:3]  # seeded
    # Spaces locus's agents refuse are fine to check (a Dict observation).
    dict_check = subprocess.run([locus_cli, "check", "test_train:DictObservation", "--steps", "50"],
                                capture_output=True, text=True, timeout=300, env=cli_env())
    assert dict_check.returncode == 0, dict_check.stderr
    missing = subprocess.run([locus_cli, "rollout", "--env", "test_train:NoSuchEnv"],
                             capture_output=True, text=True, timeout=300, env=cli_env())
    assert missing.returncode == 2 and "NoSuchEnv" in missing.stderr
