#!/usr/bin/env python3
"""Gymnasium is the oracle for locus's classic-control environments.

For every case (an env id with make() kwargs and first-reset options) and every seed, Gymnasium
runs a seeded feedback policy mixed with random actions, resetting (unseeded) whenever an episode
ends; the resulting action sequence is then fed to classic_control_dump (the locus side), and the
two trajectories must agree step by step:
  * observations within ATOL (libm's and numpy's sin/cos may differ in the last bit, and Acrobot's
    RK4 carries such a difference forward);
  * rewards equal to within REWARD_RTOL relative (absolute below 1; they are computed from the
    same float64 state, so only those last bits can separate them);
  * terminated and truncated exactly, and resets at the same steps.
The feedback policies reach the goal states (MountainCar's flag, Acrobot's line), so terminal
steps and resets in the middle of the run are compared too.

Usage: python3 tests/envs/gymnasium_oracle_classic_control.py /path/to/classic_control_dump
Exit status 0 when everything matches, 1 on a mismatch, 2 on a usage problem, 77 (CTest's skip)
when numpy or gymnasium is not installed.
"""

import json
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from oracle_common import (acrobot_policy, cartpole_policy, mountain_car_policy,  # noqa: E402
                           paired_lines, run_dump)

try:
    import numpy as np
    import gymnasium as gym
except ImportError as error:  # pragma: no cover - depends on the machine
    print(f"skipped: {error}")
    sys.exit(77)

SEEDS = [0, 1, 7, 42, 123, 2**32 + 5]
STEPS = 400
ATOL = 1e-5
REWARD_RTOL = 1e-12


def continuous_mountain_car_policy(obs, rng):
    r = rng.random()
    if r < 0.3:
        return np.float32(rng.uniform(-1.0, 1.0))
    if r < 0.4:
        return np.float32(0.0)
    return np.float32(1.0 if obs[1] > 0 else -1.0)


def pendulum_policy(obs, rng):
    if rng.random() < 0.3:
        return np.float32(rng.uniform(-2.0, 2.0))
    return np.float32(2.0 if obs[2] > 0 else -2.0)


# (env id, make() kwargs, options of the first reset, attributes set on the unwrapped env, policy)
CASES = [
    ("CartPole-v1", {}, None, {}, cartpole_policy),
    ("Acrobot-v1", {}, None, {}, acrobot_policy),
    ("Acrobot-v1", {}, {"low": -0.2, "high": 0.2}, {}, acrobot_policy),
    # Gymnasium's other documented settings: a smaller step, the NeurIPS equations, torque noise
    # (which draws from the env's generator between resets).
    ("Acrobot-v1", {}, None, {"dt": 0.1, "book_or_nips": "nips", "torque_noise_max": 0.2},
     acrobot_policy),
    ("MountainCar-v0", {}, None, {}, mountain_car_policy),
    ("MountainCar-v0", {"goal_velocity": 0.01}, {"low": -0.9, "high": -0.2}, {},
     mountain_car_policy),
    ("MountainCarContinuous-v0", {}, None, {}, continuous_mountain_car_policy),
    ("MountainCarContinuous-v0", {"goal_velocity": 0.02}, {"low": -1.1, "high": 0.3}, {},
     continuous_mountain_car_policy),
    ("Pendulum-v1", {}, None, {}, pendulum_policy),
    ("Pendulum-v1", {"g": 9.81}, {"x_init": 1.0, "y_init": 0.5}, {}, pendulum_policy),
]
# Envs whose policy must reach a terminal state at least once, so terminal steps are compared.
MUST_TERMINATE = {"CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0"}


def run_gymnasium(env_id, kwargs, options, attrs, policy, seed):
    """The reference trajectory and the actions that produced it, in the dump's line format."""
    env = gym.make(env_id, **kwargs)
    for key, value in attrs.items():
        setattr(env.unwrapped, key, value)
    rng = np.random.default_rng(seed + 1000)
    continuous = isinstance(env.action_space, gym.spaces.Box)
    obs, _ = env.reset(seed=seed, options=options)
    lines = [{"reset": obs}]
    actions = []
    for _ in range(STEPS):
        action = policy(obs, rng)
        actions.append(action)
        step_action = np.array([action], dtype=np.float32) if continuous else action
        obs, reward, terminated, truncated, _ = env.step(step_action)
        lines.append({"obs": obs, "reward": float(reward), "terminated": bool(terminated),
                      "truncated": bool(truncated)})
        if terminated or truncated:
            obs, _ = env.reset()
            lines.append({"reset": obs})
    env.close()
    return lines, actions


def run_locus(dump, env_id, kwargs, options, attrs, seed, actions):
    command = [dump, env_id, str(seed), "--kwargs", json.dumps(kwargs)]
    if options is not None:
        command += ["--options", json.dumps(options)]
    if attrs:
        command += ["--attrs", json.dumps(attrs)]
    # repr of the float32 value as a float64 is exact, so the dump reads back the same float32.
    text = "\n".join(repr(float(a)) if isinstance(a, np.floating) else str(a) for a in actions)
    return run_dump(command, text)


class Stats:
    def __init__(self):
        self.steps = 0
        self.observations = 0
        self.exact_observations = 0
        self.max_obs_diff = 0.0
        self.exact_rewards = 0
        self.max_reward_rel = 0.0
        self.terminations = 0
        self.truncations = 0


def compare(name, want_lines, got_lines, stats):
    """Returns a list of mismatch descriptions."""
    problems = []
    for where, kind, want, got, want_obs, got_obs in paired_lines(name, "gymnasium", want_lines,
                                                                  got_lines, problems):
        if want_obs.shape != got_obs.shape:
            problems.append(f"{where}: observation shape {got_obs.shape} vs {want_obs.shape}")
            break
        diff = float(np.max(np.abs(want_obs - got_obs))) if want_obs.size else 0.0
        stats.observations += 1
        stats.exact_observations += int(diff == 0.0)
        stats.max_obs_diff = max(stats.max_obs_diff, diff)
        if not diff <= ATOL:
            problems.append(f"{where}: {kind} {got_obs.tolist()} vs gymnasium {want_obs.tolist()} "
                            f"(max diff {diff:.3g})")
        if kind == "obs":
            stats.steps += 1
            stats.terminations += int(want["terminated"])
            stats.truncations += int(want["truncated"])
            for flag in ("terminated", "truncated"):
                if got[flag] != want[flag]:
                    problems.append(f"{where}: {flag} {got[flag]} vs gymnasium {want[flag]}")
            w, g = want["reward"], got["reward"]
            rel = abs(w - g) / max(abs(w), 1.0) if w != g else 0.0
            stats.exact_rewards += int(w == g)
            stats.max_reward_rel = max(stats.max_reward_rel, rel)
            if not rel <= REWARD_RTOL:
                problems.append(f"{where}: reward {g!r} vs gymnasium {w!r}")
        if len(problems) > 5:
            break
    return problems


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    dump = sys.argv[1]
    warnings.simplefilter("ignore")
    stats = Stats()
    problems = []
    for env_id, kwargs, options, attrs, policy in CASES:
        terminations_before = stats.terminations
        for seed in SEEDS:
            name = f"{env_id} kwargs={kwargs} options={options} attrs={attrs} seed={seed}"
            want, actions = run_gymnasium(env_id, kwargs, options, attrs, policy, seed)
            got = run_locus(dump, env_id, kwargs, options, attrs, seed, actions)
            found = compare(name, want, got, stats)
            for problem in found:
                print("MISMATCH", problem)
            problems += found
        if env_id in MUST_TERMINATE and stats.terminations == terminations_before:
            problem = f"{env_id} kwargs={kwargs}: the policy never reached a terminal state"
            print("COVERAGE", problem)
            problems.append(problem)
    summary = (f"classic control vs gymnasium {gym.__version__}: {len(CASES)} cases x "
               f"{len(SEEDS)} seeds, {stats.steps} steps ({stats.terminations} terminated, "
               f"{stats.truncations} truncated); observations bit-exact "
               f"{stats.exact_observations}/{stats.observations}, max |diff| "
               f"{stats.max_obs_diff:.3g} (atol {ATOL:g}); rewards bit-exact "
               f"{stats.exact_rewards}/{stats.steps}, max rel diff {stats.max_reward_rel:.3g}")
    print(summary + (": OK" if not problems else f": {len(problems)} MISMATCHES"))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
