#!/usr/bin/env python3
"""NeuroGym is the oracle for locus's PerceptualDecisionMaking-v0, DelayMatchSample-v0 and
ContextDecisionMaking-v0, as tests/envs/neurogym_oracle_gonogo.py is for GoNoGo-v0 (whose loader,
forced trial draws and set-up this script shares).

For every case and seed, NeuroGym's task runs a random policy (a non-zero action with probability
0.4, so there are aborted fixations, early, wrong, right and missing answers) on trials whose
conditions are forced (ground truth, coherence, sample, context, ...), and cognitive_dump replays
the same conditions and actions in locus; observations (float32), rewards, trial ends, per-step
targets, ground truths and NeuroGym's performance (which these tasks set only for a correct
answer) must agree exactly. Noise is off (sigma 0): with it, NeuroGym and locus draw from
different generators. Random period durations cannot be forced, so ContextDecisionMaking runs with
a fixed delay (its default is a truncated exponential; unit tests cover that).

locus's ContextDecisionMaking and PerceptualDecisionMaking keep the fixation cue on until the
decision (go_cue true, the task as published); NeuroGym 2.x turns it off after the fixation period
(its issues #231 and #279). The exact comparison uses go_cue false, NeuroGym's behaviour; the unit
tests check the go cue.

Usage: python3 tests/envs/neurogym_oracle_tasks.py /path/to/cognitive_dump
Exit status 0 when everything matches, 1 on a mismatch, 2 on a usage problem, 77 when numpy or
neurogym is not installed.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from oracle_common import paired_lines, run_dump  # noqa: E402
# Loads NeuroGym (or exits 77) and brings numpy.
import neurogym_oracle_gonogo as gonogo  # noqa: E402

np = gonogo.np
from neurogym.envs.native.contextdecisionmaking import ContextDecisionMaking  # noqa: E402
from neurogym.envs.native.delaymatchsample import DelayMatchSample  # noqa: E402
from neurogym.envs.native.perceptualdecisionmaking import PerceptualDecisionMaking  # noqa: E402

SEEDS = [0, 3, 11]
STEPS = 800
PDM_COHS = [0, 6.4, 12.8, 25.6, 51.2]
CDM_COHS = [5, 15, 50]


def pdm_trials(rng, count, n):
    """NeuroGym's draw indices (choice(choices), choice(cohs)) and locus's conditions."""
    indices, conditions = [], []
    for _ in range(count):
        g, c = int(rng.integers(n)), int(rng.integers(len(PDM_COHS)))
        indices += [g, c]
        conditions.append({"ground_truth": g + 1, "coh": PDM_COHS[c]})
    return indices, conditions


def dms_trials(rng, count, n):
    indices, conditions = [], []
    for _ in range(count):
        g, s = int(rng.integers(2)), int(rng.integers(n))
        indices += [g, s]  # choice([1, 2]), choice(theta)
        conditions.append({"ground_truth": g + 1, "sample": s})
    return indices, conditions


def cdm_trials(explicit, implicit_modality=0):
    def draw(rng, count, n):
        indices, conditions = [], []
        for _ in range(count):
            g, o = int(rng.integers(n)), int(rng.integers(n))
            k = int(rng.integers(2)) if explicit else 0
            c1, c2 = int(rng.integers(len(CDM_COHS))), int(rng.integers(len(CDM_COHS)))
            indices += [g, o, k, c1, c2]
            conditions.append({"ground_truth": g + 1, "other_choice": o + 1,
                               "context": k if explicit else implicit_modality,
                               "coh_1": CDM_COHS[c1],
                               "coh_2": CDM_COHS[c2]})
        return indices, conditions
    return draw


# (name, locus id, locus kwargs, NeuroGym class, its kwargs, ring size, trial drawer)
CASES = [
    ("PDM defaults", "PerceptualDecisionMaking-v0", {"sigma": 0, "go_cue": False},
     PerceptualDecisionMaking, {"sigma": 0}, 2, pdm_trials),
    ("PDM ring 4, dt 50, abort, rewards", "PerceptualDecisionMaking-v0",
     {"sigma": 0, "go_cue": False, "dim_ring": 4, "dt": 50, "abort": True,
      "timing": {"fixation": 200, "stimulus": 730, "delay": 150, "decision": 200},
      "rewards": {"abort": -0.3, "correct": 2.5, "fail": -1.0}},
     PerceptualDecisionMaking,
     {"sigma": 0, "dim_ring": 4, "dt": 50, "abort": True,
      "timing": {"fixation": 200, "stimulus": 730, "delay": 150, "decision": 200},
      "rewards": {"abort": -0.3, "correct": 2.5, "fail": -1.0}}, 4, pdm_trials),
    ("DMS defaults", "DelayMatchSample-v0", {"sigma": 0}, DelayMatchSample, {"sigma": 0}, 2,
     dms_trials),
    ("DMS ring 6, shorter delay", "DelayMatchSample-v0",
     {"sigma": 0, "dim_ring": 6, "timing": {"delay": 400, "decision": 300}},
     DelayMatchSample, {"sigma": 0, "dim_ring": 6, "timing": {"delay": 400, "decision": 300}}, 6,
     dms_trials),
    ("CDM implicit context 1", "ContextDecisionMaking-v0",
     {"sigma": 0, "go_cue": False, "impl_context_modality": 1, "timing": {"delay": 600}},
     ContextDecisionMaking, {"sigma": 0, "impl_context_modality": 1, "timing": {"delay": 600}}, 2,
     cdm_trials(False, implicit_modality=1)),
    ("CDM explicit context, ring 3, abort", "ContextDecisionMaking-v0",
     {"sigma": 0, "go_cue": False, "use_expl_context": True, "dim_ring": 3, "abort": True,
      "timing": {"delay": 300}},
     ContextDecisionMaking,
     {"sigma": 0, "use_expl_context": True, "dim_ring": 3, "abort": True,
      "timing": {"delay": 300}}, 3, cdm_trials(True)),
]


def run_neurogym(cls, kwargs, seed, indices):
    env = cls(**kwargs)
    env.reset(seed=seed)
    env.rng = gonogo.ForcedChoices(indices)
    env.t = env.t_ind = 0
    env.num_tr = 0
    env.performance = 0
    env.new_trial()
    obs = env.ob[0]
    lines = [{"reset": obs, "gt": int(env.gt[env.start_ind["decision"]])}]
    rng = np.random.default_rng(seed + 1000)
    actions = []
    for _ in range(STEPS):
        ground_truth = int(env.gt[env.start_ind["decision"]])  # the correct action
        action = int(rng.integers(1, env.action_space.n)) if rng.random() < 0.4 else 0
        actions.append(action)
        obs, reward, terminated, truncated, info = env.step(action)
        lines.append({"obs": obs, "reward": float(reward), "terminated": bool(terminated),
                      "truncated": bool(truncated), "new_trial": bool(info["new_trial"]),
                      "target": int(info["gt"]), "ground_truth": ground_truth,
                      "performance": info.get("performance")})
    return lines, actions


def run_locus(dump, env_id, kwargs, seed, conditions, actions):
    command = [dump, env_id, str(seed), "--kwargs", json.dumps(kwargs),
               "--trials", json.dumps(conditions)]
    return run_dump(command, "\n".join(map(str, actions)), shown_args=5)


def compare(name, want_lines, got_lines, stats):
    problems = []
    for where, kind, want, got, want_obs, got_obs in paired_lines(name, "NeuroGym", want_lines,
                                                                  got_lines, problems):
        if want_obs.shape != got_obs.shape or not np.array_equal(want_obs, got_obs):
            problems.append(f"{where}: observation {got_obs.tolist()} vs NeuroGym "
                            f"{want_obs.tolist()}")
        info = got["info"]
        if kind == "reset":
            if info["ground_truth"] != want["gt"]:
                problems.append(f"{where}: ground truth {info['ground_truth']} vs {want['gt']}")
            continue
        stats["steps"] += 1
        checks = [("reward", got["reward"], want["reward"]),
                  ("terminated", got["terminated"], want["terminated"]),
                  ("truncated", got["truncated"], want["truncated"]),
                  ("trial end", info["trial_ended"], want["new_trial"]),
                  ("target", info["target"], want["target"])]
        if info["trial_ended"] and want["new_trial"]:
            stats["trials"] += 1
            stats["outcomes"][info["outcome"]] = stats["outcomes"].get(info["outcome"], 0) + 1
            checks += [("ground truth", info["ground_truth"], want["ground_truth"]),
                       ("correct vs performance", info["correct"], bool(want["performance"]))]
        for what, mine, theirs in checks:
            if mine != theirs:
                problems.append(f"{where}: {what} {mine} vs NeuroGym {theirs}")
        if len(problems) > 10:
            problems.append("(more mismatches left out)")
            break
    return problems


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    dump = sys.argv[1]
    stats = {"steps": 0, "trials": 0, "outcomes": {}}
    problems = []
    for name, env_id, kwargs, cls, ngym_kwargs, n, draw in CASES:
        for seed in SEEDS:
            indices, conditions = draw(np.random.default_rng(seed + 2000), STEPS + 2, n)
            want, actions = run_neurogym(cls, ngym_kwargs, seed, indices)
            got = run_locus(dump, env_id, kwargs, seed, conditions, actions)
            problems += compare(f"{name} (seed {seed})", want, got, stats)
    missing = {"correct", "incorrect", "miss", "aborted"} - set(stats["outcomes"])
    if missing:
        problems.append(f"the cases never produced the outcomes {sorted(missing)}")
    print(f"NeuroGym {gonogo.NEUROGYM_VERSION} vs locus PerceptualDecisionMaking, "
          f"DelayMatchSample, ContextDecisionMaking: {len(CASES)} cases x {len(SEEDS)} seeds, "
          f"{stats['steps']} steps, {stats['trials']} trials {stats['outcomes']}")
    if problems:
        print(f"{len(problems)} mismatches:")
        for p in problems[:40]:
            print("  " + p)
        return 1
    print("all observations, rewards, trial ends, targets and scores match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
